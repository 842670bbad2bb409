#!/usr/bin/env bash
# The fleet over Redis (issue 13), against a redis-server of its own on
# a spare port and a local nginx:
#   fleet_catchup_s_100k      an instance whose log holds 100,000 events
#                             it never published (gen_events) starts:
#                             seconds until its cursor in Redis reaches
#                             the last of them
#   fleet_publish_events_per_s those events from the first batch seen in
#                             Redis to the last (the start reads the whole
#                             log before it connects), next to
#                             redis-benchmark -P 16 XADD of events of the
#                             same size and fields in the same run (the
#                             reference: the mean of a run just before
#                             and one just after), and their ratio
#                             (target >= 0.5)
#   fleet_open_propagation_ms three instances, quorum 1, all healthy;
#                             then one sees the dependency fail: from its
#                             open (its event's ts) to the last instance
#                             rejecting (its open event's ts); the median
#                             of FLEET_ROUNDS (3) rounds; target < 1000
# Prints "bench NAME VALUE UNIT" lines.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
fb=$here/fusebox
n=${FLEET_EVENTS:-100000}
rounds=${FLEET_ROUNDS:-3}
dir=$(mktemp -d /tmp/fusebox-bench-fleet-XXXXXX)
pids=()
cleanup() {
	for p in "${pids[@]}"; do kill "$p" 2>/dev/null || true; done
	for p in "${pids[@]}"; do wait "$p" 2>/dev/null || true; done
	kill "$(cat "$dir/nginx.pid" 2>/dev/null)" 2>/dev/null || true
	[ -n "${FLEET_KEEP:-}" ] && echo "kept $dir" >&2 || rm -rf "$dir"
}
trap cleanup EXIT
freeport() { python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])'; }
rport=$(freeport)
hport=$(freeport)
redis-server --port "$rport" --bind 127.0.0.1 --save '' --appendonly no \
	--dir "$dir" --daemonize no >"$dir/redis.log" 2>&1 &
pids+=($!)
cat >"$dir/nginx.conf" <<NGINX
daemon on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$hport;
  location /down/ { return 503 "down\n"; }
  location /flip/ { if (-f $dir/flag/down) { return 503 "down\n"; } return 200 "ok\n"; }
  location / { return 200 "ok\n"; } } }
NGINX
# nginx's workers look for the flag file: let them through to it
mkdir -p "$dir/flag"
chmod 711 "$dir"
chmod 755 "$dir/flag"
nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
for _ in $(seq 1 100); do redis-cli -p "$rport" ping >/dev/null 2>&1 && break; sleep 0.1; done
rcli() { redis-cli -p "$rport" "$@"; }
now_ms() { date +%s%3N; }

# ---- catch-up and publishing rate --------------------------------------
cc -O2 -o "$dir/gen" "$here/tests/bench/gen_events.c"
mkdir -p "$dir/big"
"$dir/gen" "$n" web-1 >"$dir/big/events.jsonl"
cat >"$dir/big/c.ini" <<INI
[fusebox]
log = events.jsonl
control_socket = fb.sock
host = web-1
log_max_size = 0
log_keep = 1
[dep api]
url = http://127.0.0.1:$hport/api
[redis]
url = redis://127.0.0.1:$rport/0
service = bench
stream_max_len = 1000000
INI
# the reference: the same number of XADDs of an event of the mean size,
# with the same fields (instance, host, seq, event), pipelined 16 deep;
# run just before the publisher and just after it, and the mean taken,
# so a machine whose load moves meanwhile moves both sides alike
size=$(awk '{s+=length($0)} END{printf "%d", s/NR}' "$dir/big/events.jsonl")
payload=$(head -c "$size" /dev/zero | tr '\0' x)
id=0123456789abcdef0123456789abcdef
reference() {
	redis-benchmark -p "$rport" -n "$n" -P 16 -q \
		XADD "{fusebox:bench}:ref" MAXLEN "~" 1000000 "*" instance "$id" \
		host web-1 seq 1 event "$payload" |
		awk '{for(i=1;i<=NF;i++) if($i ~ /requests/) print $(i-1)}' | tail -1
}
ref_before=$(reference)
rcli DEL "{fusebox:bench}:ref" >/dev/null
# a known instance id, so one connection watches the cursor from before
# the start (a redis-cli forked every few ms took the machine from the
# publisher, saw the first batch late and the end late)
echo "$id" >"$dir/big/events.jsonl.instance"
python3 "$here/tests/bench/cursor_watch.py" "$rport" \
	"{fusebox:bench}:cursor" "$id" "$n" 60 >"$dir/watch" &
wpid=$!
sleep 0.3 # the watcher is connected
t0=$(now_ms)
"$fb" run --config "$dir/big/c.ini" 2>"$dir/big/err" &
pids+=($!)
if ! wait "$wpid"; then
	echo "bench_fleet: the backlog was not published (cursor $(cut -d' ' -f4 "$dir/watch"))" >&2
	tail -5 "$dir/big/err" >&2
	exit 1
fi
read -r tf cf t1 _ <"$dir/watch"
len=$(rcli XLEN "{fusebox:bench}:events")
secs=$(awk -v a="$t0" -v b="$t1" 'BEGIN{printf "%.2f", (b-a)/1000}')
# the rate once publishing runs (the start reads the whole log first)
rate=$(awk -v n="$((n - cf))" -v a="$tf" -v b="$t1" 'BEGIN{printf "%.0f", n/((b-a)/1000)}')
ref_after=$(reference)
ref=$(awk -v a="${ref_before:-0}" -v b="${ref_after:-0}" 'BEGIN{printf "%.0f", (a+b)/2}')
echo "bench fleet_catchup_s_100k $secs s ($n events, stream $len entries)"
echo "bench fleet_publish_events_per_s $rate events/s"
echo "bench fleet_publish_reference_xadd_p16_per_s ${ref:-0} events/s (before ${ref_before%.*}, after ${ref_after%.*})"
awk -v a="$rate" -v b="${ref:-0}" 'BEGIN{ if (b > 0) printf "bench fleet_publish_vs_reference %.2f x\n", a/b }'
p=${pids[-1]}
unset 'pids[-1]'
kill "$p" 2>/dev/null || true
wait "$p" 2>/dev/null || true

# ---- open propagation --------------------------------------------------
instance() { # $1 name, $2 host, $3 path, $4 service
	mkdir -p "$dir/$1"
	cat >"$dir/$1/c.ini" <<INI
[fusebox]
log = events.jsonl
control_socket = fb.sock
host = $2
[defaults]
interval = 100ms
timeout = 500ms
failure_threshold = 2
recovery_timeout = 60s
[dep api]
url = http://127.0.0.1:$hport$3
critical = true
[redis]
url = redis://127.0.0.1:$rport/0
service = $4
quorum = 1
INI
	"$fb" run --config "$dir/$1/c.ini" 2>"$dir/$1/err" &
	pids+=($!)
}
open_ts() { # the ts of the first open of api in a log, as ms
	grep -m1 '"kind":"transition","dep":"api","from":"closed","to":"open"' "$1" |
		sed 's/.*"ts":"\([^"]*\)".*/\1/' |
		xargs -I{} date -d {} +%s%3N
}
: >"$dir/prop.ms"
for r in $(seq 1 "$rounds"); do
	svc=prop$r
	instance "b$r" web-2 /api "$svc"
	instance "c$r" web-3 /api "$svc"
	for _ in $(seq 1 100); do
		[ "$(rcli ZCARD "{fusebox:$svc}:instances")" = 2 ] && break
		sleep 0.1
	done
	sleep 1
	rm -f "$dir/flag/down"
	instance "a$r" web-1 /flip/api "$svc"
	for _ in $(seq 1 100); do
		[ "$(rcli ZCARD "{fusebox:$svc}:instances")" = 3 ] && break
		sleep 0.1
	done
	sleep 1.$((r * 3))
	touch "$dir/flag/down"
	for _ in $(seq 1 100); do
		grep -q '"to":"open"' "$dir/b$r/events.jsonl" 2>/dev/null &&
			grep -q '"to":"open"' "$dir/c$r/events.jsonl" 2>/dev/null && break
		sleep 0.1
	done
	[ -n "${FLEET_DEBUG:-}" ] && rcli HGETALL "{fusebox:$svc}:dep:api" | paste - - >&2
	a=$(open_ts "$dir/a$r/events.jsonl")
	b=$(open_ts "$dir/b$r/events.jsonl")
	c=$(open_ts "$dir/c$r/events.jsonl")
	if [ -z "$a" ] || [ -z "$b" ] || [ -z "$c" ]; then
		echo "bench_fleet: round $r: the fleet did not open" >&2
		exit 1
	fi
	last=$b
	[ "$c" -gt "$last" ] && last=$c
	echo $((last - a)) >>"$dir/prop.ms"
	for _ in 1 2 3; do
		p=${pids[-1]}
		unset 'pids[-1]'
		kill "$p" 2>/dev/null || true
		wait "$p" 2>/dev/null || true
	done
done
med=$(sort -n "$dir/prop.ms" | awk '{v[NR]=$1} END{print v[int((NR+1)/2)]}')
echo "bench fleet_open_propagation_ms $med ms (rounds: $(tr '\n' ' ' <"$dir/prop.ms"))"
