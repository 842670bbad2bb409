#!/usr/bin/env bash
# examples/fusebox_client.py (standard library only) against a real
# `fusebox run` and the fixture: gate_allows() and allow() answer as the
# instance does, report() feeds the breaker (two failures open it, and
# then the gate blocks), an unknown dependency is refused, and with no
# instance gate_allows() is False. Prints TAP for tests/run-suites.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
fusebox=${FUSEBOX_BIN:-$top/build/tests/fusebox}
fixture=${FIXTURE_BIN:-$top/build/tests/fixture-httpd}
tmp=$(mktemp -d /tmp/fusebox-py-XXXXXX)
chmod 700 "$tmp"
fx= fb=
cleanup() {
	[ -n "$fb" ] && kill -KILL "$fb" 2>/dev/null
	[ -n "$fx" ] && kill -TERM "$fx" 2>/dev/null
	wait 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

. "$top/tests/tap.sh"
py() { # py CODE: runs CODE with the module imported as fb
	PYTHONPATH="$top/examples" FUSEBOX_SOCKET="$tmp/ctl.sock" \
		python3 -c "import fusebox_client as fb, sys
$1"
}

"$fixture" --port-file "$tmp/port" 2>"$tmp/fixture.err" &
fx=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")
cat >"$tmp/fusebox.ini" <<INI
[fusebox]
log = events.jsonl
control_socket = ctl.sock
host = py

[defaults]
interval = 1h
failure_threshold = 2
recovery_timeout = 30s

[dep api]
url = http://127.0.0.1:$port/api
critical = true
INI
"$fusebox" run --config "$tmp/fusebox.ini" >"$tmp/run.out" 2>"$tmp/run.err" &
fb=$!
for _ in $(seq 200); do
	grep -q '"to":"allowed"' "$tmp/events.jsonl" 2>/dev/null && break
	sleep 0.05
done

check "gate_allows() is True while the gate allows" \
	py 'sys.exit(0 if fb.gate_allows() else 1)'
check "allow() answers allowed, closed, healthy" \
	py 'a = fb.allow("api"); sys.exit(0 if (a["allowed"], a["state"], a["health"]) == (True, "closed", "healthy") else 1)'
check "report() of a success is taken" \
	py 'sys.exit(0 if fb.report("api", True, 3.2) else 1)'
check "an unknown dependency: allow() raises, report() is False" \
	py '
try:
    fb.allow("nope"); sys.exit(1)
except fb.Unavailable as e:
    assert "unknown dependency" in str(e), e
sys.exit(0 if fb.report("nope", False) is False else 1)'
check "two reported failures open the breaker; the gate blocks" \
	py '
assert fb.report("api", False, 12, "connect: refused")
assert fb.report("api", False, 12, "connect: refused")
a = fb.allow("api")
assert (a["allowed"], a["state"]) == (False, "open"), a
assert a["retry_after_ms"] > 0, a
sys.exit(0 if fb.gate_allows() is False else 1)'
check "the instance logged the transition with the reported error" \
	grep -q '"to":"open".*"error":"connect: refused"' "$tmp/events.jsonl"
check "the example runs (python3 examples/fusebox_client.py api)" \
	env FUSEBOX_SOCKET="$tmp/ctl.sock" python3 "$top/examples/fusebox_client.py" api
kill -TERM "$fb"
wait "$fb" 2>/dev/null
fb=
check "no instance: gate_allows() is False" \
	py 'sys.exit(0 if fb.gate_allows() is False else 1)'
check "no instance: report() is False, never raises" \
	py 'sys.exit(0 if fb.report("api", True) is False else 1)'

echo "1..$n"
[ "$failed" -eq 0 ]
