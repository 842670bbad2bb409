#!/usr/bin/env bash
# replay --what-if over a 1,000,000-event log written by the real engine
# on a simulated clock (bench_outcomes LOG N: 200 dependencies, half of
# them flapping), against the console's replay index load of the same log
# in the same run. Target: under 1 s, the replay index's order.
# Prints "bench NAME VALUE UNIT" lines.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/fusebox-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
"$here/build/bench/bench_outcomes" "$dir/events.jsonl" 1000000
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >"$dir/out" 2>/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}'; }
fb=$(secs "$here/fusebox" replay "$dir/events.jsonl" --config "$dir/events.jsonl.ini" \
	--what-if failure_threshold=3 --json)
ok=$(grep -c '"reproduced":true' "$dir/out" || true)
two=$(secs "$here/fusebox" replay "$dir/events.jsonl" --config "$dir/events.jsonl.ini" \
	--what-if failure_threshold=3 --what-if recovery_timeout=2m --json)
echo "bench whatif_log_mb $(du -m "$dir/events.jsonl" | cut -f1) MB"
echo "bench whatif_1m_events_s $fb s"
echo "bench whatif_1m_events_two_sets_s $two s"
echo "bench whatif_reproduced $ok bool"
"$here/build/bench/replay_index" "$dir/events.jsonl" | grep -E 'replay_open_s|replay_events'
