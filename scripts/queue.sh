#!/usr/bin/env bash
# The surge-queue pair of docs/performance.md ("Surge queue"), on this machine. It builds
# tikasetu and tikasetu-loadgen, starts its own redis-server (persistence off) and, twice, a
# fresh gateway with a fixed journey limit on an empty Redis: once with the surge queue on
# (TIKASETU_QUEUE=1), once with it off (TIKASETU_QUEUE=0). Against each it runs the same
# surge with "tikasetu-loadgen run --retry": callers turned away wait for the invitation SMS
# (queue on) or redial on their own (queue off). It then prints the table of
# "tikasetu-loadgen compare", the gateway's view of its queue, and draws the chart.
# Defaults take about 6 minutes. Environment: MAX_JOURNEYS (20), RATE (journeys/s, 15),
# RAMP (s, 2), SURGE (s at RATE after the ramp, 10), THINK (a caller's pause before each
# request, 250ms), DRAIN (s after the last arrival for callers to get through, 180),
# INVITE_TTL (1m), REACT (invitation to dial, 2s-20s), REDIAL (mean redial wait, 30s),
# PORT (18090: the gateway; PORT+2 the SMS sink, PORT+3 Redis), PLOT (the chart,
# docs/performance/queue.png; "" for none), KEEP (a folder to keep the two summaries in).
set -euo pipefail

MAX_JOURNEYS=${MAX_JOURNEYS:-20} RATE=${RATE:-15} RAMP=${RAMP:-2} SURGE=${SURGE:-10}
THINK=${THINK:-250ms} DRAIN=${DRAIN:-180} INVITE_TTL=${INVITE_TTL:-1m} REACT=${REACT:-2s-20s}
REDIAL=${REDIAL:-30s} PORT=${PORT:-18090} PLOT=${PLOT-docs/performance/queue.png} KEEP=${KEEP:-}
SP=$((PORT + 2)) RP=$((PORT + 3))
cd "$(dirname "$0")/.."
source scripts/lib.sh
ports_free $PORT $SP $RP

workdir

echo "building into $W" >&2
go build -o "$W/tikasetu" ./cmd/tikasetu
go build -o "$W/loadgen" ./cmd/tikasetu-loadgen
redis_start

# gateway QUEUE: a new gateway on an empty Redis, admission on with the journey limit fixed,
# the calendar seeded.
gateway() {
	if [[ -n $GW_PID ]]; then kill $GW_PID; wait $GW_PID || true; fi
	gateway_serve "$W/tikasetu" TIKASETU_MAX_JOURNEYS=$MAX_JOURNEYS TIKASETU_QUEUE=$1 TIKASETU_INVITE_TTL=$INVITE_TTL
}

# surge NAME QUEUE: the same evenly spaced surge against a fresh gateway; the summary in
# NAME.json, the gateway's view of its queue at the end in NAME.queue.json.
surge() {
	gateway $2
	echo "surge, queue $1: $RATE journeys/s for ${SURGE}s after a ${RAMP}s ramp, up to ${DRAIN}s more to get through" >&2
	"${LG[@]}" --retry --arrivals even --rate $RATE --ramp ${RAMP}s --duration ${SURGE}s --think $THINK \
		--invite-react $REACT --redial-mean $REDIAL --drain ${DRAIN}s >"$W/$1.json" 2>>"$W/loadgen.log" &
	LG_PID=$! && wait $LG_PID && LG_PID=
	curl -sf -H 'Authorization: Bearer tok' http://127.0.0.1:$PORT/admin/v1/queue >"$W/$1.queue.json"
	jq -c '{completed_journeys, shed, errors, timeouts, turned_away: (.turned_away | {callers, booked, never_through, wait_p50_s, order_inversions})}' "$W/$1.json" >&2
}

surge on 1
surge off 0
kill $GW_PID && wait $GW_PID || true
GW_PID=

echo
"$W/loadgen" compare -labels "queue on,queue off" ${PLOT:+-o "$PLOT"} \
	-title "$MAX_JOURNEYS journeys at most, $RATE new callers/s for $((RAMP + SURGE)) s" "$W/on.json" "$W/off.json"
echo
echo "gateway's queue at the end of the run with the queue on (GET /admin/v1/queue):"
jq -c . "$W/on.queue.json"
if [[ -n $KEEP ]]; then
	mkdir -p "$KEEP" && cp "$W"/on.json "$W"/off.json "$W"/on.queue.json "$KEEP"/
	echo "summaries kept in $KEEP" >&2
fi
