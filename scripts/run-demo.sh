#!/bin/sh
# `make run`: signpostd with the built-in simulator and, unless SIGNPOST_DATABASE_URL is
# set, a private PostgreSQL under .run/ in the checkout. Ctrl-C stops both.
set -eu
cd "$(dirname "$0")/.."
top=$(pwd)
listen=${SIGNPOST_LISTEN:-127.0.0.1:8080}
own_pg=""

stop() {
	trap - INT TERM EXIT
	if [ -n "${daemon:-}" ]; then
		kill -TERM "$daemon" 2>/dev/null || true
		wait "$daemon" 2>/dev/null || true
	fi
	[ -n "$own_pg" ] && scripts/pg.sh stop "$top/.run/pg" && echo "private PostgreSQL stopped"
	exit 0
}
trap stop INT TERM EXIT

if [ -z "${SIGNPOST_DATABASE_URL:-}" ]; then
	# as the database's owner, not a superuser, so row-level security applies (pg.sh)
	SIGNPOST_DATABASE_URL=$(scripts/pg.sh start "$top/.run/pg" | sed 's/user=postgres/user=signpost/')
	own_pg=yes
	echo "private PostgreSQL running in .run/pg"
fi
export SIGNPOST_DATABASE_URL SIGNPOST_LISTEN="$listen"

bin/signpostd migrate
key=$(bin/signpostd keys create --role admin --label "make run")
# The first time, an administrator for the console, with a password made here and shown once.
admin_email=admin@example.org
admin_password=$(head -c 15 /dev/urandom | base64 | tr -d '/+=')
if ! out=$(echo "$admin_password" | bin/signpostd users create --email "$admin_email" \
	--role admin --name "Demo administrator" 2>&1); then
	echo "$out" | grep -q "already exists" || { echo "$out" >&2; exit 1; }
	admin_password=""
fi
bin/signpostd serve &
daemon=$!
base="http://$listen"
i=0
until curl -fs "$base/readyz" >/dev/null 2>&1; do
	i=$((i + 1))
	if [ $i -gt 100 ] || ! kill -0 "$daemon" 2>/dev/null; then
		echo "signpostd did not start; see the messages above" >&2
		exit 1
	fi
	sleep 0.1
done

# The consortium's landlords, demo tenants (numbers from Ofcom's drama range) and two
# partners, once. Importing the same file again only updates the same tenants.
for l in '{"code":"ORBIT","name":"Orbit"}' '{"code":"GOLDING","name":"Golding Homes"}' \
	'{"code":"TCHG","name":"Town & Country Housing"}' '{"code":"WKH","name":"West Kent"}'; do
	curl -s -X POST "$base/v1/landlords" -H "Authorization: Bearer $key" -d "$l" >/dev/null
done
curl -fs -X POST "$base/v1/tenants/import" -H "Authorization: Bearer $key" \
	-H "Content-Type: text/csv" --data-binary @scripts/demo-tenants.csv >/dev/null
if [ "$(curl -fs "$base/v1/partners" -H "Authorization: Bearer $key")" = '{"items": []}' ]; then
	for p in '{"name":"Thanet Library","categories":["digital_skills","getting_online","communicating","money"],"boroughs":["Thanet"]}' \
		'{"name":"Kent Jobs and Skills","categories":["jobs","universal_credit","digital_skills","staying_safe"],"boroughs":["Thanet","Maidstone","Tunbridge Wells"]}'; do
		curl -fs -X POST "$base/v1/partners" -H "Authorization: Bearer $key" -d "$p" >/dev/null
	done
fi

if [ -n "$admin_password" ]; then
	signin="Sign in as $admin_email with the password $admin_password
(shown once; bin/signpostd users set-password --email $admin_email sets a new one)."
else
	signin="Sign in as $admin_email with the password shown the first time
(bin/signpostd users set-password --email $admin_email sets a new one)."
fi

cat <<EOT

signpostd is running on $base with the built-in SMS simulator.

The console:  $base/console/
$signin
Admin API key (shown once):  $key

Try it (README.md explains each step):
  K=$key
  curl -s -X POST $base/v1/tenants -H "Authorization: Bearer \$K" \\
    -d '{"external_ref":"T-1","first_name":"Sam","phone":"07700 900123","borough":"Thanet","landlord":"Orbit","tags":["older"]}'
  curl -s -X POST $base/v1/campaigns -H "Authorization: Bearer \$K" \\
    -d '{"name":"Get online","body":"Hi {first_name|there}, free help getting online. Reply SKILLS, or STOP to opt out.","audience":{"boroughs":["Thanet"]},"send_window":{"days":["mon","tue","wed","thu","fri","sat","sun"],"start":"00:00","end":"24:00"}}'
  curl -s -X POST $base/v1/campaigns/1/schedule -H "Authorization: Bearer \$K"
  curl -s $base/v1/campaigns/1 -H "Authorization: Bearer \$K"
  curl -s $base/v1/sim/messages -H "Authorization: Bearer \$K"
  curl -s -X POST $base/v1/sim/inbound -H "Authorization: Bearer \$K" -d '{"from":"+447700900123","text":"SKILLS"}'
  curl -s $base/v1/help-requests -H "Authorization: Bearer \$K"

Press Ctrl-C to stop.
EOT
wait "$daemon"
