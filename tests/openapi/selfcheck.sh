#!/bin/sh
# selfcheck.sh: every check of the API description (check.sh, test_routes) must be able
# to fail.
#
# lint must refuse copies of docs/openapi.json broken three ways (a $ref to no schema, an
# example its schema refuses, a response without its description). The route check
# ($BUILD/tests/test_routes) must name a route the description lacks, an operation no
# route takes, and roles or security that differ from the route table's. The exchange
# checker must pass exchanges the description allows and refuse, each for its reason,
# exchanges that it does not allow: a member it does not have, a status, route, redirect
# or method it does not list, a body or an error of the wrong shape, the wrong media type,
# a request it refuses answered 2xx, and a query parameter the daemon reads but it does
# not list; and a description that lost a member the daemon sends; and with
# --every-operation, exchanges that leave an operation uncalled. No exchanges at all is
# exit 2. Runs from any directory; needs what check.sh needs and $BUILD/tests/test_routes.
set -u
cd "$(dirname "$0")/../.." || exit 2
tmp=$(mktemp -d)
trap 'rm -rf "$tmp"' EXIT
failed=0

# expect STATUS PATTERN what... : runs what, which must exit STATUS saying PATTERN.
expect() {
	want=$1 pattern=$2
	shift 2
	out=$("$@" 2>&1)
	rc=$?
	if [ "$rc" -ne "$want" ] || ! printf '%s\n' "$out" | grep -Eq -- "$pattern"; then
		printf 'selfcheck: %s exited %s (wanted %s) without saying /%s/:\n%s\n' "$*" "$rc" \
			"$want" "$pattern" "$out" | tail -n 15
		failed=1
		return
	fi
	eval "last=\${$#}"
	printf 'ok: %s -> exit %s, /%s/\n' "$(basename "$last")" "$rc" "$pattern"
}

# break NAME PYTHON: a copy of docs/openapi.json as $tmp/NAME.json, changed by PYTHON (on d).
break_spec() {
	/usr/bin/python3 - "$tmp/$1.json" "$2" <<'PY' || exit 2
import json, sys
d = json.load(open("docs/openapi.json"))
exec(sys.argv[2])
json.dump(d, open(sys.argv[1], "w"), indent=1)
PY
}

# ---- the description itself ----
break_spec dangling 'd["components"]["schemas"]["TenantList"]["properties"]["items"]["items"] = {"$ref": "#/components/schemas/Tenent"}'
break_spec bad-example 'd["components"]["schemas"]["Tenant"]["example"]["phone"] = 447700900123'
break_spec no-description 'del d["paths"]["/healthz"]["get"]["responses"]["200"]["description"]'
expect 0 "valid" tests/openapi/check.sh lint docs/openapi.json
expect 1 "resolve" tests/openapi/check.sh lint "$tmp/dangling.json"
expect 1 "no-invalid-schema-examples" tests/openapi/check.sh lint "$tmp/bad-example.json"
expect 1 "description" tests/openapi/check.sh lint "$tmp/no-description.json"

# ---- the route table ----
routes=${BUILD:-build/san}/tests/test_routes
[ -x "$routes" ] || { echo "selfcheck: $routes is not built"; exit 2; }
break_spec no-route 'del d["paths"]["/v1/users/{id}"]["get"]'
break_spec no-such-route 'd["paths"]["/v1/no-such-route"] = {"get": d["paths"]["/v1/users"]["get"]}'
break_spec roles 'd["paths"]["/v1/partners"]["post"]["x-signpost-roles"] = ["admin", "officer"]'
break_spec no-csrf 'd["paths"]["/v1/tenants"]["post"]["security"] = [{"bearerAuth": []}, {"sessionCookie": []}]'
break_spec keyed 'd["paths"]["/healthz"]["get"]["security"] = [{"bearerAuth": []}]'
expect 0 "0 failed" "$routes" docs/openapi.json
expect 1 'GET /v1/users/\{\} is in gateway/api.c.s route table but not in docs/openapi.json: add "get" under "paths" > "/v1/users/\{id\}"' "$routes" "$tmp/no-route.json"
expect 1 "describes GET /v1/no-such-route, which no route" "$routes" "$tmp/no-such-route.json"
expect 1 "POST /v1/partners: the route table lets admin call it; its x-signpost-roles say admin, officer" "$routes" "$tmp/roles.json"
expect 1 'POST /v1/tenants: "security" lacks \{"sessionCookie": \[\], "csrfToken": \[\]\}' "$routes" "$tmp/no-csrf.json"
expect 1 'GET /healthz: the route needs no key' "$routes" "$tmp/keyed.json"

# ---- exchanges ----
# ex NAME METHOD PATH QUERY STATUS TYPE BODY [REQUEST BODY]: one recorded exchange in $tmp/NAME.jsonl.
ex() {
	/usr/bin/python3 - "$@" <<'PY' || exit 2
import json, os, sys
name, method, path, query, status, ctype, body = sys.argv[1:8]
line = {"test": "selfcheck." + name, "method": method, "path": path, "query": query,
        "status": int(status), "request": {}, "response": {"content_type": ctype, "text": body}}
if os.environ.get("REDIRECTED_FROM"):
    line["redirected_from"] = os.environ["REDIRECTED_FROM"]
if len(sys.argv) > 8:
    line["request"] = {"content_type": "application/json", "text": sys.argv[8]}
with open("%s/%s.jsonl" % (os.environ["SELFCHECK_TMP"], name), "a") as f:
    f.write(json.dumps(line) + "\n")
PY
}
export SELFCHECK_TMP="$tmp"
tenant=$(/usr/bin/python3 -c 'import json; print(json.dumps(json.load(open("docs/openapi.json"))["components"]["schemas"]["Tenant"]["example"]))')
with_extra=$(printf '%s' "$tenant" | /usr/bin/python3 -c 'import json,sys; t=json.load(sys.stdin); t["secret_note"]="x"; print(json.dumps(t))')
err='{"error": {"code": "not_found", "message": "no tenant with id 9"}}'

ex good GET /healthz "" 200 application/json '{"status": "ok"}'
ex good GET /v1/tenants/7 "" 200 application/json "$tenant"
ex good GET /v1/tenants/9 "" 404 application/json "$err"
ex good GET /v1/frobs "" 404 application/json '{"error": {"code": "not_found", "message": "no such resource: /v1/frobs"}}'
REDIRECTED_FROM=/console ex good GET /console/ "" 200 "text/html; charset=utf-8" '<!doctype html>'
REDIRECTED_FROM=/v1/partners ex redirect GET /console/ "" 200 "text/html; charset=utf-8" '<!doctype html>'
ex extra-member GET /v1/tenants/7 "" 200 application/json "$with_extra"
ex status POST /v1/tenants "" 418 application/json "$err" '{"external_ref": "T-1", "phone": "07700 900123"}'
ex route GET /v1/frobs "" 200 application/json '{}'
ex method PATCH /v1/campaigns "" 200 application/json '{}'
ex body GET /healthz "" 200 application/json '{"status": "fine"}'
ex error-shape GET /v1/tenants/9 "" 404 application/json '{"message": "no tenant with id 9"}'
ex media-type GET /v1/tenants "" 200 text/html '<p>tenants</p>'
ex accepted POST /v1/tenants "" 201 application/json "$tenant" '{"external_ref": "T-1", "phone": 7700900123}'
ex query GET /v1/tenants "colour=red" 422 application/json '{"error": {"code": "invalid", "message": "colour is not known", "field": "colour"}}'
: >"$tmp/none.jsonl"
break_spec lost-member 'del d["components"]["schemas"]["Tenant"]["properties"]["opted_out"]; d["components"]["schemas"]["Tenant"]["required"].remove("opted_out")'

check=tests/openapi/check_exchanges.py
expect 0 "5 exchanges checked.* 0 kinds of problem" /usr/bin/python3 $check docs/openapi.json "$tmp/good.jsonl"
expect 1 "secret_note' was unexpected" /usr/bin/python3 $check docs/openapi.json "$tmp/extra-member.jsonl"
expect 1 "undocumented status: 418" /usr/bin/python3 $check docs/openapi.json "$tmp/status.jsonl"
expect 1 "undocumented route" /usr/bin/python3 $check docs/openapi.json "$tmp/route.jsonl"
expect 1 "undocumented redirect: GET /v1/partners answered a redirect to /console/" /usr/bin/python3 $check docs/openapi.json "$tmp/redirect.jsonl"
expect 1 "undocumented method" /usr/bin/python3 $check docs/openapi.json "$tmp/method.jsonl"
expect 1 "response body does not match: status: 'ok' was expected" /usr/bin/python3 $check docs/openapi.json "$tmp/body.jsonl"
expect 1 "response body does not match.*'error' is a required property" /usr/bin/python3 $check docs/openapi.json "$tmp/error-shape.jsonl"
expect 1 "undocumented response type: text/html" /usr/bin/python3 $check docs/openapi.json "$tmp/media-type.jsonl"
expect 1 "refuses was accepted: body phone" /usr/bin/python3 $check docs/openapi.json "$tmp/accepted.jsonl"
expect 1 "reads a query parameter the description does not list: colour" /usr/bin/python3 $check docs/openapi.json "$tmp/query.jsonl"
expect 1 "opted_out' was unexpected" /usr/bin/python3 $check "$tmp/lost-member.json" "$tmp/good.jsonl"
expect 1 "FAIL GET /v1/partners: no test called it" tests/openapi/check.sh exchanges --every-operation "$tmp/good.jsonl"
expect 2 "no exchanges" /usr/bin/python3 $check docs/openapi.json "$tmp/none.jsonl"
expect 2 "cannot read" /usr/bin/python3 $check docs/openapi.json "$tmp/missing.jsonl"

if [ $failed -ne 0 ]; then
	echo "selfcheck: a check of the OpenAPI description passed what it should refuse"
	exit 1
fi
echo "selfcheck: each check fails when it should"
