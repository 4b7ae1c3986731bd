#!/usr/bin/env bash
# The standard performance set of docs/performance.md, on this machine. It builds tikasetu
# and tikasetu-loadgen, starts its own redis-server (persistence off), the floor handler and
# the gateway, and runs:
#   1. capacity: closed loop at 32 and 64 callers, admission off, the gateway and the floor
#      alternating, ROUNDS times, with CPU per hop of each process over WINDOW s mid-run;
#   2. surges: SURGES times 5x the capacity just measured, admission on, each followed by a
#      capacity run at 64 callers, goodput compared with the mean of the runs either side;
#   3. with --plot, the charts of docs/performance/ (the first surge, and one with admission off).
# It prints one table (figure, value) at the end and stops everything it started.
# Defaults take about 7 minutes (9 with --plot). Environment: DURATION (s per closed loop,
# 20), SURGE (s per surge, 60), ROUNDS (2), SURGES (2), WINDOW (s of CPU sampling, 8),
# PORT (18080: the gateway; PORT+1 the floor, +2 the SMS sink, +3 Redis), PLOT_DIR.
set -euo pipefail

DURATION=${DURATION:-20} SURGE=${SURGE:-60} ROUNDS=${ROUNDS:-2} SURGES=${SURGES:-2}
WINDOW=${WINDOW:-8} PORT=${PORT:-18080} PLOT_DIR=${PLOT_DIR:-docs/performance}
PLOT=0; [[ ${1:-} == --plot ]] && PLOT=1
FP=$((PORT + 1)) SP=$((PORT + 2)) RP=$((PORT + 3))
cd "$(dirname "$0")/.."
source scripts/lib.sh
ports_free $PORT $FP $SP $RP
(( DURATION > WINDOW )) || { echo "DURATION must be more than WINDOW" >&2; exit 2; }

workdir

echo "building into $W" >&2
go build -o "$W/tikasetu" ./cmd/tikasetu
go build -o "$W/loadgen" ./cmd/tikasetu-loadgen
redis_start
floor_start

# gateway MAX_INFLIGHT: a new gateway (0: admission off) on an empty Redis, calendar seeded.
# TIKASETU_SMS_RATE: above the SMS a second a 5x surge needs (the sink takes any rate), but
# not far above, as the gateway sizes its SMS buffers from it.
gateway() {
	if [[ -n $GW_PID ]]; then kill $GW_PID; wait $GW_PID || true; fi
	gateway_serve "$W/tikasetu" TIKASETU_MAX_INFLIGHT=$1 TIKASETU_SMS_RATE=2000
}

put() { echo "$1 $2" >>"$W/results"; }
# redisWork: the commands Redis has run and the reads it has made (one per round trip).
redisWork() {
	redis-cli -p $RP info stats | tr -d '\r' | awk -F: '$1 == "total_commands_processed" {c = $2} $1 == "total_reads_processed" {r = $2} END {print c + 0, r + 0}'
}
# closed gw|fl CALLERS: a closed loop (ramp 2 s, then DURATION s); CPU per hop over WINDOW s
# in its middle. Sets JPS, HPS (steady journeys/s and hops/s) and CPU (the target's µs a hop).
closed() {
	local t=$1 c=$2 pid=$GW_PID cmd=("${LG[@]}")
	[[ $t == fl ]] && pid=$FLOOR_PID cmd=("$W/loadgen" run --floor --url http://127.0.0.1:$FP)
	"${cmd[@]}" --mode closed --concurrency $c --ramp 2s --duration ${DURATION}s >"$W/run.json" 2>>"$W/loadgen.log" &
	LG_PID=$!
	nap $((2 + (DURATION - WINDOW) / 2))
	local a=($(ticks $pid) $(ticks $RPID) $(ticks $LG_PID) $(hops $t) $(redisWork))
	nap $WINDOW
	local b=($(ticks $pid) $(ticks $RPID) $(ticks $LG_PID) $(hops $t) $(redisWork))
	wait $LG_PID && LG_PID=
	local h=$((b[3] - a[3])) i
	for i in 0 1 2; do put "cpu.$t$c.$i" $(((b[i] - a[i]) * TICK_US / h)); done
	CPU=$(((b[0] - a[0]) * TICK_US / h)) RCPU=$(((b[1] - a[1]) * TICK_US / h))
	put "cmds.$t" "$(awk -v d=$((b[4] - a[4])) -v h=$h 'BEGIN {print d / h}')"
	put "reads.$t" "$(awk -v d=$((b[5] - a[5])) -v h=$h 'BEGIN {print d / h}')"
	JPS=$(jq .steady_journeys_per_s "$W/run.json") HPS=$(jq .steady_hops_per_s "$W/run.json")
	put "$t$c.jps" $JPS && put "$t$c.hps" $HPS
	put fail "$(jq '.errors + .timeouts + .abandoned' "$W/run.json")"
	echo "closed loop, $t, $c callers: $JPS journeys/s, $HPS hops/s" >&2
}
# surge MAX_INFLIGHT RATE [PLOT]: open loop at RATE journeys/s for SURGE s after a 5 s ramp.
surge() {
	gateway $1
	"${LG[@]}" --rate $2 --ramp 5s --duration ${SURGE}s ${3:+--plot "$3"} >"$W/surge.json" 2>>"$W/loadgen.log" &
	LG_PID=$! && wait $LG_PID && LG_PID=
	curl -s http://127.0.0.1:$PORT/metrics | awk -F'[" ]' '/^tikasetu_admission_shed_total/ {print $2, $NF}' >"$W/shed"
	RSS=$(awk '/VmHWM/ {print $2 / 1024}' /proc/$GW_PID/status)
	echo "surge at $2 journeys/s, max-inflight $1: $(jq -c '{steady_journeys_per_s, shed, timeouts, hop_p99_ms}' "$W/surge.json")" >&2
}
sv() { jq "$1" "$W/surge.json"; }

for r in $(seq $ROUNDS); do
	for c in 32 64; do
		gateway 0 && closed gw $c && g=$HPS gc=$CPU grc=$RCPU C=$JPS
		closed fl $c && put "ratio$c" "$(awk -v g=$g -v f=$HPS 'BEGIN {print g / f}')"
		put "cpuratio$c" "$(awk -v g=$gc -v f=$CPU 'BEGIN {print g / f}')"
		put "rcpuratio$c" "$(awk -v g=$grc -v f=$RCPU 'BEGIN {print g / f}')"
	done
done
for s in $(seq $SURGES); do
	plot=; ((PLOT && s == 1)) && plot=$PLOT_DIR/surge-admission-on.png
	surge 256 "$(awk -v c=$C 'BEGIN {printf "%d", 5 * c}')" $plot
	goodput=$(sv .steady_journeys_per_s)
	put surge.jps $goodput && put surge.p50 "$(sv .hop_p50_ms)" && put surge.p99 "$(sv .hop_p99_ms)"
	put surge.new "$(awk '$1 == "new" {print $2}' "$W/shed")" && put surge.mid "$(awk '$1 == "continuing" {print $2}' "$W/shed")"
	put surge.timeouts "$(sv '.timeouts + .errors')" && put surge.rss $RSS
	gateway 0 && closed gw 64
	put surge.share "$(awk -v g=$goodput -v a=$C -v b=$JPS 'BEGIN {print 200 * g / (a + b)}')"
	C=$JPS
done
if ((PLOT)); then
	surge 0 "$(awk -v c=$C 'BEGIN {printf "%d", 5 * c}')" "$PLOT_DIR/surge-admission-off.png"
	put off.jps "$(sv .steady_journeys_per_s)" && put off.p99 "$(sv .hop_p99_ms)"
	put off.timeouts "$(sv .timeouts)" && put off.hops "$(sv .hops)" && put off.rss $RSS
fi

# stat KEY [FORMAT]: mean (min–max, runs) of a figure over the runs.
stat() {
	awk -v k="$1" -v f="${2:-%.1f}" '$1 == k { n++; s += $2; if (n == 1 || $2 < lo) lo = $2; if (n == 1 || $2 > hi) hi = $2 }
		END { if (!n) print "-"; else if (n == 1) print sprintf(f, s) " (1 run)"
			else print sprintf(f, s / n) " (" sprintf(f, lo) "–" sprintf(f, hi) ", " n " runs)" }' "$W/results"
}
row() { printf '%-60s %s\n' "$1" "$2"; }
echo
row figure "value: mean (min–max, runs)"
for c in 32 64; do
	row "capacity at $c callers, journeys/s" "$(stat gw$c.jps)"
	row "capacity at $c callers, hops/s" "$(stat gw$c.hps %.0f)"
	row "floor at $c callers, hops/s" "$(stat fl$c.hps %.0f)"
	row "gateway / floor, hops/s, side by side, $c callers" "$(stat ratio$c %.2f)"
done
for c in 32 64; do
	row "CPU us per hop at $c callers: gateway  /  Redis  /  generator" "$(stat cpu.gw$c.0 %.0f)  /  $(stat cpu.gw$c.1 %.0f)  /  $(stat cpu.gw$c.2 %.0f)"
	row "CPU us per hop at $c callers: floor  /  Redis  /  generator" "$(stat cpu.fl$c.0 %.0f)  /  $(stat cpu.fl$c.1 %.0f)  /  $(stat cpu.fl$c.2 %.0f)"
	row "gateway / floor, CPU per hop, side by side, $c callers" "$(stat cpuratio$c %.2f)"
	row "Redis under the gateway / under the floor, CPU per hop, $c callers" "$(stat rcpuratio$c %.2f)"
done
row "Redis commands per hop: journey  /  floor" "$(stat cmds.gw)  /  $(stat cmds.fl)"
row "Redis reads (round trips) per hop: journey  /  floor" "$(stat reads.gw %.2f)  /  $(stat reads.fl %.2f)"
row "errors + timeouts + abandoned in closed loops (sum)" "$(awk '$1 == "fail" {s += $2} END {print s + 0}' "$W/results")"
row "5x surge goodput, journeys/s" "$(stat surge.jps)"
row "5x surge goodput, % of capacity around it" "$(stat surge.share)"
row "5x surge, turned away new  /  mid-journey" "$(stat surge.new %.0f)  /  $(stat surge.mid %.0f)"
row "5x surge, hop p50  /  p99 ms" "$(stat surge.p50)  /  $(stat surge.p99)"
row "5x surge, errors + timeouts" "$(stat surge.timeouts %.0f)"
row "5x surge, peak RSS of the gateway, MB" "$(stat surge.rss %.0f)"
if ((PLOT)); then
	row "5x, admission off: goodput journeys/s  /  hop p99 ms" "$(stat off.jps)  /  $(stat off.p99 %.0f)"
	row "5x, admission off: timeouts  /  hops answered  /  peak RSS MB" "$(stat off.timeouts %.0f)  /  $(stat off.hops %.0f)  /  $(stat off.rss %.0f)"
fi
