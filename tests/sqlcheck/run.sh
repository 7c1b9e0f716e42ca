#!/usr/bin/env bash
# Checks the BigQuery rendering of every gold mart with sqlglot (pytest): each
# statement `worker gold render --dialect bigquery` prints must parse with
# sqlglot's BigQuery dialect, and, transpiled to DuckDB and run on the warehouse
# the demo built, give the same rows as the DuckDB rendering. See README.md.
#
# The virtualenv (sqlglot, duckdb, pytest, pinned in requirements.txt) is cached
# under ${XDG_CACHE_HOME:-~/.cache}/shoplake/ and reused while requirements.txt
# and the Python version are unchanged (a hash of them names it); older ones are
# removed. Needs python3 (3.10+), go, and PyPI on the first run. Extra arguments
# go to pytest:
#
#   tests/sqlcheck/run.sh                    # every mart
#   tests/sqlcheck/run.sh -k dim_customers   # some
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}

"$python" - <<'EOF'
import sys
if sys.version_info[:2] < (3, 10):
    sys.exit(f"tests/sqlcheck: needs Python 3.10 or later, {sys.executable} is {sys.version.split()[0]}")
EOF

cache=${XDG_CACHE_HOME:-${HOME:-$repo}/.cache}/shoplake
key=$({ cat "$here/requirements.txt"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)
venv=$cache/sqlcheck-venv-$key
mkdir -p "$cache"

# One installer at a time; a venv counts only once its install completed.
exec 9>"$cache/sqlcheck-venv.lock"
flock 9
if [ ! -f "$venv/.installed" ]; then
	echo "tests/sqlcheck: installing sqlglot and duckdb into $venv (once per requirements change)" >&2
	start=$SECONDS
	rm -rf "$venv"
	"$python" -m venv "$venv"
	"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --no-deps -r "$here/requirements.txt"
	"$venv/bin/python" -m pip check --disable-pip-version-check >/dev/null
	touch "$venv/.installed"
	echo "tests/sqlcheck: installed in $((SECONDS - start))s" >&2
	for old in "$cache"/sqlcheck-venv-*; do
		[ "$old" = "$venv" ] || rm -rf "$old"
	done
fi
flock -u 9

export PYTHONDONTWRITEBYTECODE=1
cd "$repo"
"$venv/bin/python" -m pytest -p no:cacheprovider -ra "$here" "$@"
