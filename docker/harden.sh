#!/usr/bin/env bash
# Runs the static worker the way docker/pod-template.yaml runs the image: as uid
# and gid 65532 (distroless "nonroot"), no new privileges, no capabilities, a
# read-only root file system, one writable tmpfs at /tmp (the pod's scratch
# volume: WORKER_WORK_DIR=/tmp/work) and HOME pointing nowhere. `make test` runs
# it after docker/build.sh, since no container engine runs in CI.
#
# It checks that the demo pipeline passes there, that the worker wrote nothing in
# /tmp but the work folder and the lake, and that a lake on the read-only root
# fails with exit 1 and a message naming the path, leaving nothing behind.
#   docker/harden.sh [BINARY]     (default: bin/worker-static)
set -euo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-bin/worker-static}")
[[ -x $bin ]] || { echo "harden.sh: $bin is not an executable (run docker/build.sh first)" >&2; exit 1; }

# A private mount namespace needs CAP_SYS_ADMIN (root in CI, in a container with it).
if ! unshare --mount --propagation private true 2>/dev/null; then
	echo "harden.sh: SKIPPED: this machine cannot make a mount namespace (unshare --mount), so the read-only, non-root run was not tested" >&2
	exit 0
fi

root=$(mktemp -d "${TMPDIR:-/tmp}/harden.XXXXXX")
out=$(mktemp -d "${TMPDIR:-/tmp}/harden-out.XXXXXX")
trap 'rm -rf "$root" "$out"' EXIT

# Inside the namespace: / bound read-only at $root, a tmpfs over its /tmp with the
# binary (root-owned, not writable by the worker), then chroot and drop to 65532.
# The script prints the exit codes and the worker's files for the checks below.
unshare --mount --propagation private bash -s "$root" "$bin" "$out" <<'EOF'
set -euo pipefail
root=$1 bin=$2 out=$3
mount --bind / "$root"
mount -o remount,bind,ro "$root"
mount -t tmpfs -o size=1g,mode=1777 tmpfs "$root/tmp"
mkdir -p "$root/tmp/bin" "$root/tmp/work" "$root/tmp/report"
cp "$bin" "$root/tmp/bin/worker"
chmod 0555 "$root/tmp/bin/worker" "$root/tmp/bin"
chown 65532:65532 "$root/tmp/work"
run() {
	chroot "$root" setpriv --reuid 65532 --regid 65532 --clear-groups --no-new-privs \
		--inh-caps=-all --bounding-set=-all \
		env -i HOME=/nonexistent PATH=/nonexistent WORKER_WORK_DIR=/tmp/work WORKER_LOG_FORMAT=json \
		WORKER_THREADS=2 WORKER_MEMORY_LIMIT=1GB /tmp/bin/worker "$@"
}
code=0
run --lake /tmp/lake demo --days 1 --scale 0.0005 >"$out/demo.out" 2>"$out/demo.err" || code=$?
echo "$code" >"$out/demo.code"
code=0
run --lake /var/lake bronze import --table orders --partition 2026-11-20 /tmp/bin/worker >"$out/ro.out" 2>"$out/ro.err" || code=$?
echo "$code" >"$out/ro.code"
# What the worker left in its writable /tmp, and whether it touched the root.
(cd "$root/tmp" && find . -mindepth 1 -maxdepth 1 | sort) >"$out/tmp.list"
[[ -e $root/var/lake ]] && echo yes >"$out/ro.exists" || true
EOF

fail() { echo "harden.sh: $*" >&2; exit 1; }
[[ $(cat "$out/demo.code") == 0 ]] || { tail -5 "$out/demo.err" >&2; fail "the demo failed as uid 65532 on a read-only root (exit $(cat "$out/demo.code"))"; }
grep -q "0 missing, 0 unexpected" "$out/demo.out" || fail "the demo's ledger check did not pass: $(tail -3 "$out/demo.out")"
[[ $(cat "$out/tmp.list") == $'./bin\n./lake\n./report\n./work' ]] || fail "the worker wrote outside its work folder and lake in /tmp: $(tr '\n' ' ' <"$out/tmp.list")"
[[ $(cat "$out/ro.code") == 1 ]] || fail "a lake on the read-only root exited $(cat "$out/ro.code"), want 1: $(tail -2 "$out/ro.err")"
grep -q "/var/lake" "$out/ro.err" || fail "the error of a lake on the read-only root does not name /var/lake: $(tail -2 "$out/ro.err")"
[[ ! -e $out/ro.exists ]] || fail "the read-only root holds /var/lake"
echo "harden.sh: $bin ok (uid 65532, no capabilities, read-only root, writes only to /tmp/work and the lake)"
