#!/usr/bin/env bash
# Runs the Airflow DAG tests (pytest) with the real Airflow pinned in
# requirements.txt + constraints.txt.
#
# The virtualenv is cached under ${XDG_CACHE_HOME:-~/.cache}/shoplake/ and reused
# while requirements.txt, constraints.txt and the Python version are unchanged (a
# hash of them names it); older ones are removed. Each run gets a throwaway
# AIRFLOW_HOME with a SQLite metadata DB. Needs python3 (3.10-3.13), go, network
# access to PyPI on the first run. Extra arguments go to pytest:
#
#   tests/airflow/run.sh                 # everything
#   tests/airflow/run.sh -k partition    # some tests
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}

"$python" - <<'EOF'
import sys
if not ((3, 10) <= sys.version_info[:2] <= (3, 13)):
    sys.exit(f"tests/airflow: Airflow 3.1 needs Python 3.10 to 3.13, {sys.executable} is {sys.version.split()[0]}")
EOF

cache=${XDG_CACHE_HOME:-${HOME:-$repo}/.cache}/shoplake
key=$({ cat "$here/requirements.txt" "$here/constraints.txt"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)
venv=$cache/airflow-venv-$key
mkdir -p "$cache"

# One installer at a time; a venv counts only once its install completed.
exec 9>"$cache/airflow-venv.lock"
flock 9
if [ ! -f "$venv/.installed" ]; then
	echo "tests/airflow: installing Airflow into $venv (once per requirements change)" >&2
	start=$SECONDS
	rm -rf "$venv"
	"$python" -m venv "$venv"
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
		-r "$here/requirements.txt" -c "$here/constraints.txt"
	touch "$venv/.installed"
	echo "tests/airflow: installed in $((SECONDS - start))s" >&2
	for old in "$cache"/airflow-venv-*; do
		[ "$old" = "$venv" ] || rm -rf "$old"
	done
fi
flock -u 9

AIRFLOW_HOME=$(mktemp -d "${TMPDIR:-/tmp}/airflow-home.XXXXXX")
export AIRFLOW_HOME
trap 'rm -rf "$AIRFLOW_HOME"' EXIT
export AIRFLOW__CORE__DAGS_FOLDER=$AIRFLOW_HOME/dags
export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///$AIRFLOW_HOME/airflow.db
export AIRFLOW__CORE__LOAD_EXAMPLES=False
export PYTHONDONTWRITEBYTECODE=1

cd "$repo"
"$venv/bin/python" -m pytest -p no:cacheprovider -ra "$here" "$@"
