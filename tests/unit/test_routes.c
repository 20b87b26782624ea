/*
 * test_routes.c: docs/openapi.json, as built into the binary, describes exactly the
 * daemon's route table (gateway/api.c). Every operation of the description is taken by a
 * route (api_route_lookup, the daemon's own routing, on its path with each parameter
 * filled in), every route has at least one operation, and both say the same about who
 * may call it: the route's roles are the operation's x-signpost-roles, a route without
 * roles has `"security": []`, and one with roles takes the key or the session cookie, a
 * write with the cookie also its CSRF token.
 *
 *   test_routes [OPENAPI.json]   a file instead of the embedded description (the
 *                                self-check in tests/openapi/selfcheck.sh uses broken copies)
 *
 * Each problem is one line naming the method and path and what to add or change.
 */
#include <json-c/json.h>
#include <stdarg.h>
#include <stdlib.h>

#include "common/util.h"
#include "gateway/api.h"
#include "gateway/docs.h"
#include "tests/check.h"

static const char *const routes_methods[] = { "get", "put", "post", "patch", "delete" };

static const struct {
	const char *name;
	unsigned bit;
} routes_roles[] = {
	{ "admin", AUTH_ROLE_ADMIN },
	{ "officer", AUTH_ROLE_OFFICER },
	{ "partner", AUTH_ROLE_PARTNER },
};

static void routes_fail(const char *fmt, ...) PRINTF_LIKE(1, 2);
static void routes_fail(const char *fmt, ...)
{
	va_list ap;

	check_failures++;
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
}

static struct json_object *routes_description(const char *file)
{
	if (file)
		return json_object_from_file(file);
	for (size_t i = 0; i < docs_files_count; i++)
		if (strcmp(docs_files[i].path, "openapi.json") == 0)
			return json_tokener_parse((const char *)docs_files[i].data);
	return NULL;
}

/* "/v1/tenants/{id}/texts" as a request path: each parameter becomes "1". */
static char *routes_concrete(const char *template)
{
	struct sbuf b;

	sbuf_init(&b);
	for (const char *s = template; *s; s++) {
		if (*s == '{') {
			const char *end = strchr(s, '}');
			if (end) {
				sbuf_addc(&b, '1');
				s = end;
				continue;
			}
		}
		sbuf_addc(&b, *s);
	}
	return sbuf_detach(&b);
}

/* "/v1/tenants/{}" as the description writes its paths: "/v1/tenants/{id}". */
static char *routes_template(const char *pattern)
{
	struct sbuf b;

	sbuf_init(&b);
	for (const char *s = pattern; *s; s++) {
		if (strncmp(s, "{}", 2) == 0) {
			sbuf_adds(&b, "{id}");
			s++;
		} else if (strncmp(s, "{*}", 3) == 0) {
			sbuf_adds(&b, "{path}");
			s += 2;
		} else {
			sbuf_addc(&b, *s);
		}
	}
	return sbuf_detach(&b);
}

static void routes_roles_text(unsigned roles, char *out, size_t size)
{
	snprintf(out, size, "%s", roles ? "" : "no key");
	for (size_t i = 0; i < ARRAY_LEN(routes_roles); i++) {
		if (!(roles & routes_roles[i].bit))
			continue;
		size_t n = strlen(out);
		snprintf(out + n, size - n, "%s%s", n ? ", " : "", routes_roles[i].name);
	}
}

/* x-signpost-roles as role bits; unknown names are reported. */
static unsigned routes_doc_roles(struct json_object *op, const char *what)
{
	struct json_object *list;
	unsigned roles = 0;

	if (!json_object_object_get_ex(op, "x-signpost-roles", &list))
		return 0;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		const char *name = json_object_get_string(json_object_array_get_idx(list, i));
		size_t r = 0;
		while (r < ARRAY_LEN(routes_roles) && strcmp(routes_roles[r].name, name) != 0)
			r++;
		if (r == ARRAY_LEN(routes_roles))
			routes_fail("%s: x-signpost-roles names \"%s\", which is not a role", what, name);
		else
			roles |= routes_roles[r].bit;
	}
	return roles;
}

/* Whether one of the operation's security alternatives is exactly the schemes listed. */
static bool routes_has_security(struct json_object *security, const char *a, const char *b)
{
	for (size_t i = 0; i < json_object_array_length(security); i++) {
		struct json_object *alt = json_object_array_get_idx(security, i);
		size_t n = (size_t)json_object_object_length(alt);
		if (n == (b ? 2u : 1u) && json_object_object_get_ex(alt, a, NULL) &&
		    (!b || json_object_object_get_ex(alt, b, NULL)))
			return true;
	}
	return false;
}

static void routes_check_security(struct json_object *op, const char *method, unsigned roles,
				  const char *what)
{
	struct json_object *security;
	bool write = strcmp(method, "get") != 0;

	if (!json_object_object_get_ex(op, "security", &security) ||
	    !json_object_is_type(security, json_type_array)) {
		routes_fail("%s: no \"security\" (\"security\": [] when no key is needed)", what);
		return;
	}
	if (!roles && json_object_array_length(security) != 0)
		routes_fail("%s: the route needs no key, so its \"security\" must be []", what);
	if (roles && !routes_has_security(security, "bearerAuth", NULL))
		routes_fail("%s: \"security\" lacks {\"bearerAuth\": []}", what);
	if (roles && !routes_has_security(security, "sessionCookie", write ? "csrfToken" : NULL))
		routes_fail("%s: \"security\" lacks {\"sessionCookie\": []%s}", what,
			    write ? ", \"csrfToken\": []" : "");
}

static void routes_check_operation(const char *template, const char *method,
				   struct json_object *op, bool *covered)
{
	size_t n;
	const struct api_route *table = api_route_table(&n);
	char upper[8], what[320], want[64], got[64];
	size_t i;

	for (i = 0; method[i] && i < sizeof(upper) - 1; i++)
		upper[i] = (char)(method[i] - 'a' + 'A');
	upper[i] = '\0';
	snprintf(what, sizeof(what), "%s %s", upper, template);
	char *path = routes_concrete(template);
	const struct api_route *r = api_route_lookup(upper, path);
	free(path);
	check_count++;
	if (!r) {
		routes_fail("docs/openapi.json describes %s, which no route in gateway/api.c's table "
			    "takes: remove it from the description, or add the route", what);
		return;
	}
	covered[r - table] = true;
	unsigned doc_roles = routes_doc_roles(op, what);
	if (doc_roles != r->roles) {
		routes_roles_text(r->roles, want, sizeof(want));
		routes_roles_text(doc_roles, got, sizeof(got));
		routes_fail("%s: the route table lets %s call it; its x-signpost-roles say %s", what,
			    want, got);
	}
	routes_check_security(op, method, r->roles, what);
}

static void routes_check_path(const char *template, struct json_object *item, bool *covered)
{
	for (size_t m = 0; m < ARRAY_LEN(routes_methods); m++) {
		struct json_object *op;
		if (json_object_object_get_ex(item, routes_methods[m], &op))
			routes_check_operation(template, routes_methods[m], op, covered);
	}
}

static void routes_check_uncovered(const bool *covered)
{
	size_t n;
	const struct api_route *table = api_route_table(&n);

	for (size_t i = 0; i < n; i++) {
		check_count++;
		if (covered[i])
			continue;
		char *t = routes_template(table[i].pattern);
		char method[8];
		size_t k;
		for (k = 0; table[i].method[k] && k < sizeof(method) - 1; k++)
			method[k] = (char)(table[i].method[k] - 'A' + 'a');
		method[k] = '\0';
		routes_fail("%s %s is in gateway/api.c's route table but not in docs/openapi.json: "
			    "add \"%s\" under \"paths\" > \"%s\" (README, \"The API description\")",
			    table[i].method, table[i].pattern, method, t);
		free(t);
	}
}

int main(int argc, char **argv)
{
	const char *file = argc > 1 ? argv[1] : NULL;
	struct json_object *doc = routes_description(file), *paths;
	size_t n;

	api_route_table(&n);
	bool *covered = xcalloc(n, sizeof(*covered));
	if (!doc || !json_object_object_get_ex(doc, "paths", &paths)) {
		routes_fail("%s: not an OpenAPI description with \"paths\"",
			    file ? file : "the embedded docs/openapi.json");
	} else {
		json_object_object_foreach(paths, template, item)
			routes_check_path(template, item, covered);
		routes_check_uncovered(covered);
	}
	free(covered);
	json_object_put(doc);
	return check_summary("routes");
}
