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
