#!/usr/bin/env bash
# Console CPU: the live console (in a detached tmux at 80x24) with 200
# dependencies probed every second against a local nginx, measured from
# /proc over 20 s. Target: under 2% of a core. Prints "bench" lines.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/fusebox-bench-XXXXXX)
sock="fbbench$$"
trap 'tmux -L "$sock" kill-server 2>/dev/null; kill $(cat "$dir/nginx.pid" 2>/dev/null) 2>/dev/null; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')
cat >"$dir/nginx.conf" <<NGINX
daemon on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 1024; }
http { access_log off; server { listen 127.0.0.1:$port; location / { return 200 "ok\n"; } } }
NGINX
nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"
{
	printf '[fusebox]\nlog = %s/events.jsonl\ncontrol_socket = %s/fb.sock\n' "$dir" "$dir"
	printf '[defaults]\ninterval = 1s\n'
	for i in $(seq 1 200); do printf '[dep dep-%03d]\nurl = http://127.0.0.1:%d/h%d\n' "$i" "$port" "$i"; done
} >"$dir/c.ini"
tmux -L "$sock" new-session -d -x 80 -y 24 "LANG=C.UTF-8 exec $here/fusebox --config $dir/c.ini"
sleep 3
pid=$(tmux -L "$sock" list-panes -F '#{pane_pid}')
ticks() { awk '{print $14 + $15}' "/proc/$pid/stat"; }
hz=$(getconf CLK_TCK)
t0=$(ticks); s0=$(date +%s.%N)
sleep 20
t1=$(ticks); s1=$(date +%s.%N)
awk -v a="$t0" -v b="$t1" -v hz="$hz" -v s0="$s0" -v s1="$s1" \
	'BEGIN{printf "bench console_cpu_200deps_pct %.2f %%core\n", (b-a)/hz/(s1-s0)*100}'
