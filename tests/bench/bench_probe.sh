#!/usr/bin/env bash
# Probe cost: the engine probing N HTTP dependencies every second for 10 s
# against a local nginx, and curl --parallel fetching the same number of
# URLs, in the same run. Also a 10,000-dependency run for memory and
# punctuality. Prints "bench NAME VALUE UNIT" lines.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
fb="$here/fusebox"
dir=$(mktemp -d /tmp/fusebox-bench-XXXXXX)
trap 'kill $(cat "$dir/nginx.pid" 2>/dev/null) 2>/dev/null; rm -rf "$dir"' EXIT
port=$(python3 -c 'import socket; s=socket.socket(); s.bind(("127.0.0.1",0)); print(s.getsockname()[1])')

cat >"$dir/nginx.conf" <<NGINX
daemon on;
worker_processes 1;
pid $dir/nginx.pid;
error_log $dir/error.log;
events { worker_connections 8192; }
http {
  access_log $dir/access.log;
  keepalive_requests 1000000;
  server { listen 127.0.0.1:$port; location / { return 200 "ok\n"; } }
}
NGINX
nginx -c "$dir/nginx.conf" -p "$dir" -e "$dir/error.log"

# A config with N http dependencies probed every second.
make_config() {
	local n=$1 file=$2
	{
		printf '[fusebox]\nlog = %s/events.jsonl\ncontrol_socket = %s/fb.sock\n' "$dir" "$dir"
		printf '[defaults]\ninterval = 1s\ntimeout = 2s\n'
		for i in $(seq 1 "$n"); do
			printf '[dep d%d]\nurl = http://127.0.0.1:%d/h%d\n' "$i" "$port" "$i"
		done
	} >"$file"
}

requests() { wc -l <"$dir/access.log"; }

# cpu seconds (user+sys) of a command, via /usr/bin/time
cpu_of() { /usr/bin/time -f '%U %S' -o "$dir/time" "$@" >/dev/null 2>"$dir/stderr"; awk '{print $1+$2}' "$dir/time"; }

n=2000
make_config $n "$dir/c2k.ini"
before=$(requests)
cpu=$(cpu_of "$fb" run --config "$dir/c2k.ini" --duration 10)
probes=$(( $(requests) - before ))
run_line=$(grep 'ran ' "$dir/stderr" || true)
p99=$(sed -n 's/.*p99 \([0-9]*\) ms.*/\1/p' <<<"$run_line")

for i in $(seq 1 $n); do printf 'url = "http://127.0.0.1:%d/h%d"\noutput = /dev/null\n' "$port" "$i"; done >"$dir/curl.cfg"
# five rounds, to get above /usr/bin/time's 10 ms resolution
before=$(requests)
ccpu=0
for round in 1 2 3 4 5; do
	c=$(cpu_of curl --parallel --parallel-max 64 -s -K "$dir/curl.cfg")
	ccpu=$(awk -v a="$ccpu" -v b="$c" 'BEGIN{print a+b}')
done
cprobes=$(( $(requests) - before ))

awk -v c="$cpu" -v p="$probes" 'BEGIN{printf "bench probe_cpu_us %.1f us/probe\n", c*1e6/p}'
awk -v c="$ccpu" -v p="$cprobes" 'BEGIN{printf "bench probe_ref_curl_us %.1f us/probe\n", c*1e6/p}'
echo "bench probe_count_2k $probes probes"
echo "bench probe_lateness_p99_2k_ms $p99 ms"

n=10000
make_config $n "$dir/c10k.ini"
before=$(requests)
cpu=$(cpu_of "$fb" run --config "$dir/c10k.ini" --duration 10)
probes=$(( $(requests) - before ))
run_line=$(grep 'ran ' "$dir/stderr" || true)
echo "bench probe_count_10k $probes probes"
echo "bench probe_lateness_p99_10k_ms $(sed -n 's/.*p99 \([0-9]*\) ms.*/\1/p' <<<"$run_line") ms"
echo "bench probe_rss_10k_mb $(sed -n 's/.*max rss \([0-9]*\) KB.*/\1/p' <<<"$run_line" | awk '{printf "%.1f", $1/1024}') MB"
awk -v c="$cpu" -v p="$probes" 'BEGIN{printf "bench probe_cpu_10k_us %.1f us/probe\n", c*1e6/p}'
