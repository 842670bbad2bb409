#!/usr/bin/env bash
# examples/chroma_status.c, built through pkg-config against the build
# tree by `make test-build`, run against the fault-injection fixture: its
# status document, its breaker opening, and a bad CHROMA_* variable named.
# Prints TAP for tests/run-suites.
set -u
top=$(cd "$(dirname "$0")/.." && pwd)
bin=$top/build/examples/chroma_status
fixture=$top/build/tests/fixture-httpd
tmp=$(mktemp -d /tmp/fusebox-example-XXXXXX)
fx=
cleanup() {
	[ -n "$fx" ] && kill "$fx" 2>/dev/null && wait "$fx" 2>/dev/null
	rm -rf "$tmp"
}
trap cleanup EXIT

. "$top/tests/tap.sh"

"$fixture" --port-file "$tmp/port" --config /down=fail 2>"$tmp/fx.err" &
fx=$!
for _ in $(seq 100); do [ -s "$tmp/port" ] && break; sleep 0.05; done
base=http://127.0.0.1:$(cat "$tmp/port")

# json FILE KEY: the value of a top-level member
json() {
	python3 -c 'import json,sys; v=json.load(open(sys.argv[1]))[sys.argv[2]]; print(v)' "$1" "$2"
}

healthy() {
	CHROMA_URL=$base "$bin" 3 /health >"$tmp/ok.json" 2>"$tmp/ok.err" || return 1
	cat "$tmp/ok.json"
	[ "$(json "$tmp/ok.json" service)" = chroma ] &&
		[ "$(json "$tmp/ok.json" state)" = closed ] &&
		[ "$(json "$tmp/ok.json" health)" = healthy ] &&
		[ "$(json "$tmp/ok.json" failure_count)" = 0 ] &&
		python3 -c 'import json,sys; d=json.load(open(sys.argv[1])); assert d["latency_ms"]["p50"] >= 0' "$tmp/ok.json"
}
check "status document of a healthy dependency" healthy

opens() {
	local rc=0
	CHROMA_URL=$base CHROMA_FAILURE_THRESHOLD=2 CHROMA_MAX_RETRIES=0 \
		"$bin" 3 /down >"$tmp/down.json" 2>"$tmp/down.err" || rc=$?
	cat "$tmp/down.json" "$tmp/down.err"
	[ $rc = 69 ] &&
		[ "$(json "$tmp/down.json" state)" = open ] &&
		[ "$(json "$tmp/down.json" health)" = unhealthy ] &&
		[ "$(json "$tmp/down.json" last_error)" = "HTTP 503" ] &&
		grep -q 'chroma is unavailable; retry in ' "$tmp/down.err" &&
		grep -q 'attempt 1/1: HTTP 503' "$tmp/down.err"
}
check "the breaker opens after CHROMA_FAILURE_THRESHOLD failures" opens

bad_env() {
	local rc=0
	CHROMA_URL=$base CHROMA_TIMEOUT=soon "$bin" 1 2>"$tmp/bad.err" || rc=$?
	cat "$tmp/bad.err"
	[ $rc = 78 ] && grep -q 'environment variable CHROMA_TIMEOUT' "$tmp/bad.err"
}
check "a bad CHROMA_TIMEOUT is refused by name" bad_env

echo "1..$n"
[ "$failed" = 0 ]
