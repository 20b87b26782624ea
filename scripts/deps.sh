#!/bin/sh
# Installs the Debian 12 packages signpost needs to build, run and test, when missing.
# Usage: scripts/deps.sh [bench] [--list]   (--list prints the missing packages instead)
set -eu
list=""
for a in "$@"; do [ "$a" = --list ] && list=yes; done

pkgs="gcc make pkg-config libevent-dev libcurl4-openssl-dev libpq-dev libjson-c-dev libssl-dev
postgresql postgresql-contrib curl ca-certificates python3 python3-psycopg2 python3-phonenumbers
python3-jsonschema perl docker-compose chromium fonts-liberation2 clang libclang-rt-dev
python3-prometheus-client prometheus systemd"
for a in "$@"; do [ "$a" = bench ] && pkgs="$pkgs wrk kannel procps"; done

missing=""
for p in $pkgs; do
	dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" ||
		missing="$missing $p"
done
# The npm reference packages need Node.js and npm; any recent Node.js will do.
command -v node >/dev/null 2>&1 || missing="$missing nodejs"
command -v npm >/dev/null 2>&1 || missing="$missing npm"

[ -z "$missing" ] && exit 0
if [ -n "$list" ]; then
	echo $missing
	exit 0
fi
echo "installing Debian packages:$missing"
sudo=""
[ "$(id -u)" -eq 0 ] || sudo="sudo"
export DEBIAN_FRONTEND=noninteractive
$sudo apt-get update -q
# shellcheck disable=SC2086
$sudo apt-get install -y -q --no-install-recommends $missing
