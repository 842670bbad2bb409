#!/usr/bin/env bash
# Replay filter speed: `fusebox replay LOG --dep X --json` against
# `jq -c 'select(.dep=="X")'` over the same generated 1,000,000-event log,
# in the same run, outputs compared; grep for the same string is the
# floor. Then the console replay index over the same log (open time,
# worst seek, memory). Prints "bench NAME VALUE UNIT" lines.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/fusebox-bench-XXXXXX)
trap 'rm -rf "$dir"' EXIT
cc -O2 -o "$dir/gen" "$here/tests/bench/gen_events.c"
"$dir/gen" 1000000 >"$dir/events.jsonl"
secs() { local t0 t1; t0=$(date +%s.%N); "$@" >"$dir/out" 2>/dev/null; t1=$(date +%s.%N); awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.3f", b-a}'; }
fb=$(secs "$here/fusebox" replay "$dir/events.jsonl" --dep dep-07 --json)
mv "$dir/out" "$dir/fb.out"
jq=$(secs jq -c 'select(.dep=="dep-07")' "$dir/events.jsonl")
mv "$dir/out" "$dir/jq.out"
gr=$(secs grep -F '"dep":"dep-07"' "$dir/events.jsonl")
same=$(cmp -s "$dir/fb.out" "$dir/jq.out" && echo 1 || echo 0)
echo "bench replay_log_mb $(du -m "$dir/events.jsonl" | cut -f1) MB"
echo "bench replay_filter_s $fb s"
echo "bench replay_ref_jq_s $jq s"
echo "bench replay_ref_grep_s $gr s"
echo "bench replay_outputs_identical $same bool"
awk -v a="$jq" -v b="$fb" 'BEGIN{printf "bench replay_speedup_vs_jq %.1f x\n", a/b}'
# the console's replay index over the same log: open, seek, memory
"$here/build/bench/replay_index" "$dir/events.jsonl"
