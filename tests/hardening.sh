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
	bin=$1
	missing=0
	header=$(readelf -hW "$bin") || return 2
	dynamic=$(readelf -dW "$bin")
	segments=$(readelf -lW "$bin")
	symbols=$(readelf --dyn-syms -W "$bin")
	if ! echo "$header" | grep -q 'Type: *DYN' ||
		! echo "$dynamic" | grep -q 'FLAGS_1.*PIE'; then
		echo "  not a position-independent executable (PIE)"
		missing=1
	fi
	if ! echo "$segments" | grep -q 'GNU_RELRO'; then
		echo "  no RELRO segment"
		missing=1
	fi
	if ! echo "$dynamic" | grep -Eq '\(FLAGS\).*BIND_NOW|FLAGS_1.*NOW'; then
		echo "  relocations are bound lazily: partial RELRO, not full (-Wl,-z,now)"
		missing=1
	fi
	if ! echo "$symbols" | grep -q ' __stack_chk_fail'; then
		echo "  no stack protector (__stack_chk_fail)"
		missing=1
	fi
	if ! echo "$symbols" | grep -Eq ' __[a-z0-9_]+_chk(@| |$)'; then
		echo "  no fortified libc calls (_FORTIFY_SOURCE)"
		missing=1
	fi
	return $missing
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
