# TAP for the shell suites (sourced, not run): `check WHAT COMMAND...`
# runs COMMAND and prints one TAP line, with its output on failure;
# $n counts the checks and $failed the failures.
n=0 failed=0
check() {
	local what=$1 out
	shift
	n=$((n + 1))
	if out=$("$@" 2>&1); then
		echo "ok $n - $what"
	else
		echo "not ok $n - $what"
		printf '%s\n' "$out" | head -20 | sed 's/^/# /'
		failed=$((failed + 1))
	fi
}
