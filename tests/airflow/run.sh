#!/usr/bin/env bash
# Runs the Airflow DAG tests (pytest) on every Airflow version users may run: the one
# pinned for the local stack (3.1.8) and the newest 3.x release (3.3.2). Each version
# gets requirements.txt + apache-airflow==<version>, pinned by constraints-<version>.txt.
#
# Each version's virtualenv is cached under ${XDG_CACHE_HOME:-~/.cache}/shoplake/
# as airflow-<version>-<hash> and reused while requirements.txt, its constraints file
# and the Python version are unchanged (the hash covers them); older venvs of the same
# version are removed. Each run gets a throwaway AIRFLOW_HOME with a SQLite metadata
# DB. Needs python3 (3.10-3.13), go, network access to PyPI on a version's first run.
# Every version runs even when one fails; the exit code is non-zero if any failed.
# Extra arguments go to pytest:
#
#   tests/airflow/run.sh                              # everything, every version
#   tests/airflow/run.sh -k partition                 # some tests
#   AIRFLOW_VERSIONS=3.3.2 tests/airflow/run.sh       # one version
set -euo pipefail

here=$(cd "$(dirname "$0")" && pwd)
repo=$(cd "$here/../.." && pwd)
python=${PYTHON:-python3}
versions=${AIRFLOW_VERSIONS:-3.1.8 3.3.2}

"$python" - <<'PY'
import sys
if not ((3, 10) <= sys.version_info[:2] <= (3, 13)):
    sys.exit(f"tests/airflow: Airflow 3.1 needs Python 3.10 to 3.13 (3.3: 3.10 to 3.14), {sys.executable} is {sys.version.split()[0]}")
PY

cache=${XDG_CACHE_HOME:-${HOME:-$repo}/.cache}/shoplake
mkdir -p "$cache"

# venv_for VERSION: installs (once) and prints the venv of one Airflow version.
venv_for() {
	local version=$1 constraints=$here/constraints-$1.txt key venv start old
	if [ ! -f "$constraints" ]; then
		echo "tests/airflow: no $constraints; pin Airflow $version first (see tests/airflow/README.md)" >&2
		return 2
	fi
	key=$({ cat "$here/requirements.txt" "$constraints"; "$python" -c 'import sys; print(sys.version)'; } | sha256sum | cut -c1-16)
	venv=$cache/airflow-$version-$key
	# One installer per version at a time; a venv counts only once its install completed.
	exec 9>"$cache/airflow-$version.lock" && flock 9 || return 1
	if [ ! -f "$venv/.installed" ]; then
		echo "tests/airflow: installing Airflow $version into $venv (once per requirements change)" >&2
		start=$SECONDS
		# Called as a condition, where set -e does not apply: each step checks itself.
		rm -rf "$venv" &&
			"$python" -m venv "$venv" &&
			"$venv/bin/python" -m pip install --quiet --disable-pip-version-check --upgrade pip==25.3 >&2 &&
			"$venv/bin/python" -m pip install --quiet --disable-pip-version-check \
				"apache-airflow==$version" -r "$here/requirements.txt" -c "$constraints" >&2 &&
			touch "$venv/.installed" || {
			echo "tests/airflow: installing Airflow $version failed" >&2
			return 1
		}
		echo "tests/airflow: installed Airflow $version in $((SECONDS - start))s" >&2
		for old in "$cache/airflow-$version-"*; do
			[ "$old" = "$venv" ] || rm -rf "$old"
		done
	fi
	flock -u 9
	exec 9>&-
	echo "$venv"
}

# run_on VENV ARGS...: the pytest suite with one Airflow, in a fresh AIRFLOW_HOME
# (removed afterwards, also when the script is interrupted).
AIRFLOW_HOME=
trap '[ -z "$AIRFLOW_HOME" ] || rm -rf "$AIRFLOW_HOME"' EXIT
run_on() {
	local venv=$1 rc=0
	shift
	AIRFLOW_HOME=$(mktemp -d "${TMPDIR:-/tmp}/airflow-home.XXXXXX")
	(
		export AIRFLOW_HOME
		export AIRFLOW__CORE__DAGS_FOLDER=$AIRFLOW_HOME/dags
		export AIRFLOW__DATABASE__SQL_ALCHEMY_CONN=sqlite:///$AIRFLOW_HOME/airflow.db
		export AIRFLOW__CORE__LOAD_EXAMPLES=False
		export PYTHONDONTWRITEBYTECODE=1
		cd "$repo"
		"$venv/bin/python" -m pytest -p no:cacheprovider -ra "$here" "$@"
	) || rc=$?
	rm -rf "$AIRFLOW_HOME"
	AIRFLOW_HOME=
	return $rc
}

failed=()
for version in $versions; do
	echo "tests/airflow: Airflow $version" >&2
	if venv=$(venv_for "$version") && run_on "$venv" "$@"; then
		echo "tests/airflow: Airflow $version passed" >&2
	else
		failed+=("$version")
	fi
done
if [ ${#failed[@]} -gt 0 ]; then
	echo "tests/airflow: failed on Airflow ${failed[*]}" >&2
	exit 1
fi
