#!/usr/bin/env bash
# Start time with a big event log (SPEC 2: what an operator decided
# survives the instance, and reading it back must not slow a start by more
# than 100 ms at any log size). The log: a trip and a gate lock at its
# very start, then flapping dependencies up to 1 GB (gen_events). Timed:
# from exec of `fusebox run` to a gate_check answered on its control
# socket, each start ended with kill -9. The first start on the big log
# has no checkpoint yet and reads all of it (restore_scan_start_ms); then
# BENCH_RESTORE_RUNS starts on it (restored from the checkpoint and the
# events after it) alternate with starts on an empty log, in the same run:
# medians, and their difference. Prints "bench NAME VALUE UNIT" lines.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/fusebox-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
runs=${BENCH_RESTORE_RUNS:-7}
mb=${BENCH_RESTORE_MB:-1024}
fb="$here/fusebox"
cc -O2 -o "$dir/gen" "$here/tests/bench/gen_events.c"
cc -O2 -o "$dir/start_ms" "$here/tests/bench/start_ms.c"

config() { # DIR
	mkdir -p "$1"
	cat >"$1/fusebox.ini" <<EOF
[fusebox]
log = events.jsonl
control_socket = ctl.sock
host = web-1
log_max_size = 0
log_keep = 5

[defaults]
interval = 5s
timeout = 1s

[dep api]
url = tcp://127.0.0.1:9
critical = true

[dep db]
url = tcp://127.0.0.1:9
EOF
}
config "$dir/big"
config "$dir/empty"

# the decisions, then about 180 bytes an event up to the size asked for
ts='"ts":"2026-11-22T00:00:0'
{
	echo "{\"v\":1,\"seq\":1,${ts}0.000Z\",\"host\":\"web-1\",\"kind\":\"start\",\"version\":\"0.1.0\",\"config\":\"fusebox.ini\"}"
	echo "{\"v\":1,\"seq\":2,${ts}1.000Z\",\"host\":\"web-1\",\"kind\":\"operator\",\"action\":\"trip\",\"dep\":\"api\",\"actor\":\"alice (uid 1000)\",\"reason\":\"vendor outage\"}"
	echo "{\"v\":1,\"seq\":3,${ts}1.000Z\",\"host\":\"web-1\",\"kind\":\"transition\",\"dep\":\"api\",\"from\":\"closed\",\"to\":\"forced_open\",\"health\":\"unhealthy\",\"reason\":\"tripped by alice (uid 1000): vendor outage\",\"failures\":0,\"retry_after_ms\":0,\"error\":\"\"}"
	echo "{\"v\":1,\"seq\":4,${ts}2.000Z\",\"host\":\"web-1\",\"kind\":\"operator\",\"action\":\"gate_block\",\"actor\":\"alice (uid 1000)\",\"reason\":\"migration\"}"
	"$dir/gen" $((mb * 1048576 / 182)) web-1 5
} >"$dir/big/events.jsonl"
chmod 600 "$dir/big/events.jsonl"

# "MS" of one start of DIR; the reply must show the lock restored
start() { # DIR RUN
	local out
	out=$("$dir/start_ms" "$1/ctl.sock" "$1/err.$2" "$fb" run --config "$1/fusebox.ini")
	case "$1:$out" in
	"$dir/big:"*migration*|"$dir/empty:"*) echo "${out%% *}" ;;
	*) echo "bench_restore: the lock was not restored: $out" >&2; exit 1 ;;
	esac
}
median() { sort -n | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}'; }

scan=$(start "$dir/big" 0)
for i in $(seq 1 "$runs"); do
	start "$dir/big" "$i" >>"$dir/big.ms"
	rm -f "$dir/empty"/events.jsonl*
	start "$dir/empty" "$i" >>"$dir/empty.ms"
done
if grep -l "whole event log" "$dir"/big/err.[1-9]* >/dev/null 2>&1; then
	echo "bench_restore: a start with a checkpoint read the whole log" >&2
	exit 1
fi
big=$(median <"$dir/big.ms")
empty=$(median <"$dir/empty.ms")
echo "bench restore_log_mb $(du -m "$dir/big/events.jsonl" | cut -f1) MB"
echo "bench restore_scan_start_ms $scan ms"
echo "bench restore_start_ms $big ms"
echo "bench restore_start_empty_ms $empty ms"
awk -v a="$big" -v b="$empty" 'BEGIN{printf "bench restore_start_delta_ms %.1f ms\n", a-b}'
