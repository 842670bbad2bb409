#!/usr/bin/env bash
# The fuzz targets as a regression suite (TAP): each one runs over its
# whole committed corpus -- the tests' real inputs and every crash found
# so far -- and then fuzzes for FUZZ_TEST_S seconds (3 by default), so a
# parser that breaks fails `make test`. New inputs go to a scratch
# folder, never into the committed corpus.
set -u
secs=${FUZZ_TEST_S:-3}
export ASAN_OPTIONS=detect_leaks=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
targets=(tests/fuzz/fuzz_*.c)
echo "1..${#targets[@]}"
scratch=$(mktemp -d "${TMPDIR:-/tmp}/fusebox-fuzz-test-XXXXXX")
trap 'rm -rf "$scratch"' EXIT
n=0
for src in "${targets[@]}"; do
	n=$((n + 1))
	name=$(basename "$src" .c)
	t=${name#fuzz_}
	bin=build/fuzz/$name
	corpus=tests/fuzz/corpus/$t
	if [ ! -x "$bin" ]; then
		echo "not ok $n - $name: $bin not built (make fuzz-build)"
		continue
	fi
	inputs=$(find "$corpus" -type f 2>/dev/null | wc -l)
	if [ "$inputs" -eq 0 ]; then
		echo "not ok $n - $name: no seed corpus in $corpus"
		continue
	fi
	dict=()
	[ -f "tests/fuzz/$t.dict" ] && dict=(-dict="tests/fuzz/$t.dict")
	mkdir -p "$scratch/$t"
	log=$scratch/$t.log
	"$bin" "${dict[@]}" -max_total_time="$secs" -timeout=10 -max_len=16384 \
		-print_final_stats=1 -artifact_prefix="$scratch/$t-" \
		"$scratch/$t" "$corpus" >"$log" 2>&1
	rc=$?
	runs=$(grep -o 'stat::number_of_executed_units: *[0-9]*' "$log" | grep -o '[0-9]*$')
	if [ "$rc" -eq 0 ] && [ "${runs:-0}" -ge "$inputs" ]; then
		echo "ok $n - $name: $inputs corpus inputs, then ${secs}s of fuzzing ($runs runs)"
	else
		echo "not ok $n - $name: exit $rc after ${runs:-0} runs"
		grep -E 'ERROR|SUMMARY|property failed|refused|went back|#[0-9]+ 0x.* in ' "$log" |
			head -12 | sed 's/^/# /'
		for crash in "$scratch/$t"-*; do
			[ -f "$crash" ] && echo "# input: $(base64 -w0 <"$crash" | head -c 400)"
		done
	fi
done
