#!/bin/sh
# service.sh: how signpostd is run as a service. contrib/signpostd.service must pass
# `systemd-analyze verify` with no complaint at all (verify exits 0 on an unknown key or a
# bad value, so anything it prints fails the check too) and keep its sandboxing; the
# Dockerfile's runtime image must run as a user other than root and have a HEALTHCHECK.
# systemd-analyze verify reads unit files only: it needs no running systemd. First a unit
# with a misspelt key and one without its sandboxing must be refused, so the check can fail.
#
# usage, from the repository root: tests/service.sh   (bin/signpostd must be built)
set -u
cd "$(dirname "$0")/.." || exit 2
root=$(pwd)
work=$(mktemp -d /tmp/signpost-service.XXXXXX) || exit 2
trap 'rm -rf "$work"' EXIT

SANDBOX="Type=notify WatchdogSec= User=signpost ProtectSystem=strict NoNewPrivileges=yes
PrivateTmp=yes ProtectHome=yes RestrictAddressFamilies= SystemCallFilter=@system-service"

# Prints what is wrong with the unit file $1, one line each; 0 only when nothing is.
check_unit() {
	bad=0
	for want in $SANDBOX; do
		grep -q "^$want" "$1" || { echo "$1: no $want"; bad=1; }
	done
	# The binary where the unit says it is: verify checks that ExecStart= can run.
	sed "s|/usr/local/bin/signpostd|$root/bin/signpostd|g" "$1" > "$work/signpostd.service"
	out=$(cd "$work" && systemd-analyze verify --man=no ./signpostd.service 2>&1) || bad=1
	[ -z "$out" ] || { echo "$out"; bad=1; }
	return $bad
}

# The final stage of the Dockerfile: a USER that is not root, and a HEALTHCHECK.
check_dockerfile() {
	final=$(awk '/^FROM /{s=""} {s=s $0 "\n"} END{printf "%s", s}' "$1")
	bad=0
	user=$(printf '%s' "$final" | sed -n 's/^USER  *//p' | tail -n 1)
	case $user in "" | root | 0 | 0:*) echo "$1: the runtime image runs as root"; bad=1 ;; esac
	printf '%s' "$final" | grep -q '^HEALTHCHECK ' || { echo "$1: no HEALTHCHECK"; bad=1; }
	return $bad
}

command -v systemd-analyze >/dev/null || { echo "systemd-analyze is missing (Debian: systemd)"; exit 1; }
[ -x bin/signpostd ] || { echo "bin/signpostd is not built"; exit 1; }

# Self-check: broken files are refused.
sed 's/^ProtectSystem=strict/ProtectSistem=strict/' contrib/signpostd.service > "$work/misspelt"
check_unit "$work/misspelt" >/dev/null && { echo "a misspelt unit passed"; exit 1; }
grep -v '^NoNewPrivileges=' contrib/signpostd.service > "$work/unsandboxed"
check_unit "$work/unsandboxed" >/dev/null && { echo "a unit without NoNewPrivileges passed"; exit 1; }
sed 's/^USER .*/USER root/' Dockerfile > "$work/Dockerfile.root"
check_dockerfile "$work/Dockerfile.root" >/dev/null && { echo "a root image passed"; exit 1; }

check_unit contrib/signpostd.service || exit 1
check_dockerfile Dockerfile || exit 1
echo "contrib/signpostd.service verified; the runtime image is non-root with a HEALTHCHECK"
