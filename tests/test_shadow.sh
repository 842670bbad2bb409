#!/usr/bin/env bash
# Shadow settings (issue 15): `shadow.KEY = VALUE` in [dep NAME] runs a
# second breaker on the live outcomes of a real `fusebox run`; it logs its
# would-be transitions as `shadow` events, `status` shows where it
# disagrees, and the real breaker, the gate and the transitions stay as
# they would be without it. Prints TAP for tests/run-suites.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/tests
tmp=$(mktemp -d /tmp/fusebox-shadow-XXXXXX)
fx= run=
cleanup() {
	[ -n "$run" ] && kill "$run" 2>/dev/null
	[ -n "$fx" ] && kill "$fx" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

n=0 failed=0
ok() { n=$((n + 1)); echo "ok $n - $1"; }
not_ok() {
	n=$((n + 1))
	echo "not ok $n - $1"
	[ -n "${2:-}" ] && printf '%s\n' "$2" | head -20 | sed 's/^/# /'
	failed=$((failed + 1))
}

"$bin/fixture-httpd" --port-file "$tmp/port" --config /h=fail 2>/dev/null &
fx=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
port=$(cat "$tmp/port")
cat >"$tmp/c.ini" <<INI
[fusebox]
log = $tmp/ev.jsonl
control_socket = $tmp/s.sock
[defaults]
interval = 100ms
timeout = 300ms
[dep api]
url = http://127.0.0.1:$port/h
critical = true
failure_threshold = 1000
shadow.failure_threshold = 3
shadow.recovery_timeout = 500ms
[dep plain]
url = http://127.0.0.1:$port/p
INI
"$bin/fusebox-engine" run --config "$tmp/c.ini" 2>"$tmp/run.err" &
run=$!
status_json() { "$bin/fusebox" status --config "$tmp/c.ini" --json 2>/dev/null; }
py() { python3 -c 'import json,sys; r=json.load(sys.stdin); print(eval(sys.argv[1]))' "$1"; }
api='[d for d in r["dependencies"] if d["service"]=="api"][0]'
got=
for _ in $(seq 100); do
	got=$(status_json | py "($api['state'], $api.get('shadow',{}).get('state'), $api.get('shadow',{}).get('agrees'))" 2>/dev/null)
	case $got in "('closed', 'open', False)"|"('closed', 'half_open', False)") break ;; esac
	sleep 0.1
done
case $got in
"('closed', 'open', False)"|"('closed', 'half_open', False)") ok "status --json: the shadow is open, the real breaker closed, they disagree $got" ;;
*) not_ok "status --json shows the shadow disagreeing" "$got" ;;
esac
plain=$(status_json | py "'shadow' in [d for d in r['dependencies'] if d['service']=='plain'][0]")
[ "$plain" = False ] && ok "a dependency without shadow settings has no shadow" ||
	not_ok "no shadow object without shadow settings" "$plain"
text=$("$bin/fusebox" status --config "$tmp/c.ini" 2>&1)
case $text in
*"shadow: "*"(disagrees with the real breaker)"*) ok "status shows the disagreement" ;;
*) not_ok "status shows the disagreement" "$text" ;;
esac
sleep 1.5 # a few more would-be trials
kill -TERM "$run"
wait "$run"
run=
kill "$fx"
fx=

shadows=$(grep -c '"kind":"shadow"' "$tmp/ev.jsonl")
opens=$(grep '"kind":"shadow"' "$tmp/ev.jsonl" | grep -c '"to":"open"')
first=$(grep -m1 '"kind":"shadow"' "$tmp/ev.jsonl")
case $first in
*'"dep":"api","from":"closed","to":"open","reason":"3 consecutive failures","failures":3,"retry_after_ms":'*)
	ok "the shadow's would-be opening is logged ($shadows shadow events, $opens openings)" ;;
*) not_ok "the shadow's would-be opening is logged" "$first" ;;
esac
[ "$opens" -ge 2 ] && ok "its trials fail and it opens again on its own clock" ||
	not_ok "the shadow opens again after failed trials" "$(grep shadow "$tmp/ev.jsonl")"
real=$(grep -c '"kind":"transition"' "$tmp/ev.jsonl")
[ "$real" -eq 0 ] && ok "the real breaker never moved (0 transitions)" ||
	not_ok "the real breaker never moved" "$(grep transition "$tmp/ev.jsonl")"
# the gate follows the real breaker only: no gate event names an open api
blocked_open=$(grep '"kind":"gate"' "$tmp/ev.jsonl" | grep -c 'api is open')
[ "$blocked_open" -eq 0 ] && ok "the gate never followed the shadow" ||
	not_ok "the gate never followed the shadow" "$(grep gate "$tmp/ev.jsonl")"
out=$("$bin/fusebox" replay "$tmp/ev.jsonl" --kind shadow 2>&1)
case $out in
*"api shadow would go closed -> open (3 consecutive failures; retry in"*) ok "replay --kind shadow tells what it would have done" ;;
*) not_ok "replay --kind shadow" "$out" ;;
esac
what=$("$bin/fusebox" replay "$tmp/ev.jsonl" --config "$tmp/c.ini" --what-if failure_threshold=1000 --json | py "r['reproduced'] and [d for d in r['dependencies'] if d['dep']=='api'][0]['runs'][0]['transitions'] == 0")
[ "$what" = True ] && ok "shadow events are not taken for real transitions by --what-if" ||
	not_ok "--what-if ignores shadow events" "$what"

printf '[dep x]\nurl = http://127.0.0.1:1/\nshadow.timeout = 5s\n' >"$tmp/bad.ini"
out=$("$bin/fusebox" check-config "$tmp/bad.ini" 2>&1)
rc=$?
case $rc:$out in
78:*"bad.ini:3"*"shadow.timeout: not a breaker tunable"*) ok "shadow.timeout is refused with file and line" ;;
*) not_ok "shadow.timeout is refused" "$rc $out" ;;
esac
printf '[dep x]\nurl = http://127.0.0.1:1/\nshadow.failure_threshold = many\n' >"$tmp/bad.ini"
out=$("$bin/fusebox" check-config "$tmp/bad.ini" 2>&1)
[ $? -eq 78 ] && ok "a bad shadow value is refused ($out)" || not_ok "a bad shadow value is refused" "$out"

echo "1..$n"
[ "$failed" -eq 0 ]
