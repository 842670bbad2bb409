#!/usr/bin/env bash
# The attached console's traffic and CPU (issue 11): `fusebox run` with N
# dependencies (ATTACH_DEPS, default 10000) probed every ATTACH_INTERVAL
# (default 1s) against a local nginx, a console attached to it in a
# detached tmux at 160x45, and once it settled (its snapshot and first
# full delta are taken), over SECS seconds (ATTACH_SECS, default 20) per
# phase the bytes the console read (/proc/PID/io rchar: its sockets, the
# terminal gives it nothing) and its CPU. Two phases: all healthy, then a
# tenth of them failing (each one's breaker opens and waits, so the churn
# is a burst then quiet). Prints "bench" lines:
#   attach_bytes_per_s_PHASE_N, attach_console_cpu_PHASE_N_pct  per phase
#   console_attached_cpu_10k_pct  the console's CPU over both phases, in %
#                                 of one core (target: under 5)
#   watch_bytes_per_s_10k         what it read over both phases, bytes/s
#   watch_full_status_bytes_per_s_10k
#                                 for scale: one full status document a
#                                 second (what polling `status` would take)
# (with ATTACH_DEPS other than 10000, "10k" reads as that number).
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
n=${ATTACH_DEPS:-10000}
secs=${ATTACH_SECS:-20}
interval=${ATTACH_INTERVAL:-1s}
dir=$(mktemp -d /tmp/fusebox-bench-XXXXXX)
sock="fbattach$$"
runpid=
cleanup() {
	tmux -L "$sock" kill-server 2>/dev/null || true
	[ -n "$runpid" ] && kill "$runpid" 2>/dev/null
	kill "$(cat "$dir/nginx.pid" 2>/dev/null)" 2>/dev/null
	rm -rf "$dir"
}
trap cleanup EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$dir/nginx.conf" <<NGINX
daemon on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
worker_rlimit_nofile 65536;
events { worker_connections 16384; }
http { access_log off; server { listen 127.0.0.1:$port;
  location /down/ { return 503 "down\n"; }
  location / { return 200 "ok\n"; } } }
NGINX
nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
write_config() { # $1: how many of them fail
	{
		printf '[fusebox]\nlog = %s/events.jsonl\ncontrol_socket = %s/fb.sock\nhost = bench\n' "$dir" "$dir"
		printf "[defaults]\ninterval = %s\nfailure_threshold = 3\nrecovery_timeout = 10s\n" "$interval"
		for i in $(seq 1 "$n"); do
			path="/h$i"
			[ "$i" -le "$1" ] && path="/down/h$i"
			printf '[dep dep-%05d]\nurl = http://127.0.0.1:%d%s\n' "$i" "$port" "$path"
		done
	} >"$dir/c.ini"
}
write_config 0
ulimit -n 65536 2>/dev/null || ulimit -n "$(ulimit -Hn)"
"$here/fusebox" run --config "$dir/c.ini" 2>"$dir/run.err" &
runpid=$!
for _ in $(seq 1 100); do [ -S "$dir/fb.sock" ] && break; sleep 0.1; done
# the start's storm first (a health event per dependency, each written
# to the log before it is shown): the console attaches to an instance
# that has settled
for _ in $(seq 1 600); do
	[ "$(wc -l <"$dir/events.jsonl" 2>/dev/null || echo 0)" -gt "$n" ] && break
	sleep 0.2
done
"$here/fusebox" status --config "$dir/c.ini" >/dev/null 2>&1 || true
tmux -L "$sock" -f /dev/null new-session -d -x 160 -y 45 \
	"LANG=C.UTF-8 exec $here/fusebox --config $dir/c.ini 2>$dir/console.err"
tmux -L "$sock" set-option -g remain-on-exit on
attached=
for _ in $(seq 1 300); do
	tmux -L "$sock" capture-pane -p | grep -q "attached to" && { attached=1; break; }
	sleep 0.2
done
if [ -z "$attached" ]; then
	echo "bench_attach: the console did not attach:" >&2
	cat "$dir/console.err" >&2
	tmux -L "$sock" capture-pane -p >&2
	exit 1
fi
sleep 8
pid=$(tmux -L "$sock" list-panes -F '#{pane_pid}')
rchar() { awk '/^rchar/ {print $2}' "/proc/$pid/io"; }
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
label=$n
[ "$n" = 10000 ] && label=10k
b_start=$(rchar); t_start=$(ticks); s_start=$(date +%s.%N)
measure() { # $1: the phase's name
	local b0 t0 s0 b1 t1 s1
	b0=$(rchar); t0=$(ticks); s0=$(date +%s.%N)
	sleep "$secs"
	b1=$(rchar); t1=$(ticks); s1=$(date +%s.%N)
	awk -v a="$b0" -v b="$b1" -v s0="$s0" -v s1="$s1" -v n="$n" -v p="$1" \
		'BEGIN{printf "bench attach_bytes_per_s_%s_%d %.0f B/s\n", p, n, (b-a)/(s1-s0)}'
	awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s0="$s0" -v s1="$s1" -v n="$n" -v p="$1" \
		'BEGIN{printf "bench attach_console_cpu_%s_%d_pct %.2f %%core\n", p, n, (b-a)/hz/(s1-s0)*100}'
}
measure healthy
# a tenth fail: reload the instance with their paths broken
write_config $((n / 10))
kill -HUP "$runpid"
measure failing
b_end=$(rchar); t_end=$(ticks); s_end=$(date +%s.%N)
awk -v a="$t_start" -v b="$t_end" -v hz="$hz" -v s0="$s_start" -v s1="$s_end" -v l="$label" \
	'BEGIN{printf "bench console_attached_cpu_%s_pct %.2f pct\n", l, (b-a)/hz/(s1-s0)*100}'
awk -v a="$b_start" -v b="$b_end" -v s0="$s_start" -v s1="$s_end" -v l="$label" \
	'BEGIN{printf "bench watch_bytes_per_s_%s %.0f bytes/s\n", l, (b-a)/(s1-s0)}'
status=$("$here/fusebox" status --json --config "$dir/c.ini" | wc -c)
echo "bench status_document_bytes_$n $status B"
echo "bench watch_full_status_bytes_per_s_$label $status bytes/s"
