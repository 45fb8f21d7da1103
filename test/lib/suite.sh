# test/lib/suite.sh: what the suite scripts in test/suites share.
# Source it after `set -u`; it defines PASSED, FAILED, q (psql, unaligned,
# stop on error) and check NAME GOT WANT, which counts and prints a result.
# A suite ends with: echo "$PASSED passed, $FAILED failed"; [ "$FAILED" -eq 0 ]

PASSED=0
FAILED=0

q()
{
	psql -X -q -v ON_ERROR_STOP=1 -At "$@"
}

check()
{
	local name=$1 got=$2 want=$3
	if [ "$got" = "$want" ]; then
		PASSED=$((PASSED + 1))
		echo "ok: $name"
	else
		FAILED=$((FAILED + 1))
		echo "not ok: $name"
		diff <(echo "$want") <(echo "$got") | head -n 20
	fi
}
