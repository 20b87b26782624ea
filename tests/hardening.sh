#!/bin/sh
# hardening.sh: the release build (make OPT=1, as the Dockerfile builds it) must be hardened
# the way checksec reports it: a position-independent executable, full RELRO (relocations
# read-only before main: GNU_RELRO and BIND_NOW), stack canaries (__stack_chk_fail) and
# _FORTIFY_SOURCE's checked libc calls (__*_chk). Reads the binary with readelf.
#
# usage, from the repository root: tests/hardening.sh [BINARY]
# Without BINARY it builds build/opt/signpostd (make OPT=1 WERROR=1) and checks it; first
# it checks that a binary built without the flags is refused on every count, so a checker
# that cannot fail does not pass.
set -u
cd "$(dirname "$0")/.." || exit 2

# Prints what BINARY lacks, one line each; exit status 0 only when it lacks nothing.
check() {
	header=$(readelf -hW "$1") || return 2
	dynamic=$(readelf -dW "$1")
	segments=$(readelf -lW "$1")
	symbols=$(readelf --dyn-syms -W "$1")
	missing=0
	lacks "not a position-independent executable (PIE)" \
		"$header" 'Type: *DYN' "$dynamic" 'FLAGS_1.*PIE'
	lacks "no RELRO segment" "$segments" 'GNU_RELRO'
	lacks "relocations are bound lazily: partial RELRO, not full (-Wl,-z,now)" \
		"$dynamic" '\(FLAGS\).*BIND_NOW|FLAGS_1.*NOW'
	lacks "no stack protector (__stack_chk_fail)" "$symbols" ' __stack_chk_fail'
	lacks "no fortified libc calls (_FORTIFY_SOURCE)" "$symbols" ' __[a-z0-9_]+_chk(@| |$)'
	return $missing
}

# lacks MESSAGE TEXT PATTERN [TEXT PATTERN]: prints MESSAGE and sets missing unless each
# TEXT has a line matching its extended regular expression PATTERN.
lacks() {
	message=$1
	shift
	while [ $# -ge 2 ]; do
		if ! printf '%s\n' "$1" | grep -Eq -- "$2"; then
			echo "  $message"
			missing=1
			return
		fi
		shift 2
	done
}

if [ $# -gt 0 ]; then
	check "$1" || exit 1
	echo "hardening: $1 is PIE with full RELRO, stack protector and fortified calls"
	exit 0
fi

# The checker must refuse a binary built without the flags, on each of the five counts.
tmp=$(mktemp -d /tmp/signpost-hardening.XXXXXX) || exit 2
trap 'rm -rf "$tmp"' EXIT
printf '#include <stdio.h>\n#include <string.h>\nint main(int c, char **v)\n{\n\tchar b[16];\n\tstrcpy(b, c > 1 ? v[1] : "x");\n\tprintf("%%s\\n", b);\n\treturn 0;\n}\n' >"$tmp/plain.c"
if ! ${CC:-cc} -O2 -U_FORTIFY_SOURCE -fno-stack-protector -fno-pie -no-pie -Wl,-z,norelro \
	-Wl,-z,lazy -o "$tmp/plain" "$tmp/plain.c"; then
	echo "hardening: FAIL: cannot build the unhardened canary"
	exit 2
fi
refused=$(check "$tmp/plain")
if [ $? = 0 ] || [ "$(echo "$refused" | wc -l)" != 5 ]; then
	echo "hardening: FAIL: an unhardened binary was not refused on all five counts:"
	echo "$refused"
	exit 1
fi
echo "hardening: an unhardened binary is refused:"
echo "$refused"

if ! make --no-print-directory OPT=1 WERROR=1 build/opt/signpostd >"$tmp/make.log" 2>&1; then
	cat "$tmp/make.log"
	echo "hardening: FAIL: the release build (make OPT=1 WERROR=1) does not build"
	exit 1
fi
if ! check build/opt/signpostd; then
	echo "hardening: FAIL: build/opt/signpostd (make OPT=1) is not hardened"
	exit 1
fi
echo "hardening: build/opt/signpostd is PIE with full RELRO, stack protector and fortified calls"
