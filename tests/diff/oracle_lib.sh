# oracle_lib.sh: the part the signature oracles share; sourced, not run.
#
# oracle_check NAME BIN SCRIPT PACKAGE COUNT SEED: SCRIPT (under tests/oracles) writes
# random cases signed or judged by the npm PACKAGE, one JSON object a line, and the
# expected verdict (1 or 0) a line; "BIN --verify" must give the same verdicts. The
# comparison is first shown to notice one flipped verdict (a planted wrong answer).

# Prints each line where the verdicts differ; fails when any does.
oracle_compare() { # expect got cases
	paste -d ' ' "$1" "$2" | awk -v cases="$3" '
		{ getline c < cases }
		$1 != $2 { bad++; if (bad <= 10) printf "line %d: expected %s, got %s: %s\n", NR, $1, $2, c }
		END { if (NR == 0) { print "no cases"; exit 1 } exit bad > 0 }'
}

oracle_check() { # name bin script package count seed
	local name=$1 bin=$2 script=$3 package=$4 count=$5 seed=$6 tmp
	if [ ! -x "$bin" ]; then
		echo "$name: $bin is not built" >&2
		return 2
	fi
	if [ ! -d "tests/oracles/node_modules/$package" ]; then
		npm ci --prefix tests/oracles --silent
	fi
	tmp=$(mktemp -d)
	node "tests/oracles/$script" "$count" "$seed" "$tmp/cases" "$tmp/expect"
	"$bin" --verify <"$tmp/cases" >"$tmp/got" || true
	if [ "$(wc -l <"$tmp/got")" != "$(wc -l <"$tmp/expect")" ]; then
		echo "$name: FAIL: the verifier answered $(wc -l <"$tmp/got") of $(wc -l <"$tmp/expect") cases (seed $seed)"
		rm -rf "$tmp"
		return 1
	fi
	awk 'NR == 1 { print 1 - $1; next } { print }' "$tmp/expect" >"$tmp/flipped"
	if oracle_compare "$tmp/flipped" "$tmp/got" "$tmp/cases" >/dev/null; then
		echo "$name: FAIL: the comparison does not notice a wrong verdict"
		rm -rf "$tmp"
		return 1
	fi
	if ! oracle_compare "$tmp/expect" "$tmp/got" "$tmp/cases"; then
		echo "$name: FAIL (seed $seed)"
		rm -rf "$tmp"
		return 1
	fi
	echo "$name: ok, $(wc -l <"$tmp/expect") cases agree with npm $package (seed $seed)"
	rm -rf "$tmp"
}
