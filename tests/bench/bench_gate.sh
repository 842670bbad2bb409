#!/usr/bin/env bash
# `fusebox gate check` latency against a running instance (median and p95
# of 300 calls) next to starting /bin/true the same way -- the price a
# destructive job pays to ask -- and its p99 while 64 hostile peers hold
# the socket's slots. Prints "bench NAME VALUE UNIT" lines.
set -eu
here=$(cd "$(dirname "$0")/../.." && pwd)
dir=$(mktemp -d /tmp/fusebox-bench-XXXXXX)
trap 'kill "$pid" 2>/dev/null; wait 2>/dev/null; rm -rf "$dir"' EXIT
printf '[fusebox]\nlog = events.jsonl\ncontrol_socket = fb.sock\n[dep self]\nurl = tcp://127.0.0.1:1\n' >"$dir/c.ini"
"$here/fusebox" run --config "$dir/c.ini" 2>/dev/null &
pid=$!
for _ in $(seq 100); do [ -S "$dir/fb.sock" ] && break; sleep 0.05; done
python3 - "$here/fusebox" "$dir/c.ini" <<'PY'
import subprocess, sys, time
def once(argv):
    a = time.perf_counter()
    subprocess.run(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return (time.perf_counter() - a) * 1000
# Interleaved, so both see the same noise.
g, r = [], []
for _ in range(300):
    g.append(once([sys.argv[1], "gate", "check", "--config", sys.argv[2]]))
    r.append(once(["/bin/true"]))
g.sort()
r.sort()
print("bench gate_check_median_ms %.2f ms" % g[len(g) // 2])
print("bench gate_check_p95_ms %.2f ms" % g[int(len(g) * 0.95)])
print("bench gate_ref_true_ms %.2f ms" % r[len(r) // 2])
print("bench gate_check_vs_true %.2f x" % (g[len(g) // 2] / r[len(r) // 2]))

# Under attack (p99): 64 peers hold every slot, trickling a byte every 100 ms
# (a request that never ends) or saying nothing.
import os, socket, threading
sock = os.path.join(os.path.dirname(sys.argv[2]), "fb.sock")
hogs, stop = [], threading.Event()
for i in range(64):
    h = socket.socket(socket.AF_UNIX)
    h.connect(sock)
    hogs.append(h)
def trickle():
    while not stop.wait(0.1):
        for h in hogs[::2]:
            try:
                h.send(b" ")
            except OSError:
                pass
t = threading.Thread(target=trickle, daemon=True)
t.start()
a = sorted(once([sys.argv[1], "gate", "check", "--config", sys.argv[2]]) for _ in range(200))
stop.set()
print("bench gate_check_under_attack_ms %.2f ms" % a[int(len(a) * 0.99)])
print("bench gate_check_under_attack_median_ms %.2f ms" % a[len(a) // 2])
PY
