# Shared by the measuring scripts (source it).

# ready NAME PID LOG CMD...: wait until CMD succeeds, for at most READY_WAIT seconds (15);
# if process PID exits first or the time runs out, show the end of LOG and exit 1, so that
# a server that fails to start stops the script instead of leaving it waiting.
ready() {
	local name=$1 pid=$2 log=$3 tries=$((${READY_WAIT:-15} * 10))
	shift 3
	until "$@" >/dev/null 2>&1; do
		if ! kill -0 "$pid" 2>/dev/null || ((--tries <= 0)); then
			echo "$name did not start; the end of $log:" >&2
			tail -n 20 "$log" >&2 || true
			exit 1
		fi
		sleep 0.1
	done
}

# ports_free PORT...: exit 2, naming the first port already taken (PORT moves them all).
ports_free() {
	local p
	for p; do
		if (exec 3<>/dev/tcp/127.0.0.1/$p) 2>/dev/null; then echo "port $p is in use: set PORT" >&2; exit 2; fi
	done
}

# workdir: W, a temporary directory for binaries, logs and results, removed at exit after
# stopping the processes in GW_PID, LG_PID and PIDS; LG, the generator against the gateway
# on PORT with its SMS sink on SP.
workdir() {
	W=$(mktemp -d) GW_PID= LG_PID= PIDS=()
	trap cleanup EXIT
	trap 'exit 130' INT TERM
	LG=("$W/loadgen" run --sink-secret sinksecret --sink-addr 127.0.0.1:$SP --url http://127.0.0.1:$PORT)
}
cleanup() {
	kill $GW_PID $LG_PID "${PIDS[@]}" 2>/dev/null || true
	wait 2>/dev/null || true
	rm -rf "$W"
}

# gateway_serve BIN VAR=VALUE...: a gateway from BIN on PORT, on the Redis at RP emptied
# first, its SMS posted to the generator's sink, with the environment given on top; sets
# GW_PID, waits until it is ready and seeds the calendar.
gateway_serve() {
	local bin=$1
	shift
	redis-cli -p $RP flushall >/dev/null
	env REDIS_URL=redis://127.0.0.1:$RP TIKASETU_SECRET=perf-secret-perf-secret-perf-secret \
		TIKASETU_SMS_SENDER=http TIKASETU_SMS_HTTP_URL=http://127.0.0.1:$SP/sms \
		TIKASETU_SMS_HTTP_SECRET=sinksecret TIKASETU_ADMIN_TOKEN=tok TIKASETU_AT_ALLOW=127.0.0.1 \
		"$@" "$bin" serve --addr 127.0.0.1:$PORT >>"$W/gateway.log" 2>&1 &
	GW_PID=$!
	ready gateway $GW_PID "$W/gateway.log" curl -sf http://127.0.0.1:$PORT/readyz
	"${LG[@]}" --seed --admin-token tok --mode closed --concurrency 4 --ramp 0s --duration 1s >/dev/null 2>>"$W/loadgen.log"
}

nap() { sleep "$1" & wait $!; } # a sleep that a signal interrupts
ticks() { awk '{print $14 + $15}' "/proc/$1/stat"; } # CPU time of a process so far, in ticks
# hops gw|fl: hops answered so far: the gateway's request counter (PORT), or the floor's SETs
# in Redis (RP).
hops() {
	if [[ $1 == gw ]]; then
		curl -s http://127.0.0.1:$PORT/metrics | awk '/^tikasetu_http_request_duration_seconds_count.*ussd/ {s += $2} END {print s + 0}'
	else redis-cli -p $RP info commandstats | awk -F'[=,]' '/^cmdstat_set:/ {n = $2} END {print n + 0}'; fi
}

# redis_start: a redis-server on RP, persistence off, logging to W; sets RPID.
redis_start() {
	redis-server --port $RP --bind 127.0.0.1 --save "" --appendonly no --logfile "$W/redis.log" &
	RPID=$! && PIDS+=($RPID)
	ready redis-server $RPID "$W/redis.log" redis-cli -p $RP ping
}

# floor_start: the floor handler on FP, on the Redis at RP; sets FLOOR_PID.
floor_start() {
	"$W/loadgen" floor --addr 127.0.0.1:$FP --redis-url redis://127.0.0.1:$RP >"$W/floor.log" 2>&1 &
	FLOOR_PID=$! && PIDS+=($FLOOR_PID)
	ready floor $FLOOR_PID "$W/floor.log" curl -s -o /dev/null http://127.0.0.1:$FP/
}

TICK_US=$((1000000 / $(getconf CLK_TCK))) # µs a tick of ticks
