#!/usr/bin/env bash
# make bench: what a daily partition costs (DESIGN section 8, issue 11). Numbers are
# reported, never asserted. Every measured stage is its own `worker run` process
# under /usr/bin/time -v (wall time, peak RSS; rows/s over the rows its audits count).
#
# Two series:
#  scales  for each of BENCH_SCALES, one day (after BENCH_HISTORY days of history,
#          built first and not measured): silver (8 tables: build, gate, publish),
#          enriched (dims refresh, 10 transforms, gates, publish), gold (loads and
#          marts), and the floor: a plain DuckDB COPY parquet -> parquet of the same
#          day's bronze files (tests/benchfloor) with the worker's memory limit and
#          threads. Time should grow about linearly with the scale, peak RSS stay flat.
#  growth  at BENCH_GROWTH_SCALE, the same last day's silver and enriched after each
#          history length of BENCH_GROWTH_DAYS (the history built by one `worker run
#          --from silver --to enriched` over its days, not measured). The ratio of the
#          longest history's time to the shortest's should stay near 1.0.
#
# Generated bronze is deterministic per seed, scale, days and generator source, so it
# is cached (hard-linked into each lake) under $BENCH_CACHE/bench-<key>/; silver and
# everything after it is rebuilt by the current worker on every run.
#
# Prints the tables, the silver/floor and history-growth ratios and the targets of
# issue 11 (judged on the scale 1.0 run, when there is one), and writes every figure
# with the machine, commit and settings to $BENCH_RESULTS as JSON.
#
# The default settings took 75 minutes on the 2-core machine of bench/NOTES.md while
# four test suites ran beside it (a quiet machine is several times faster; the 30-day
# history build is the long pole); a quick run: BENCH_SCALES=0.1 BENCH_GROWTH_DAYS="1 5".
#
# Settings (environment):
#   BENCH_SCALES        scales of the one-day series, 1.0 = the reference (default "0.1 1 3";
#                       BENCH_SCALE, if set alone, is a one-scale series)
#   BENCH_HISTORY       days of history before the measured day in the scale series (default 0)
#   BENCH_GROWTH_SCALE  scale of the growth series                 (default 0.1)
#   BENCH_GROWTH_DAYS   history lengths of the growth series       (default "1 30"; "" skips it)
#   BENCH_START         first generated day                        (default 2026-11-01)
#   BENCH_SEED          generator seed                             (default 42)
#   BENCH_FAULT_RATE    fraction of bad rows                       (default 0.01)
#   BENCH_THREADS       DuckDB threads       (default: the worker's, the CPU quota)
#   BENCH_MEMORY_LIMIT  DuckDB memory_limit  (default: the worker's, 60% of the cgroup's or machine's memory, at most 640MB)
#   BENCH_CACHE         cache folder for generated bronze, "off" for none
#                       (default $SHOPLAKE_CACHE, else $XDG_CACHE_HOME/shoplake, else ~/.cache/shoplake)
#   BENCH_RESULTS       the JSON results file  (default bench/results.json in the repository)
#   BENCH_LAKE          folder for the lakes (default: a temp dir, removed afterwards)
#   BENCH_KEEP=1        keep the temp dir (lakes, logs)
#   WORKER              the worker binary    (default: bin/worker, built if missing)
set -euo pipefail

ROOT=$(cd "$(dirname "${BASH_SOURCE[0]}")/.." && pwd)
if [[ -n ${BENCH_SCALES:-} ]]; then
	SCALES=$BENCH_SCALES
elif [[ -n ${BENCH_SCALE:-} ]]; then
	SCALES=$BENCH_SCALE
else
	SCALES="0.1 1 3"
fi
HISTORY=${BENCH_HISTORY:-0}
GROWTH_SCALE=${BENCH_GROWTH_SCALE:-0.1}
GROWTH_DAYS=${BENCH_GROWTH_DAYS-1 30}
START=${BENCH_START:-2026-11-01}
SEED=${BENCH_SEED:-42}
FAULT=${BENCH_FAULT_RATE:-0.01}
WORKER=${WORKER:-$ROOT/bin/worker}
RESULTS=${BENCH_RESULTS:-$ROOT/bench/results.json}

die() { echo "bench: $*" >&2; exit 1; }

is_days() { [[ $1 =~ ^[0-9]+$ ]]; }
is_scale() { [[ $1 =~ ^[0-9]*\.?[0-9]+$ ]] && awk -v s="$1" 'BEGIN {exit !(s > 0)}'; }
is_days "$HISTORY" || die "BENCH_HISTORY must be a whole number of days, got '$HISTORY'"
for s in $SCALES; do is_scale "$s" || die "BENCH_SCALES: '$s' is not a positive scale"; done
[[ -n $SCALES ]] || die "BENCH_SCALES is empty"
is_scale "$GROWTH_SCALE" || die "BENCH_GROWTH_SCALE: '$GROWTH_SCALE' is not a positive scale"
for h in $GROWTH_DAYS; do
	is_days "$h" && ((h > 0)) || die "BENCH_GROWTH_DAYS: '$h' is not a positive number of days"
done
[[ $SEED =~ ^[0-9]+$ ]] || die "BENCH_SEED must be a whole number, got '$SEED'"
date -u -d "$START" +%F >/dev/null 2>&1 || die "BENCH_START '$START' is not a date"

# day N: the date N days after BENCH_START.
day() { date -u -d "$START + $1 days" +%F; }

if [[ ${BENCH_CACHE:-} == off ]]; then
	CACHE=""
elif [[ -n ${BENCH_CACHE:-} ]]; then
	CACHE=$BENCH_CACHE
elif [[ -n ${SHOPLAKE_CACHE:-} ]]; then
	CACHE=$SHOPLAKE_CACHE
elif [[ -n ${XDG_CACHE_HOME:-} ]]; then
	CACHE=$XDG_CACHE_HOME/shoplake
elif [[ -n ${HOME:-} ]]; then
	CACHE=$HOME/.cache/shoplake
else
	CACHE=$ROOT/.cache
fi

TMP=$(mktemp -d "${TMPDIR:-/tmp}/bench.XXXXXX")
LAKES=${BENCH_LAKE:-$TMP/lakes}
mkdir -p "$LAKES"
cleanup() {
	if [[ ${BENCH_KEEP:-} == 1 || -n ${BENCH_LAKE:-} ]]; then
		echo "bench: kept $TMP (logs) and $LAKES (lakes)" >&2
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
	RSS_KB=${RSS_KB:-0}
	WALL=$(awk -v a="$t0" -v b="$t1" 'BEGIN {printf "%.2f", b - a}')
	if ((RC != 0)); then
		echo "bench: $name exited $RC (see below); its numbers are not a clean measurement" >&2
		tail -n 5 "$TMP/$name.err" "$TMP/$name.out" >&2 || true
		FAILED=1
	fi
}

# sum_field FIELD FILE...: adds up "FIELD": N over JSON files.
sum_field() {
	local field=$1
	shift
	cat "$@" 2>/dev/null | grep -o "\"$field\": *[0-9]*" | awk -F: '{s += $2} END {printf "%d", s}'
}

# Every figure is one line of $TSV: series scale history stage wall_s rss_kb rows exit_code note.
TSV=$TMP/results.tsv
: >"$TSV"
record() { # SERIES SCALE HISTORY STAGE ROWS [NOTE]: the last measure's figures
	printf '%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\t%s\n' "$1" "$2" "$3" "$4" "$WALL" "$RSS_KB" "$5" "$RC" "${6:-}" >>"$TSV"
}
FAILED=0

# The generator's inputs: a change to any of them changes the bronze it writes.
GEN_SHA=$(cd "$ROOT" && cat $(ls tasks/generate/*.go | grep -v '_test\.go$') internal/lake/manifest.go specs/shop/pipeline.yaml | sha256sum | cut -c1-16)

# bronze_lake LAKE DAYS SCALE SERIES: LAKE holds DAYS generated days at SCALE from
# BENCH_START: hard links to the cached bronze (a copy across file systems), else
# generated (and recorded as the series' generate stage) and then cached. Lake
# objects are replaced by rename, never rewritten in place, so links are safe.
bronze_lake() {
	local lake=$1 days=$2 scale=$3 series=$4 history=$(($2 - 1))
	local key dir=""
	key=$(printf '%s\n' "$GEN_SHA" "$days" "$START" "$scale" "$SEED" "$FAULT" | sha256sum | cut -c1-16)
	[[ -z $CACHE ]] || dir=$CACHE/bench-$key
	rm -rf "$lake"
	if [[ -n $dir && -f $dir/.complete ]]; then
		cp -al "$dir/lake" "$lake" 2>/dev/null || { rm -rf "$lake" && cp -a "$dir/lake" "$lake"; }
		WALL=0 RSS_KB=0 RC=0
		record "$series" "$scale" "$history" generate "$(sum_field row_count "$lake"/bronze/*/*/_MANIFEST.json)" "cached: $dir"
		return
	fi
	mkdir -p "$lake"
	measure "generate-$series-$scale-$days" "$WORKER" --lake "$lake" generate --days "$days" --start "$START" \
		--scale "$scale" --seed "$SEED" --fault-rate "$FAULT"
	((RC == 0)) || die "generate of $days day(s) at scale $scale failed"
	record "$series" "$scale" "$history" generate "$(sum_field row_count "$lake"/bronze/*/*/_MANIFEST.json)"
	if [[ -n $dir ]]; then
		rm -rf "$dir.tmp"
		mkdir -p "$dir.tmp"
		cp -al "$lake" "$dir.tmp/lake" 2>/dev/null || { rm -rf "$dir.tmp/lake" && cp -a "$lake" "$dir.tmp/lake"; }
		printf 'days=%s start=%s scale=%s seed=%s fault_rate=%s generator=%s\n' "$days" "$START" "$scale" "$SEED" "$FAULT" "$GEN_SHA" >"$dir.tmp/settings"
		touch "$dir.tmp/.complete"
		rm -rf "$dir" && mv "$dir.tmp" "$dir"
	fi
}

# publish_share AUDIT...: what the stage's publishes took, from their audits (part of
# the stage's wall time, no process of their own): sets WALL, RSS_KB=0, RC and
# PUBLISH_NOTE with the bytes they placed and how many of them were not copied.
publish_share() {
	local ms bytes kept
	ms=$(sum_field duration_ms "$@")
	bytes=$(sum_field bytes "$@")
	kept=$(sum_field bytes_not_copied "$@")
	WALL=$(awk -v ms="$ms" 'BEGIN {printf "%.2f", ms / 1000}') RSS_KB=0 RC=0
	PUBLISH_NOTE=$(awk -v b="$bytes" -v k="$kept" 'BEGIN {printf "within the stage; %.1f MB placed, %.1f MB of it not copied (hard links)", b / 1e6, k / 1e6}')
}

export WORKER_LOG_FORMAT=json WORKER_WORK_DIR=$TMP/work
[[ -z ${BENCH_THREADS:-} ]] || export WORKER_THREADS=$BENCH_THREADS
[[ -z ${BENCH_MEMORY_LIMIT:-} ]] || export WORKER_MEMORY_LIMIT=$BENCH_MEMORY_LIMIT
FLOOR_ARGS=()
[[ -z ${BENCH_THREADS:-} ]] || FLOOR_ARGS+=(-threads "$BENCH_THREADS")
[[ -z ${BENCH_MEMORY_LIMIT:-} ]] || FLOOR_ARGS+=(-memory-limit "$BENCH_MEMORY_LIMIT")
# Without settings the floor takes the worker's own defaults (internal/duck) and
# prints them: they are the settings every stage ran with.
"$FLOOR" -print-settings "${FLOOR_ARGS[@]}" >"$TMP/settings.out" || die "benchfloor -print-settings failed"
THREADS=$(sed -n 's/.*threads=\([0-9]*\).*/\1/p' "$TMP/settings.out")
MEM=$(sed -n 's/.*memory_limit=\([^ ]*\).*/\1/p' "$TMP/settings.out")
LOAD_START=$(cut -d' ' -f1-3 /proc/loadavg)
# The tree as the run starts (the worker under test), not as it ends.
COMMIT=$(cd "$ROOT" && git rev-parse HEAD 2>/dev/null || echo unknown)
DIRTY=false
[[ -z $(cd "$ROOT" && git status --porcelain --untracked-files=no 2>/dev/null | grep -v ' bench/results.json$') ]] || DIRTY=true
VERSION=$("$WORKER" --version 2>/dev/null | awk '{print $NF}')

echo "bench: scales $SCALES (one day after $HISTORY day(s) of history); growth at scale $GROWTH_SCALE after ${GROWTH_DAYS:-no} day(s) of history"
echo "bench: seed $SEED, fault rate $FAULT, threads $THREADS, memory limit $MEM, load average $LOAD_START"
echo "bench: cache ${CACHE:-off}, lakes $LAKES"

# --- scales: one day per scale ------------------------------------------------
LAST=$(day "$HISTORY")
for scale in $SCALES; do
	lake=$LAKES/scale-$scale
	echo "bench: scale $scale ..." >&2
	bronze_lake "$lake" $((HISTORY + 1)) "$scale" scale
	W=("$WORKER" --lake "$lake")
	if ((HISTORY > 0)); then
		# The whole graph: as-of transforms and SCD2 marts of the measured day read history.
		measure "history-$scale" "${W[@]}" --run-id bench-history run --start "$START" --end "$(day $((HISTORY - 1)))"
		record scale "$scale" "$HISTORY" history "$(sum_field rows_in "$lake"/_audit/dt=*/bench-history/silver.build.*.json)" "setup, not measured"
	fi
	run=bench-$scale
	audits=$lake/_audit/dt=$LAST/$run
	measure "silver-$scale" "${W[@]}" --run-id "$run" run --partition "$LAST" --from silver --to silver
	record scale "$scale" "$HISTORY" silver "$(sum_field rows_in "$audits"/silver.build.*.json)"
	publish_share "$audits"/publish.silver.*.json
	record scale "$scale" "$HISTORY" "silver publish" "$(sum_field rows_out "$audits"/publish.silver.*.json)" "$PUBLISH_NOTE"
	measure "enriched-$scale" "${W[@]}" --run-id "$run" run --partition "$LAST" --from dims --to enriched
	record scale "$scale" "$HISTORY" enriched "$(sum_field rows_out "$audits"/enriched.build.*.json)"
	measure "gold-$scale" "${W[@]}" --run-id "$run" run --partition "$LAST" --from gold --to gold
	record scale "$scale" "$HISTORY" gold "$(sum_field rows_out "$audits"/gold.build.*.json)"
	# The floor copies exactly the files the day's bronze manifests list.
	files=()
	for m in "$lake"/bronze/*/*="$LAST"/_MANIFEST.json; do
		d=$(dirname "$m")
		while read -r p; do
			files+=("$d/$p")
		done < <(grep -o '"path": *"[^"]*"' "$m" | sed 's/.*: *"\(.*\)"/\1/')
	done
	((${#files[@]} > 0)) || die "no bronze files for $LAST at scale $scale"
	measure "floor-$scale" "$FLOOR" -out "$TMP/floor-$scale" "${FLOOR_ARGS[@]}" "${files[@]}"
	((RC == 0)) || die "the floor failed at scale $scale"
	record scale "$scale" "$HISTORY" floor "$(sed -n 's/.*rows=\([0-9]*\).*/\1/p' "$TMP/floor-$scale.out")"
	rm -rf "$TMP/floor-$scale"
	[[ -n ${BENCH_LAKE:-} || ${BENCH_KEEP:-} == 1 ]] || rm -rf "$lake"
done

# --- growth: the same day after each history length ---------------------------
for h in $GROWTH_DAYS; do
	lake=$LAKES/growth-$h
	echo "bench: growth, $h day(s) of history ..." >&2
	bronze_lake "$lake" $((h + 1)) "$GROWTH_SCALE" growth
	W=("$WORKER" --lake "$lake")
	last=$(day "$h")
	# Silver to enriched is what a day's silver and enriched read; gold is not needed.
	measure "growth-history-$h" "${W[@]}" --run-id bench-history run --start "$START" --end "$(day $((h - 1)))" --from silver --to enriched
	((RC == 0)) || echo "bench: the history of $h day(s) did not build cleanly: the growth figures read what it committed" >&2
	record growth "$GROWTH_SCALE" "$h" history "$(sum_field rows_in "$lake"/_audit/dt=*/bench-history/silver.build.*.json)" "setup, not measured"
	run=bench-growth-$h
	audits=$lake/_audit/dt=$last/$run
	measure "growth-silver-$h" "${W[@]}" --run-id "$run" run --partition "$last" --from silver --to silver
	record growth "$GROWTH_SCALE" "$h" silver "$(sum_field rows_in "$audits"/silver.build.*.json)"
	measure "growth-enriched-$h" "${W[@]}" --run-id "$run" run --partition "$last" --from dims --to enriched
	record growth "$GROWTH_SCALE" "$h" enriched "$(sum_field rows_out "$audits"/enriched.build.*.json)"
	[[ -n ${BENCH_LAKE:-} || ${BENCH_KEEP:-} == 1 ]] || rm -rf "$lake"
done
LOAD_END=$(cut -d' ' -f1-3 /proc/loadavg)

# --- report ---------------------------------------------------------------------
CPU=$(awk -F': *' '/^model name/ {print $2; exit}' /proc/cpuinfo)
MEMTOTAL=$(awk '/^MemTotal:/ {printf "%.0f", $2 * 1024}' /proc/meminfo)

mkdir -p "$(dirname "$RESULTS")"
awk -F'\t' -v scales="$SCALES" -v growth_days="$GROWTH_DAYS" -v growth_scale="$GROWTH_SCALE" \
	-v history="$HISTORY" -v start="$START" -v seed="$SEED" -v fault="$FAULT" -v threads="$THREADS" \
	-v mem="$MEM" -v mem_src="${BENCH_MEMORY_LIMIT:+BENCH_MEMORY_LIMIT}" -v cache="${CACHE:-off}" \
	-v commit="$COMMIT" -v dirty="$DIRTY" -v version="$VERSION" -v cpu="$CPU" -v cores="$(nproc)" \
	-v memtotal="$MEMTOTAL" -v load_start="$LOAD_START" -v load_end="$LOAD_END" \
	-v created="$(date -u +%Y-%m-%dT%H:%M:%SZ)" -v report="$TMP/report.txt" '
function q(s) { gsub(/\\/, "\\\\", s); gsub(/"/, "\\\"", s); gsub(/\t/, " ", s); return "\"" s "\"" }
function rate(rows, wall) { return wall > 0 ? rows / wall : 0 }
function num(x) { return sprintf("%.4g", x) + 0 }
function list(s, quoted,   a, n, i, out) {
	n = split(s, a, " "); out = ""
	for (i = 1; i <= n; i++) out = out (i > 1 ? ", " : "") (quoted ? q(a[i]) : a[i] + 0)
	return "[" out "]"
}
function judge(name, target, observed, ok, unit) {
	nt++; tname[nt] = name; ttarget[nt] = target; tobs[nt] = observed; tunit[nt] = unit
	tmet[nt] = (observed == "") ? "" : (ok ? "true" : "false")
}
{
	n++; series[n] = $1; scale[n] = $2; hist[n] = $3; stage[n] = $4; wall[n] = $5; rss[n] = $6; rows[n] = $7; rc[n] = $8; note[n] = $9
	key = $1 "|" $2 "|" $3 "|" $4; W[key] = $5; R[key] = $6; C[key] = $8
}
END {
	print "" > report
	# Scale series table.
	printf "== one day at each scale, after %d day(s) of history (threads %s, memory limit %s)\n", history, threads, mem > report
	printf "%-15s %6s %9s %12s %12s %12s  %s\n", "stage", "scale", "wall_s", "peak_rss_MB", "rows", "rows/s", "note" > report
	for (i = 1; i <= n; i++) if (series[i] == "scale")
		printf "%-15s %6s %9.2f %12.0f %12d %12.0f  %s\n", stage[i], scale[i], wall[i], rss[i] / 1024, rows[i], rate(rows[i], wall[i]), (rc[i] != 0 ? "EXIT " rc[i] " " : "") note[i] > report
	ns = split(scales, S, " ")
	printf "silver/floor ratio:" > report
	for (i = 1; i <= ns; i++) {
		s = W["scale|" S[i] "|" history "|silver"]; f = W["scale|" S[i] "|" history "|floor"]
		if (f > 0) { floor_ratio[S[i]] = s / f; printf "  scale %s: %.2f", S[i], s / f > report }
	}
	printf "   (target <= 1.5)\n" > report
	if (ns > 1) {
		lo = S[1]; hi = S[ns]
		printf "from scale %s to %s (x%.3g the data):", lo, hi, hi / lo > report
		split("silver enriched gold floor", st, " ")
		for (j = 1; j <= 4; j++) {
			a = W["scale|" lo "|" history "|" st[j]]; b = W["scale|" hi "|" history "|" st[j]]
			ra = R["scale|" lo "|" history "|" st[j]]; rb = R["scale|" hi "|" history "|" st[j]]
			if (a > 0 && ra > 0) printf "  %s time x%.3g, peak RSS x%.3g", st[j], b / a, rb / ra > report
		}
		printf "   (linear: time x%.3g, peak RSS flat)\n", hi / lo > report
	}
	# Growth series table.
	ng = split(growth_days, G, " ")
	if (ng > 0) {
		printf "\n== history growth at scale %s: the last day after each history length\n", growth_scale > report
		printf "%-15s %12s %9s %12s %12s %12s  %s\n", "stage", "history_days", "wall_s", "peak_rss_MB", "rows", "rows/s", "note" > report
		for (i = 1; i <= n; i++) if (series[i] == "growth")
			printf "%-15s %12s %9.2f %12.0f %12d %12.0f  %s\n", stage[i], hist[i], wall[i], rss[i] / 1024, rows[i], rate(rows[i], wall[i]), (rc[i] != 0 ? "EXIT " rc[i] " " : "") note[i] > report
	}
	if (ng > 1) {
		g0 = G[1]; g1 = G[ng]
		for (i = 2; i <= ng; i++) { if (G[i] + 0 < g0 + 0) g0 = G[i]; if (G[i] + 0 > g1 + 0) g1 = G[i] }
		split("silver enriched", gs, " ")
		printf "history-growth ratio (%s vs %s day(s) of history):", g1, g0 > report
		for (j = 1; j <= 2; j++) {
			a = W["growth|" growth_scale "|" g0 "|" gs[j]]; b = W["growth|" growth_scale "|" g1 "|" gs[j]]
			if (a > 0) { growth[gs[j]] = b / a; printf "  %s %.2f", gs[j], b / a > report }
		}
		printf "   (target: near 1.0, judged met at <= 1.25)\n" > report
	}
	# Targets of issue 11, at scale 1.0.
	one = ""
	for (i = 1; i <= ns; i++) if (S[i] + 0 == 1) one = S[i]
	if (one != "") {
		k = "scale|" one "|" history "|"
		judge("silver stage, 8 tables, at scale 1.0", "< 15 s", W[k "silver"], W[k "silver"] < 15, "s")
		judge("silver peak RSS at scale 1.0", "< 1024 MiB", sprintf("%.0f", R[k "silver"] / 1024), R[k "silver"] < 1048576, "MiB")
		judge("silver / floor at scale 1.0", "<= 1.5", (one in floor_ratio) ? sprintf("%.2f", floor_ratio[one]) : "", floor_ratio[one] <= 1.5, "")
		judge("enriched stage at scale 1.0", "< 20 s", W[k "enriched"], W[k "enriched"] < 20, "s")
		judge("enriched peak RSS at scale 1.0", "< 2048 MiB", sprintf("%.0f", R[k "enriched"] / 1024), R[k "enriched"] < 2097152, "MiB")
		judge("gold stage at scale 1.0", "< 10 s", W[k "gold"], W[k "gold"] < 10, "s")
	}
	if ("silver" in growth) judge("history-growth ratio, silver", "near 1.0 (<= 1.25)", sprintf("%.2f", growth["silver"]), growth["silver"] <= 1.25, "")
	if ("enriched" in growth) judge("history-growth ratio, enriched", "near 1.0 (<= 1.25)", sprintf("%.2f", growth["enriched"]), growth["enriched"] <= 1.25, "")
	printf "\n== targets of issue 11 (DESIGN section 8)%s\n", (one == "" ? ": no scale 1 run, the time and memory targets are not judged" : "") > report
	for (i = 1; i <= nt; i++)
		printf "%-40s %-20s %10s %s  %s\n", tname[i], ttarget[i], tobs[i], tunit[i], (tmet[i] == "true" ? "met" : (tmet[i] == "false" ? "NOT MET" : "not measured")) > report
	printf "load average %s at the start, %s at the end (2 cores shared: other work skews the times)\n", load_start, load_end > report

	# JSON.
	printf "{\n  \"version\": 1,\n  \"created_at\": %s,\n  \"commit\": %s,\n  \"commit_dirty\": %s,\n  \"worker_version\": %s,\n", q(created), q(commit), dirty, q(version)
	printf "  \"machine\": {\"cores\": %d, \"memory_bytes\": %.0f, \"cpu_model\": %s, \"load_average_start\": %s, \"load_average_end\": %s},\n", cores, memtotal, q(cpu), q(load_start), q(load_end)
	printf "  \"settings\": {\"scales\": %s, \"history_days\": %d, \"growth_scale\": %s, \"growth_history_days\": %s, \"start\": %s, \"seed\": %d, \"fault_rate\": %s, \"threads\": %d, \"memory_limit\": %s, \"memory_limit_from\": %s, \"cache\": %s},\n", list(scales, 0), history, growth_scale + 0, list(growth_days, 0), q(start), seed, fault + 0, threads, q(mem), q(mem_src == "" ? "worker default" : mem_src), q(cache)
	printf "  \"measurements\": [\n"
	for (i = 1; i <= n; i++)
		printf "    {\"series\": %s, \"scale\": %s, \"history_days\": %d, \"stage\": %s, \"wall_s\": %s, \"peak_rss_bytes\": %.0f, \"rows\": %d, \"rows_per_s\": %.0f, \"exit_code\": %d, \"note\": %s}%s\n", q(series[i]), scale[i] + 0, hist[i], q(stage[i]), wall[i] + 0, rss[i] * 1024, rows[i], rate(rows[i], wall[i]), rc[i], q(note[i]), (i < n ? "," : "")
	printf "  ],\n  \"silver_over_floor\": {"
	sep = ""
	for (i = 1; i <= ns; i++) if (S[i] in floor_ratio) { printf "%s%s: %s", sep, q(S[i]), num(floor_ratio[S[i]]); sep = ", " }
	printf "},\n  \"history_growth\": "
	if (ng > 1) printf "{\"from_days\": %d, \"to_days\": %d, \"silver\": %s, \"enriched\": %s},\n", g0, g1, ("silver" in growth) ? num(growth["silver"]) : "null", ("enriched" in growth) ? num(growth["enriched"]) : "null"
	else printf "null,\n"
	printf "  \"targets\": ["
	for (i = 1; i <= nt; i++)
		printf "%s\n    {\"name\": %s, \"target\": %s, \"observed\": %s, \"unit\": %s, \"met\": %s}", (i > 1 ? "," : ""), q(tname[i]), q(ttarget[i]), (tobs[i] == "" ? "null" : tobs[i] + 0), q(tunit[i]), (tmet[i] == "" ? "null" : tmet[i])
	printf "\n  ]\n}\n"
}' "$TSV" >"$TMP/results.json"
mv "$TMP/results.json" "$RESULTS"
cat "$TMP/report.txt"
echo
echo "bench: results in $RESULTS"
if ((FAILED != 0)); then
	echo "bench: some stage exited non-zero (EXIT in the tables): those figures are not clean measurements" >&2
	exit 1
fi
