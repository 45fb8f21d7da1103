#!/usr/bin/env bash
# bench/liquidation_feed_latency.sh: does a price feed's mark update wait for
# the liquidation workers, or only for a core?
#
#   bash bench/liquidation_feed_latency.sh [--positions N] [--seconds S] [--rate U] [--rounds R]
#                                          [--placements P,...]
#
#   --positions N   positions in the crashed book (default 32000; three in four flagged)
#   --seconds S     length of each feed run (default 5; the workers must outlast it)
#   --rate U        the feed's updates a second (pgbench -R; default 1000; 0: as fast
#                   as it can, not with the real-time runs: they would be throttled)
#   --rounds R      times the runs are repeated (default 1)
#   --placements P  only these placements, comma-separated (default unpinned, pinned,
#                   pinned-rt, unpinned-rt, niced): unpinned, pinned, pinned-rt,
#                   unpinned-rt, niced, niced19, idle, confined, confined19, split
#
# One fresh cluster (synchronous_commit off, fsync on), the book of
# bench/liquidation_book.sql loaded again before every run.  A run is the feed
# (pgbench, one client, prepared single-row mark updates of an instrument that
# crosses nothing, U a second: its latency counts from each update's scheduled
# start) alone, while one worker empties the book, or while two do; unpinned
# (the OS places every process), pinned (taskset: the feed's pgbench and
# backend on core 0, the postmaster and every other server process, workers,
# background processes and autovacuum alike, on core 1), pinned with the
# feed's two processes at real-time priority (chrt -f: on core 0 nothing of
# the other helpers' work, or of anything else, runs before them, so what
# is left of a rise is not CPU contention), or unpinned with the feed at
# real-time priority (on whichever core it wakes, it runs first), or unpinned
# with the workers niced (liquidation_worker's own nice => 10: the feed at
# normal priority, nothing pinned; the workers' runs only, the feed alone
# is the unpinned one), the same with nice => 19, or unpinned with the
# workers' backends moved to SCHED_IDLE by the script (chrt -i: a waking
# normal process preempts them at once; not the engine's doing), or with the
# workers' backends confined to core 1 by the script (taskset; the feed and
# the rest of the server unpinned), the same with the workers at nice => 19,
# or split: the workers on core 1, the feed's pgbench and backend on core 0,
# the rest of the server unpinned.  The workers
# of the other placements are called with nice => NULL: the server's niceness.  In a window from half a second
# after the feed's start (while its backend is pinned) to 0.3 s before its
# end it reports the feed's updates a second and latency (average, p50, p90,
# p99, p99.9 from pgbench -l; with a rate, the part before each update started,
# behind the ones before it), where an update's time went (from
# /proc/PID/schedstat of the feed's backend and of pgbench: time on a core,
# time runnable but waiting for a core, the rest: asleep, waiting for a lock,
# an LWLock, I/O or the other process of the pair), how often the feed's
# backend was preempted, the machine's CPU use by processes other than the
# feed and the workers, the liquidations a second in the window and the
# workers' CPU a liquidation, the feed's lock waits over 1 ms (log_lock_waits
# with deadlock_timeout = 1ms in the feed's session), and its backend's states
# sampled every millisecond from pg_stat_activity
# (bench/liquidation_feed_sample.sql).  After the window, the workers'
# liquidations a second over the whole book.  After the last round, the
# summary of bench/liquidation_feed_summary.awk (which also reads saved
# outputs, several at once).  Output: bench/out/.
set -u -o pipefail

BENCH_DIR=$(cd "$(dirname "${BASH_SOURCE[0]}")" && pwd)
. "$BENCH_DIR/../test/lib/cluster.sh"

positions=32000
seconds=5
rate=1000
rounds=1
placements=unpinned,pinned,pinned-rt,unpinned-rt,niced
while [ $# -gt 0 ]; do
	case $1 in
		--positions) positions=${2:-}; shift ;;
		--positions=*) positions=${1#*=} ;;
		--seconds) seconds=${2:-}; shift ;;
		--seconds=*) seconds=${1#*=} ;;
		--rate) rate=${2:-}; shift ;;
		--rate=*) rate=${1#*=} ;;
		--rounds) rounds=${2:-}; shift ;;
		--rounds=*) rounds=${1#*=} ;;
		--placements) placements=${2:-}; shift ;;
		--placements=*) placements=${1#*=} ;;
		-h|--help) sed -n '5,14p' "${BASH_SOURCE[0]}" | sed 's/^# \{0,1\}//' >&2; exit 2 ;;
		*) echo "unknown argument: $1" >&2; exit 2 ;;
	esac
	shift
done
[[ $positions =~ ^[1-9][0-9]*$ ]] || cluster_die "--positions must be a positive whole number"
[[ $seconds =~ ^[2-9]$|^[1-9][0-9]+$ ]] || cluster_die "--seconds must be a whole number of at least 2"
[[ $rounds =~ ^[1-9][0-9]*$ ]] || cluster_die "--rounds must be a positive whole number"
[[ $rate =~ ^(0|[1-9][0-9]*)$ ]] || cluster_die "--rate must be a whole number"
selected=
for p in ${placements//,/ }; do
	case $p in
		unpinned) selected="$selected 0" ;;
		pinned) selected="$selected 1" ;;
		pinned-rt) selected="$selected 2" ;;
		unpinned-rt) selected="$selected 3" ;;
		niced) selected="$selected 4" ;;
		niced19) selected="$selected 5" ;;
		idle) selected="$selected 6" ;;
		confined) selected="$selected 7" ;;
		confined19) selected="$selected 8" ;;
		split) selected="$selected 9" ;;
		*) cluster_die "unknown placement $p (unpinned, pinned, pinned-rt, unpinned-rt, niced, niced19, idle, confined, confined19, split)" ;;
	esac
done
[ -n "$selected" ] || cluster_die "--placements names none"
[ "$(nproc)" -ge 2 ] || cluster_die "needs 2 cores (the pinned runs use cores 0 and 1)"

cluster_prereqs </dev/null
cluster_lock
cluster_build || cluster_die "build failed"
cluster_start -c fsync=on -c synchronous_commit=off -c shared_buffers=512MB -c max_wal_size=4GB \
	-c log_lock_waits=on
mkdir -p "$BENCH_DIR/out"
OUT="$BENCH_DIR/out/liquidation-feed-$(date -u +%Y%m%dT%H%M%SZ).txt"
exec > >(tee "$OUT") 2>&1
chmod a+rx "$CLUSTER_DIR"
POSTMASTER=$(head -n 1 "$CLUSTER_DIR/data/postmaster.pid")
TICK=$(getconf CLK_TCK)

q()
{
	"${CLIENT_PIN[@]}" psql -X -q -v ON_ERROR_STOP=1 -d bench "$@"
}
now_us()
{
	echo $(($(date +%s%N) / 1000))
}
# sleep until the time $1 (microseconds since the epoch)
sleep_until()
{
	local d=$(($1 - $(now_us)))
	[ "$d" -gt 0 ] && sleep "$(printf '%d.%06d' $((d / 1000000)) $((d % 1000000)))"
}
# the server's processes (the postmaster and its children) on the cores $1
pin_server()
{
	local p
	for p in $POSTMASTER $(pgrep -P "$POSTMASTER"); do
		taskset -a -cp "$1" "$p" >/dev/null 2>&1
	done
}
# the pid of the one backend whose pg_stat_activity matches the condition $1, when it shows
backend_of()
{
	local b i
	for i in $(seq 1 200); do
		b=$(q -At -c "SELECT pid FROM pg_stat_activity WHERE $1 AND pid <> pg_backend_pid()")
		[ -n "$b" ] && { echo "$b"; return 0; }
		sleep 0.005
	done
	return 1
}
# CPU ticks (user + system) of the processes $@ (0 for a process gone)
ticks()
{
	local p t=0 s
	for p in "$@"; do
		s=$(awk '{print $14 + $15}' "/proc/$p/stat" 2>/dev/null) && t=$((t + s))
	done
	echo "$t"
}
# CPU ticks of the server's processes but the pids $@ (those that live through the window:
# the sampler's backend, the background processes)
server_ticks()
{
	local skip=" $* " p t=0
	for p in $(pgrep -P "$POSTMASTER"); do
		case $skip in *" $p "*) continue ;; esac
		t=$((t + $(ticks "$p")))
	done
	echo "$t"
}
# busy ticks of the whole machine (all cores: user, nice, system, irq, softirq), and
# steal: time the hypervisor gave the VM's cores to something else
busy()
{
	awk '$1 == "cpu" {print $2 + $3 + $4 + $7 + $8}' /proc/stat
}
steal()
{
	awk '$1 == "cpu" {print $9}' /proc/stat
}

CLIENT_PIN=()
q -d postgres -c "CREATE DATABASE bench" || cluster_die "cannot create the database"
q -c "CREATE EXTENSION isomargin"
echo "commit $(git -C "$BENCH_DIR/.." rev-parse --short HEAD 2>/dev/null), $(nproc) cores ($(grep -m1 'model name' /proc/cpuinfo | cut -d: -f2 | sed 's/^ //')), $(psql -X -At -d bench -c 'SHOW server_version'), $(date -u '+%Y-%m-%d %H:%M UTC')"
echo "book: $positions positions on 4 instruments crashed to 90 (three in four flagged), 10,000 on QUIET, the feed's; synchronous_commit off, fsync on"
echo "feed: $([ "$rate" -gt 0 ] && echo "$rate updates a second" || echo "as fast as it can"), ${seconds} s a run, measured from 0.5 s after its start to 0.3 s before its end"

cat >"$CLUSTER_DIR/feed.sql" <<'SQL'
\set p random(0, 1)
UPDATE marks SET mark_price = 100 + :p * 0.01 WHERE symbol = 'QUIET';
SQL

# run LABEL WORKERS PLACEMENT (0: unpinned, 1: pinned, 2: pinned, the feed at real-time
# priority, 3: unpinned, the feed at real-time priority, 4: unpinned, the workers niced by
# liquidation_worker's nice => 10, 5: the same at nice => 19, 6: unpinned, the workers' backends
# at SCHED_IDLE)
run()
{
	local label=$1 n=$2 pinned=$3 feed_pin=() rt=() throttle=() wpids=() w fp be pg t0 ta tb la lb
	local tf running sva svb wnice wargs=", nice => NULL" sa sb pa pb ia ib ba bb sta stb wa wb wbackends lw flagged left done_us sp liquidated
	CLIENT_PIN=()
	if [ "$pinned" -eq 1 ] || [ "$pinned" -eq 2 ]; then
		pin_server 1
		CLIENT_PIN=(taskset -c 1)
		feed_pin=(taskset -c 0)
	elif [ "$pinned" -eq 9 ]; then
		pin_server 0-1
		feed_pin=(taskset -c 0)
	else
		pin_server 0-1
	fi
	[ "$pinned" -eq 2 ] || [ "$pinned" -eq 3 ] && rt=(chrt -f 50)
	[ "$pinned" -eq 4 ] && wargs=", nice => 10"
	[ "$pinned" -eq 5 ] || [ "$pinned" -eq 8 ] && wargs=", nice => 19"
	q -v n="$positions" -f "$BENCH_DIR/liquidation_book.sql" >/dev/null || cluster_die "loading the book failed"
	flagged=$(q -At -c "SELECT count(*) FROM positions WHERE status >= 'liquidate'")
	load=$(cut -d' ' -f1-3 /proc/loadavg)
	t0=$(now_us)
	for w in $(seq 1 "$n"); do
		q -c "CALL isomargin.liquidation_worker('w$w'$wargs)" &
		wpids+=($!)
	done
	wbackends=
	if [ "$n" -gt 0 ]; then
		for w in $(seq 1 200); do
			wbackends=$(q -At -c "SELECT pid FROM pg_stat_activity WHERE query LIKE 'CALL isomargin.liquidation_worker%' AND pid <> pg_backend_pid()")
			[ "$(echo "$wbackends" | grep -c .)" -eq "$n" ] && break
			sleep 0.005
		done
	fi
	if [ "$pinned" -eq 6 ]; then
		for w in $wbackends; do chrt -i -p 0 "$w" || cluster_die "chrt -i failed"; done
	fi
	if [ "$pinned" -ge 7 ] || [ "$n" -gt 0 -a "$pinned" -eq 9 ]; then
		for w in $wbackends; do taskset -cp 1 "$w" >/dev/null || cluster_die "taskset failed"; done
	fi
	rm -f "$CLUSTER_DIR"/feedlog*
	[ "$rate" -gt 0 ] && throttle=(-R "$rate")
	tf=$(now_us)
	PGOPTIONS="-c deadlock_timeout=1ms" "${rt[@]}" "${feed_pin[@]}" pgbench -n -M prepared -c 1 -T "$seconds" -l "${throttle[@]}" \
		--log-prefix="$CLUSTER_DIR/feedlog" -f "$CLUSTER_DIR/feed.sql" bench >/dev/null 2>&1 &
	fp=$!
	# the client's backend, not pgbench's short-lived first connection: the one that runs the feed
	be=$(backend_of "application_name = 'pgbench' AND query LIKE 'UPDATE marks%'") ||
		cluster_die "the feed's backend did not show"
	pg=$(pgrep -P "$fp" pgbench || echo "$fp")   # taskset execs pgbench: the same pid
	[ "${#feed_pin[@]}" -gt 0 ] && taskset -cp 0 "$be" >/dev/null
	[ "${#rt[@]}" -gt 0 ] && chrt -f -p 50 "$be"
	# the window: from half a second after the feed's start to 0.3 s before its end
	sleep_until $((tf + 500000))
	ta=$(now_us); sa=$(cat "/proc/$be/schedstat"); pa=$(cat "/proc/$pg/schedstat")
	ia=$(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "/proc/$be/status")
	ba=$(busy); sta=$(steal); wa=$(ticks $wbackends); sva=$(server_ticks "$be" $wbackends)
	la=$(q -At -c "SELECT count(*) FROM isomargin.insurance_ledger WHERE entry = 'liquidation'")
	q -v feed="$be" -v ms="$(((tf + seconds * 1000000 - 400000 - $(now_us)) / 1000))" -f "$BENCH_DIR/liquidation_feed_sample.sql" \
		>"$CLUSTER_DIR/samples.txt" 2>&1 &
	sp=$!
	sleep_until $((tf + seconds * 1000000 - 300000))
	tb=$(now_us); sb=$(cat "/proc/$be/schedstat"); pb=$(cat "/proc/$pg/schedstat")
	ib=$(awk '/^nonvoluntary_ctxt_switches/ {print $2}' "/proc/$be/status")
	bb=$(busy); stb=$(steal); wb=$(ticks $wbackends); svb=$(server_ticks "$be" $wbackends)
	lb=$(q -At -c "SELECT count(*) FROM isomargin.insurance_ledger WHERE entry = 'liquidation'")
	# the nice values in effect (field 19 of /proc/PID/stat; /i: SCHED_IDLE, field 41 = 5),
	# the feed's backend's first
	wnice=$(for p in $be $wbackends; do awk '{sub(/.*\) /, ""); print $17 ($39 == 5 ? "/i" : "")}' "/proc/$p/stat" 2>/dev/null || echo gone; done | paste -sd' ')
	running=0
	for w in "${wpids[@]}"; do kill -0 "$w" 2>/dev/null && running=$((running + 1)); done
	wait "$fp" || cluster_die "pgbench failed"
	wait "$sp"
	lw=$(grep -c "process $be still waiting" "$CLUSTER_DIR/server.log")

	echo
	echo "== $label (load average $load)"
	[ "$n" -gt 0 ] && echo "   workers still running at the window's end: $running of $n"
	echo "   nice at the window's end: the feed's backend, then the workers': $wnice"
	# pgbench -l: client, transaction, latency us, script, end time s, end time us
	# (with --rate, a seventh: the schedule lag, the part of the latency before it started)
	awk -v a="$ta" -v b="$tb" '{ t = $5 * 1000000 + $6; if (t >= a && t <= b) print $3, ($7 == "" ? 0 : $7) }' "$CLUSTER_DIR"/feedlog* |
		sort -n | awk -v us="$((tb - ta))" \
		-v sa="$sa" -v sb="$sb" -v pa="$pa" -v pb="$pb" -v ia="$ia" -v ib="$ib" \
		-v others="$(( (bb - ba - (wb - wa)) * 1000000 / TICK ))" -v liq="$((lb - la))" -v lw="$lw" \
		-v steal="$(((stb - sta) * 1000000 / TICK))" -v server="$(((svb - sva) * 1000000 / TICK))" -v rate="$rate" \
		-v wcpu="$(((wb - wa) * 1000000 / TICK))" '
		{ v[NR] = $1; sum += $1; lag += $2 }
		END {
			if (NR == 0) { print "   no feed updates in the window"; exit }
			split(sa, s0, " "); split(sb, s1, " "); split(pa, p0, " "); split(pb, p1, " ")
			k50 = int(NR * 0.5); k90 = int(NR * 0.9); k99 = int(NR * 0.99); k999 = int(NR * 0.999)
			if (k50 < 1) k50 = 1; if (k90 < 1) k90 = 1; if (k99 < 1) k99 = 1; if (k999 < 1) k999 = 1
			printf "   feed: %d updates/s  avg %d  p50 %d  p90 %d  p99 %d  p99.9 %d us\n",
				NR * 1000000 / us, sum / NR, v[k50], v[k90], v[k99], v[k999]
			be_cpu = (s1[1] - s0[1]) / 1000 / NR; be_rq = (s1[2] - s0[2]) / 1000 / NR
			pg_cpu = (p1[1] - p0[1]) / 1000 / NR; pg_rq = (p1[2] - p0[2]) / 1000 / NR
			avg = sum / NR; lag /= NR
			if (rate > 0)
				printf "   an update, us: avg %.1f = before it started (behind the updates before it) %.1f + from its start %.1f\n", avg, lag, avg - lag
			printf "   from its start, us: backend on a core %.1f + waiting for a core %.1f; pgbench on a core %.1f + waiting for a core %.1f; the rest (asleep: locks, LWLocks, I/O; less where the two overlap) %.1f\n",
				be_cpu, be_rq, pg_cpu, pg_rq, avg - lag - be_cpu - be_rq - pg_cpu - pg_rq
			printf "   feed backend preempted %.1f times per 1,000 updates; lock waits over 1 ms: %d\n", (ib - ia) * 1000 / NR, lw
			printf "   CPU of everything but the feed and the workers: %d ms/s (the machine has 2,000; the server'"'"'s other processes, the sampler'"'"'s backend among them, %d), stolen by the hypervisor %d ms/s; liquidations in the window: %d/s\n",
				(others / 1000 - (s1[1] - s0[1] + p1[1] - p0[1]) / 1000000) * 1000000 / us, server * 1000 / us, steal * 1000 / us, liq * 1000000 / us
			if (liq > 0)
				printf "   the workers'"'"' backends: %d ms/s of CPU, %d us a liquidation\n", wcpu * 1000 / us, wcpu / liq
		}'
	sed 's/^/   /' "$CLUSTER_DIR/samples.txt"
	if [ "$n" -gt 0 ]; then
		wait "${wpids[@]}"
		done_us=$(now_us)
		left=$(q -At -c "SELECT count(*) FROM positions WHERE status >= 'liquidate'")
		liquidated=$(q -At -c "SELECT count(*) FROM isomargin.insurance_ledger WHERE entry = 'liquidation'")
		echo "   workers: $flagged flagged, $liquidated liquidated in $(((done_us - t0) / 1000)) ms: $((liquidated * 1000000 / (done_us - t0))) per second; left flagged: $left"
	fi
}

# how each placement number reads in the labels
placement_label=(
	"unpinned"
	"pinned (feed on core 0, the server on core 1)"
	"pinned, the feed at real-time priority"
	"unpinned, the feed at real-time priority"
	"unpinned, the workers niced (nice => 10)"
	"unpinned, the workers niced (nice => 19)"
	"unpinned, the workers at SCHED_IDLE"
	"the workers confined to core 1"
	"the workers confined to core 1 and niced (nice => 19)"
	"the feed on core 0, the workers on core 1"
)
for r in $(seq 1 "$rounds"); do
	for spec in 0:0 1:0 1:4 1:5 1:6 1:7 1:8 2:0 2:4 2:5 2:6 2:7 2:8 0:9 1:9 2:9 0:1 1:1 2:1 0:2 1:2 2:2 0:3 1:3 2:3; do
		n=${spec%%:*}
		pinned=${spec#*:}
		case " $selected " in *" $pinned "*) ;; *) continue ;; esac
		[ "$rate" -eq 0 ] && { [ "$pinned" -eq 2 ] || [ "$pinned" -eq 3 ]; } && continue
		label="round $r: feed alone"
		[ "$n" -gt 0 ] && label="round $r: feed while $n worker(s) run"
		label="$label, ${placement_label[$pinned]}"
		# a run's block, kept for the summary (a pipeline: cluster_die in run ends only it)
		run "$label" "$n" "$pinned" | tee -a "$CLUSTER_DIR/runs.txt" || cluster_die "the run failed: $label"
	done
done
pin_server 0-1
echo
echo "== summary over $rounds round(s): median of the runs (lowest-highest); latencies in us"
awk -f "$BENCH_DIR/liquidation_feed_summary.awk" "$CLUSTER_DIR/runs.txt"
echo
echo "output kept in $OUT"
