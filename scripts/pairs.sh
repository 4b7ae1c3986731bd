#!/usr/bin/env bash
# CPU per hop of one or more versions of the gateway against the floor, in sandwiched pairs
# (docs/performance.md, "CPU per turn"). Usage: scripts/pairs.sh REV... (git revisions; "."
# is the working tree). It builds each version's tikasetu, and tikasetu-loadgen from the
# working tree, starts its own redis-server (persistence off) and the floor, and runs, ROUNDS
# times: the floor, then each version in turn followed by the floor again. Each run is a
# closed loop at CALLERS callers (admission off, a fresh gateway on an empty Redis), and CPU
# per hop is read over WINDOW s in its middle (/proc/<pid>/stat fields 14 and 15, over the
# hops answered). A gateway run is compared with the mean of the floor runs either side of
# it, so that the machine's speed, which changes from one minute to the next, moves both.
# Environment: ROUNDS (4), CALLERS (32), DURATION (s per closed loop, 12), WINDOW (7),
# PORT (18280: the gateway; PORT+1 the floor, +2 the SMS sink, +3 Redis).
set -euo pipefail

ROUNDS=${ROUNDS:-4} CALLERS=${CALLERS:-32} DURATION=${DURATION:-12} WINDOW=${WINDOW:-7}
PORT=${PORT:-18280}
FP=$((PORT + 1)) SP=$((PORT + 2)) RP=$((PORT + 3))
(($# > 0)) || { echo "usage: scripts/pairs.sh REV... (\".\" is the working tree)" >&2; exit 2; }
(( DURATION > WINDOW )) || { echo "DURATION must be more than WINDOW" >&2; exit 2; }
cd "$(dirname "$0")/.."
source scripts/lib.sh
ports_free $PORT $FP $SP $RP
workdir

echo "building into $W" >&2
go build -o "$W/loadgen" ./cmd/tikasetu-loadgen
for i in $(seq $#); do
	rev=${!i}
	if [[ $rev == . ]]; then
		go build -o "$W/tikasetu.$i" ./cmd/tikasetu
	else
		mkdir "$W/src.$i"
		git archive "$rev" | tar -x -C "$W/src.$i"
		(cd "$W/src.$i" && go build -o "$W/tikasetu.$i" ./cmd/tikasetu)
	fi
done

redis_start
floor_start

# closed gw|fl PID CMD...: a closed loop; sets CPU and RCPU, µs a hop of PID and of Redis.
closed() {
	local t=$1 pid=$2
	shift 2
	"$@" --mode closed --concurrency $CALLERS --ramp 2s --duration ${DURATION}s >/dev/null 2>>"$W/loadgen.log" &
	LG_PID=$!
	nap $((2 + (DURATION - WINDOW) / 2))
	local a=($(ticks $pid) $(ticks $RPID) $(hops $t))
	nap $WINDOW
	local b=($(ticks $pid) $(ticks $RPID) $(hops $t))
	wait $LG_PID && LG_PID=
	local h=$((b[2] - a[2]))
	CPU=$(awk -v d=$((b[0] - a[0])) -v t=$TICK_US -v h=$h 'BEGIN {print d * t / h}')
	RCPU=$(awk -v d=$((b[1] - a[1])) -v t=$TICK_US -v h=$h 'BEGIN {print d * t / h}')
}
floor() { closed fl $FLOOR_PID "$W/loadgen" run --floor --url http://127.0.0.1:$FP; }
gateway() { # gateway N: version N, fresh, on an empty Redis with the calendar seeded
	gateway_serve "$W/tikasetu.$1" TIKASETU_MAX_INFLIGHT=0 TIKASETU_SMS_RATE=2000
	closed gw $GW_PID "${LG[@]}"
	kill $GW_PID && wait $GW_PID || true
	GW_PID=
}

printf '%-12s %10s %10s %12s %12s %8s %8s\n' version "gw µs" "redis µs" "floor before" "floor after" "gw/fl" "redis" >&2
floor && before=($CPU $RCPU)
for r in $(seq $ROUNDS); do
	for i in $(seq $#); do
		gateway $i && g=($CPU $RCPU)
		floor && after=($CPU $RCPU)
		awk -v n="${!i}" -v g=${g[0]} -v gr=${g[1]} -v f0=${before[0]} -v f1=${after[0]} -v r0=${before[1]} -v r1=${after[1]} \
			'BEGIN { printf "%-12s %10.1f %10.1f %12.1f %12.1f %8.2f %8.2f\n", n, g, gr, f0, f1, 2 * g / (f0 + f1), 2 * gr / (r0 + r1) }' | tee -a "$W/results" >&2
		before=("${after[@]}")
	done
done
echo
# Per version: mean, median and range of each ratio, and mean CPU per hop.
awk '{ n[$1]++; g[$1] += $2; r[$1] += $3; k = $1 SUBSEP n[$1]; gf[k] = $6; rf[k] = $7 }
	function med(a, v, m,   i, j, t, x) { for (i = 1; i <= m; i++) x[i] = a[v SUBSEP i]
		for (i = 1; i <= m; i++) for (j = i + 1; j <= m; j++) if (x[j] < x[i]) { t = x[i]; x[i] = x[j]; x[j] = t }
		return m % 2 ? x[(m + 1) / 2] : (x[m / 2] + x[m / 2 + 1]) / 2 }
	function stat(a, v, m,   i, s, lo, hi) { for (i = 1; i <= m; i++) { s += a[v SUBSEP i]
			if (i == 1 || a[v SUBSEP i] < lo) lo = a[v SUBSEP i]; if (i == 1 || a[v SUBSEP i] > hi) hi = a[v SUBSEP i] }
		return sprintf("mean %.2f, median %.2f (%.2f–%.2f)", s / m, med(a, v, m), lo, hi) }
	END { for (v in n) printf "%s: %d pairs; gateway ÷ floor %s; Redis %s; gateway %.1f µs a hop, Redis %.1f\n",
		v, n[v], stat(gf, v, n[v]), stat(rf, v, n[v]), g[v] / n[v], r[v] / n[v] }' "$W/results"
