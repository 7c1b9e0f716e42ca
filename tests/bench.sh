#!/usr/bin/env bash
# make bench: base-silver performance per daily partition (DESIGN section 8).
#
# Generates BENCH_HISTORY+1 days of shop data at BENCH_SCALE (1.0 = the reference,
# ~1M orders a day), builds silver for the history days (setup, not measured), then
# measures `worker run --partition LAST --from silver --to silver` (then enriched and
# gold the same way) (wall time, peak
# RSS, rows/s over the rows_in of that run's silver.build audits) and the floor: a
# plain DuckDB COPY parquet -> parquet of the same day's bronze files, with the same
# memory limit and threads. Numbers are reported, never asserted.
#
# Settings (environment):
#   BENCH_SCALE         volume relative to the reference        (default 1.0)
#   BENCH_HISTORY       days of history before the measured day (default 7)
#   BENCH_START         first generated day                     (default 2026-11-01)
#   BENCH_SEED          generator seed                          (default 42)
#   BENCH_FAULT_RATE    fraction of bad rows                    (default 0.01)
#   BENCH_LAKE          lake folder (default: a temp dir, removed afterwards)
#   BENCH_KEEP=1        keep the temp lake
#   BENCH_THREADS       DuckDB threads       (default: the CPU quota, else nproc)
#   BENCH_MEMORY_LIMIT  DuckDB memory_limit  (default: 60% of the cgroup's or machine's memory, at most 640MB)
#   WORKER              the worker binary    (default: bin/worker, built if missing)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
SCALE=${BENCH_SCALE:-1.0}
HISTORY=${BENCH_HISTORY:-7}
START=${BENCH_START:-2026-11-01}
SEED=${BENCH_SEED:-42}
FAULT=${BENCH_FAULT_RATE:-0.01}
WORKER=${WORKER:-$ROOT/bin/worker}

die() { echo "bench: $*" >&2; exit 1; }

[[ $HISTORY =~ ^[0-9]+$ ]] || die "BENCH_HISTORY must be a whole number of days, got '$HISTORY'"
DAYS=$((HISTORY + 1))
LAST=$(date -u -d "$START + $HISTORY days" +%F) || die "BENCH_START '$START' is not a date"
PREV=$(date -u -d "$LAST - 1 day" +%F)

# The worker's own defaults, made explicit so the floor runs with the same ones.
default_threads() {
	local q p
	if [[ -r /sys/fs/cgroup/cpu.max ]] && read -r q p </sys/fs/cgroup/cpu.max && [[ $q != max ]]; then
		echo $(((q + p - 1) / p))
	else
		nproc
	fi
}
default_memory_limit() {
	local limit=max
	if [[ -r /sys/fs/cgroup/memory.max ]]; then
		limit=$(cat /sys/fs/cgroup/memory.max)
	elif [[ -r /sys/fs/cgroup/memory/memory.limit_in_bytes ]]; then
		limit=$(cat /sys/fs/cgroup/memory/memory.limit_in_bytes)
	fi
	# awk, not bash arithmetic: cgroup v1's "no limit" is close to 2^63.
	awk -v limit="$limit" '/^MemTotal:/ {
		bytes = $2 * 1024
		if (limit != "max" && limit + 0 > 0 && limit + 0 < bytes) bytes = limit + 0
		mb = int(bytes * 0.6 / 1048576)
		if (mb > 640) mb = 640 # duck.DefaultMemoryCap
		printf "%dMB\n", mb
	}' /proc/meminfo
}
THREADS=${BENCH_THREADS:-$(default_threads)}
MEM=${BENCH_MEMORY_LIMIT:-$(default_memory_limit)}

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")
if [[ -n ${BENCH_LAKE:-} ]]; then
	LAKE=$BENCH_LAKE
	[[ ! -e $LAKE/bronze ]] || die "BENCH_LAKE $LAKE already holds bronze data; give an empty or new folder"
else
	LAKE=$TMP/lake
fi
cleanup() {
	if [[ ${BENCH_KEEP:-} == 1 ]]; then
		echo "bench: kept $TMP" >&2
	else
		rm -rf "$TMP"
	fi
}
trap cleanup EXIT

if [[ ! -x $WORKER ]]; then
	(cd "$ROOT" && go build -o "$WORKER" ./worker) || die "cannot build the worker"
fi
FLOOR=$TMP/benchfloor
(cd "$ROOT" && go build -o "$FLOOR" ./tests/benchfloor) || die "cannot build tests/benchfloor"

# Peak RSS: GNU time if there is one (installed if we may), else /proc's VmHWM.
TIMEV=""
if [[ -x /usr/bin/time ]]; then
	TIMEV=/usr/bin/time
elif [[ $(id -u) == 0 ]] && command -v apt-get >/dev/null; then
	echo "bench: installing GNU time for peak RSS" >&2
	if apt-get install -y -qq time >/dev/null 2>&1 && [[ -x /usr/bin/time ]]; then
		TIMEV=/usr/bin/time
	fi
fi
[[ -n $TIMEV ]] || echo "bench: /usr/bin/time not found: peak RSS from /proc/<pid>/status (VmHWM), sampled" >&2

# measure NAME CMD...: runs CMD with stdout/stderr in $TMP/NAME.{out,err}; sets
# WALL (seconds), RSS_KB (peak resident set, kB) and RC.
measure() {
	local name=$1
	shift
	local t0 t1
	t0=$(date +%s.%N)
	RC=0
	if [[ -n $TIMEV ]]; then
		"$TIMEV" -v -o "$TMP/$name.time" "$@" >"$TMP/$name.out" 2>"$TMP/$name.err" || RC=$?
		t1=$(date +%s.%N)
		RSS_KB=$(awk -F': ' '/Maximum resident set size/ {print $2}' "$TMP/$name.time")
	else
		"$@" >"$TMP/$name.out" 2>"$TMP/$name.err" &
		local pid=$! hwm=0 v
		while kill -0 "$pid" 2>/dev/null; do
			v=$(awk '/^VmHWM:/ {print $2}' "/proc/$pid/status" 2>/dev/null || true)
			[[ -n $v ]] && ((v > hwm)) && hwm=$v
			sleep 0.05
		done
		wait "$pid" || RC=$?
		t1=$(date +%s.%N)
		RSS_KB=$hwm
	fi
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
	if ((RC != 0)); then
		echo "bench: $name exited $RC (see below); its numbers are not a clean measurement" >&2
		tail -n 5 "$TMP/$name.err" "$TMP/$name.out" >&2 || true
	fi
}

# sum_field FIELD FILE...: adds up "FIELD": N over JSON files.
sum_field() {
	local field=$1
	shift
	cat "$@" 2>/dev/null | grep -o "\"$field\": *[0-9]*" | awk -F: '{s += $2} END {printf "%d", s}'
}

export WORKER_LOG_FORMAT=json WORKER_THREADS=$THREADS WORKER_MEMORY_LIMIT=$MEM WORKER_WORK_DIR=$TMP/work
W=("$WORKER" --lake "$LAKE")

echo "bench: scale $SCALE, $HISTORY day(s) of history + $LAST measured, seed $SEED, fault rate $FAULT"
echo "bench: threads $THREADS, memory limit $MEM, lake $LAKE"

ROWS=() WALLS=() RSSS=() NAMES=()
record() { NAMES+=("$1"); WALLS+=("$WALL"); RSSS+=("$RSS_KB"); ROWS+=("$2"); }

measure generate "${W[@]}" generate --days "$DAYS" --start "$START" --scale "$SCALE" --seed "$SEED" --fault-rate "$FAULT"
((RC == 0)) || die "generate failed"
record "generate ($DAYS days, all tables)" "$(sum_field row_count "$LAKE"/bronze/*/*/_MANIFEST.json)"

if ((HISTORY > 0)); then
	# The whole graph: as-of transforms and SCD2 marts of the measured day read history.
	measure history "${W[@]}" --run-id bench-history run --start "$START" --end "$PREV"
	record "history: run $START..$PREV (setup)" "$(sum_field rows_in "$LAKE"/_audit/dt=*/bench-history/silver.build.*.json)"
fi

RUN_ID=bench-$(date -u +%Y%m%dT%H%M%SZ)
measure silver "${W[@]}" --run-id "$RUN_ID" run --partition "$LAST" --from silver --to silver
SILVER_WALL=$WALL SILVER_RC=$RC
SILVER_ROWS=$(sum_field rows_in "$LAKE/_audit/dt=$LAST/$RUN_ID"/silver.build.*.json)
record "silver: run $LAST --from silver --to silver" "$SILVER_ROWS"

# Enriched (dims refresh + the 10 transforms, gates, publish) and gold (loads + marts)
# of the same day, each in its own process so peak RSS is the stage's own.
measure enriched "${W[@]}" --run-id "$RUN_ID" run --partition "$LAST" --from dims --to enriched
ENRICHED_WALL=$WALL
record "enriched: run $LAST --from dims --to enriched" "$(sum_field rows_out "$LAKE/_audit/dt=$LAST/$RUN_ID"/enriched.build.*.json)"
measure gold "${W[@]}" --run-id "$RUN_ID" run --partition "$LAST" --from gold --to gold
GOLD_WALL=$WALL
record "gold: run $LAST --from gold --to gold" "$(sum_field rows_out "$LAKE/_audit/dt=$LAST/$RUN_ID"/gold.build.*.json)"

# The floor copies exactly the files the day's bronze manifests list.
FILES=()
for m in "$LAKE"/bronze/*/*="$LAST"/_MANIFEST.json; do
	d=$(dirname "$m")
	while read -r p; do
		FILES+=("$d/$p")
	done < <(grep -o '"path": *"[^"]*"' "$m" | sed 's/.*: *"\(.*\)"/\1/')
done
((${#FILES[@]} > 0)) || die "no bronze files for $LAST"
measure floor "$FLOOR" -out "$TMP/floor" -memory-limit "$MEM" -threads "$THREADS" "${FILES[@]}"
((RC == 0)) || die "the floor failed"
FLOOR_WALL=$WALL
record "floor: duckdb COPY of $LAST's bronze" "$(sed -n 's/.*rows=\([0-9]*\).*/\1/p' "$TMP/floor.out")"

echo
printf '%-44s %9s %12s %12s %12s\n' phase wall_s peak_rss_MB rows rows/s
for i in "${!NAMES[@]}"; do
	awk -v n="${NAMES[$i]}" -v w="${WALLS[$i]}" -v r="${RSSS[$i]}" -v rows="${ROWS[$i]}" 'BEGIN {
		rate = (w > 0) ? rows / w : 0
		printf "%-44s %9.2f %12.0f %12d %12.0f\n", n, w, r / 1024, rows, rate
	}'
done
echo
awk -v s="$SILVER_WALL" -v f="$FLOOR_WALL" 'BEGIN {
	if (f > 0) printf "worker/floor ratio (silver): %.2f   (target <= 1.5)\n", s / f
}'
echo "targets per day at scale 1.0 on 2 cores (DESIGN section 8): base silver < 20 s and < 1024 MB peak RSS;"
echo "  enriched < 30 s and < 2048 MB (measured: ${ENRICHED_WALL} s); gold < 15 s (measured: ${GOLD_WALL} s)"
if ((SILVER_RC != 0)); then
	echo "bench: the measured silver run exited $SILVER_RC" >&2
	exit "$SILVER_RC"
fi
