#include "gateway/config.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#include "campaigns/render.h"
#include "common/codec.h"
#include "common/crypto.h"
#include "common/keys.h"
#include "infra/httpd.h"
#include "sms/phone.h"

#define CONFIG_DEFAULT_LISTEN "127.0.0.1:8080"
#define CONFIG_DEFAULT_TIMEOUT_MS 30000
#define CONFIG_DEFAULT_CONNECT_TIMEOUT_MS 5000
#define CONFIG_DEFAULT_VALIDITY_S (24 * 3600)
#define CONFIG_DEFAULT_MAX_IN_FLIGHT 64

static const char config_default_json[] =
	"{\"providers\": [{\"name\": \"sim\", \"type\": \"sim\"}], \"default_provider\": \"sim\", "
	"\"simulator\": true}";

static const char *config_env(const char *name, const char *fallback)
{
	const char *v = getenv(name);
	return v && *v ? v : fallback;
}

/* host:port from the environment variable var, whose value is listen. */
static int config_host_port(const char *var, const char *listen, char **host, int *port,
			    struct sbuf *err)
{
	const char *colon = strrchr(listen, ':');
	int64_t n;

	if (!colon || colon == listen || !str_to_i64(colon + 1, 1, 65535, &n)) {
		sbuf_printf(err, "%s: \"%s\" is not host:port (for example 127.0.0.1:8080)", var,
			    listen);
		return -1;
	}
	*host = xstrndup(listen, (size_t)(colon - listen));
	*port = (int)n;
	return 0;
}

static int config_listen(struct config *cfg, struct sbuf *err)
{
	const char *listen = config_env("SIGNPOST_LISTEN", CONFIG_DEFAULT_LISTEN);
	const char *metrics = config_env("SIGNPOST_METRICS_LISTEN", NULL);

	if (config_host_port("SIGNPOST_LISTEN", listen, &cfg->listen_host, &cfg->listen_port,
			     err) < 0 ||
	    (metrics && config_host_port("SIGNPOST_METRICS_LISTEN", metrics, &cfg->metrics_host,
					 &cfg->metrics_port, err) < 0))
		return -1;
	cfg->self_url = xasprintf("http://%s", listen);
	return 0;
}

static int config_public_url(struct config *cfg, struct sbuf *err)
{
	const char *url = config_env("SIGNPOST_PUBLIC_URL", cfg->self_url);
	size_t n = strlen(url);

	if (!str_startswith(url, "http://") && !str_startswith(url, "https://")) {
		sbuf_printf(err, "SIGNPOST_PUBLIC_URL: \"%s\" must start with http:// or https://",
			    url);
		return -1;
	}
	while (n > 0 && url[n - 1] == '/')
		n--;
	cfg->public_url = xstrndup(url, n);
	return 0;
}

/* The simulator's webhook secret: made for this process, or the running one's (reload). */
static void config_sim_secret(struct config *cfg, const char *running)
{
	unsigned char key[24];
	struct sbuf b;

	if (running) {
		cfg->sim_secret = xstrdup(running);
		return;
	}
	sbuf_init(&b);
	crypto_random(key, sizeof(key));
	sbuf_adds(&b, "whsec_");
	codec_base64_encode(&b, key, sizeof(key));
	cfg->sim_secret = sbuf_detach(&b);
}

static int config_read_file(const char *path, struct json_object **out, struct sbuf *err)
{
	struct json_tokener *tok = json_tokener_new();
	struct sbuf text;
	char chunk[4096];
	size_t n;
	int rc = -1;
	FILE *f = fopen(path, "r");

	sbuf_init(&text);
	if (!f) {
		sbuf_printf(err, "SIGNPOST_CONFIG: cannot open %s: %m", path);
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		sbuf_add(&text, chunk, n);
	*out = json_tokener_parse_ex(tok, sbuf_str(&text), (int)text.len);
	if (!*out || json_tokener_get_error(tok) != json_tokener_success ||
	    !json_object_is_type(*out, json_type_object)) {
		sbuf_printf(err, "%s: not a JSON object (%s)", path,
			    json_tokener_error_desc(json_tokener_get_error(tok)));
		json_object_put(*out);
		*out = NULL;
		goto out;
	}
	rc = 0;
out:
	if (f)
		fclose(f);
	json_tokener_free(tok);
	sbuf_free(&text);
	return rc;
}

/* ---- who may read and change the file ---- */

/* A provider key that holds a credential: its name ends in key, secret, token or password. */
static bool config_secret_key(const char *key)
{
	static const char *const ends[] = { "key", "secret", "token", "password" };
	size_t n = strlen(key);

	for (size_t i = 0; i < ARRAY_LEN(ends); i++) {
		size_t m = strlen(ends[i]);
		if (n >= m && strcmp(key + n - m, ends[i]) == 0)
			return true;
	}
	return false;
}

/* Writes "providers[i].key" of the first provider credential in root to out; false if none. */
static bool config_first_secret(struct json_object *root, char *out, size_t size)
{
	struct json_object *list;

	if (!json_object_object_get_ex(root, "providers", &list) ||
	    !json_object_is_type(list, json_type_array))
		return false;
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		struct json_object *p = json_object_array_get_idx(list, i);
		if (!json_object_is_type(p, json_type_object))
			continue;
		json_object_object_foreach(p, key, val) {
			if (config_secret_key(key) && json_object_is_type(val, json_type_string) &&
			    *json_object_get_string(val)) {
				snprintf(out, size, "providers[%zu].%s", i, key);
				return true;
			}
		}
	}
	return false;
}

/*
 * The file may be changed by its owner only (whoever can change it decides where texts
 * and partner webhooks go), and read by its owner only when it holds a credential.
 */
static int config_file_mode(const char *path, struct json_object *root, struct sbuf *err)
{
	struct stat st;
	char secret[80];

	if (stat(path, &st) < 0) {
		sbuf_printf(err, "SIGNPOST_CONFIG: cannot read %s: %m", path);
		return -1;
	}
	if (st.st_mode & (S_IWGRP | S_IWOTH)) {
		sbuf_printf(err, "SIGNPOST_CONFIG: %s can be changed by users other than its owner "
			    "(mode %04o), who could redirect texts and webhooks; run: chmod 600 %s",
			    path, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	if ((st.st_mode & (S_IRGRP | S_IROTH)) && config_first_secret(root, secret, sizeof(secret))) {
		sbuf_printf(err, "SIGNPOST_CONFIG: %s holds provider credentials (%s) and can be "
			    "read by users other than its owner (mode %04o); run: chmod 600 %s",
			    path, secret, (unsigned)(st.st_mode & 07777), path);
		return -1;
	}
	return 0;
}

static int config_number(struct json_object *obj, const char *key, double min, double max,
			 double *out, struct sbuf *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(obj, key, &v))
		return 0;
	if (!json_object_is_type(v, json_type_int) && !json_object_is_type(v, json_type_double)) {
		sbuf_printf(err, "%s: must be a number", key);
		return -1;
	}
	double d = json_object_get_double(v);
	if (d < min || d > max) {
		sbuf_printf(err, "%s: must be between %g and %g", key, min, max);
		return -1;
	}
	*out = d;
	return 0;
}

static int config_provider_common(struct provider_cfg *p, struct json_object *obj,
				  struct sbuf *err)
{
	double sps = 0, cto = CONFIG_DEFAULT_CONNECT_TIMEOUT_MS, to = CONFIG_DEFAULT_TIMEOUT_MS;
	double validity = CONFIG_DEFAULT_VALIDITY_S, inflight = CONFIG_DEFAULT_MAX_IN_FLIGHT;
	double price = 0;
	struct json_object *from;

	if (config_number(obj, "segments_per_second", 0, 100000, &sps, err) < 0 ||
	    config_number(obj, "connect_timeout_ms", 100, 600000, &cto, err) < 0 ||
	    config_number(obj, "timeout_ms", 100, 600000, &to, err) < 0 ||
	    config_number(obj, "validity_seconds", 10, 7 * 24 * 3600, &validity, err) < 0 ||
	    config_number(obj, "max_in_flight", 1, 1024, &inflight, err) < 0 ||
	    config_number(obj, "price_per_segment", 0, 100, &price, err) < 0)
		return -1;
	p->price_micro = (int64_t)(price * 1e6 + 0.5);
	p->alpha_sender = json_object_object_get_ex(obj, "from", &from) &&
			  render_sender_is_alpha(json_object_get_string(from));
	p->segments_per_second = sps;
	p->connect_timeout_ms = (long)cto;
	p->timeout_ms = (long)to;
	p->validity_s = (int)validity;
	p->max_in_flight = (int)inflight;
	return 0;
}

static int config_parse_provider(struct config *cfg, struct provider_cfg *p,
				 struct json_object *obj, struct sbuf *err)
{
	struct provider_env env = {
		.public_url = cfg->public_url,
		.self_url = cfg->self_url,
		.sim_secret = cfg->sim_secret,
	};
	const char *name, *type;

	if (!json_object_is_type(obj, json_type_object)) {
		sbuf_adds(err, "must be an object");
		return -1;
	}
	if (provider_cfg_string(obj, "name", true, &name, err) < 0 ||
	    provider_cfg_string(obj, "type", true, &type, err) < 0)
		return -1;
	p->name = xstrdup(name);
	p->ops = provider_find(type);
	if (!p->ops) {
		sbuf_printf(err, "type: unknown provider type \"%s\" (known: %s)", type,
			    provider_types());
		return -1;
	}
	if (config_provider_common(p, obj, err) < 0)
		return -1;
	return provider_init(p->ops, obj, &env, &p->priv, err);
}

static int config_providers(struct config *cfg, struct json_object *root, struct sbuf *err)
{
	struct json_object *list;
	struct sbuf sub;
	int rc = -1;

	sbuf_init(&sub);
	if (!json_object_object_get_ex(root, "providers", &list) ||
	    !json_object_is_type(list, json_type_array) || json_object_array_length(list) == 0) {
		sbuf_adds(err, "providers: must be a non-empty array of provider objects");
		goto out;
	}
	cfg->nproviders = json_object_array_length(list);
	cfg->providers = xcalloc(cfg->nproviders, sizeof(*cfg->providers));
	for (size_t i = 0; i < cfg->nproviders; i++) {
		sbuf_reset(&sub);
		if (config_parse_provider(cfg, &cfg->providers[i],
					  json_object_array_get_idx(list, i), &sub) < 0) {
			sbuf_printf(err, "providers[%zu].%s", i, sbuf_str(&sub));
			goto out;
		}
		for (size_t j = 0; j < i; j++) {
			if (strcmp(cfg->providers[j].name, cfg->providers[i].name) == 0) {
				sbuf_printf(err, "providers[%zu].name: \"%s\" is used twice", i,
					    cfg->providers[i].name);
				goto out;
			}
		}
	}
	rc = 0;
out:
	sbuf_free(&sub);
	return rc;
}

static int config_default_provider(struct config *cfg, struct json_object *root, struct sbuf *err)
{
	struct json_object *v;

	if (!json_object_object_get_ex(root, "default_provider", &v)) {
		cfg->default_provider = &cfg->providers[0];
		return 0;
	}
	const char *name = json_object_get_string(v);
	cfg->default_provider = json_object_is_type(v, json_type_string)
		? config_provider(cfg, name) : NULL;
	if (!cfg->default_provider) {
		sbuf_printf(err, "default_provider: \"%s\" is not the name of a configured provider",
			    name ? name : "");
		return -1;
	}
	return 0;
}

/* The "triage" object: timings in seconds, each optional. */
static int config_triage(struct triage_cfg *t, struct json_object *root, struct sbuf *err)
{
	static const char *const keys[] = { "conversation_ttl_seconds", "reminder_after_seconds",
					    "accept_deadline_seconds", "followup_after_seconds",
					    "partner_retry_seconds", "partner_retry_max_seconds",
					    "partner_give_up_seconds" };
	int *fields[] = { &t->conversation_ttl_s, &t->reminder_after_s, &t->accept_deadline_s,
			  &t->followup_after_s, &t->partner_retry_s, &t->partner_retry_max_s,
			  &t->partner_give_up_s };
	struct json_object *obj;

	*t = (struct triage_cfg){ 172800, 86400, 0, 604800, 30, 3600, 259200 };
	if (!json_object_object_get_ex(root, "triage", &obj))
		return 0;
	if (!json_object_is_type(obj, json_type_object)) {
		sbuf_adds(err, "triage: must be an object");
		return -1;
	}
	if (keys_check(obj, "triage", keys, ARRAY_LEN(keys), err) < 0)
		return -1;
	json_object_object_foreach(obj, key, val) {
		size_t i = 0;
		double d;
		while (strcmp(key, keys[i]) != 0)
			i++;
		(void)val;
		if (config_number(obj, key, i == 2 ? 0 : 1, 31536000, &d, err) < 0)
			return -1;
		*fields[i] = (int)d;
	}
	return 0;
}

/* A whole number of a section's: its member, where it goes, its default and bounds. */
struct config_int {
	const char *key;
	int *field;
	int def, min, max;
};

/*
 * The optional object `name` of root: each number of k taken from it or given its default;
 * extra (or NULL) names one more member it may have, left to the caller, who gets the
 * object (NULL when there is none) in *out when out is not NULL.
 */
static int config_int_section(struct json_object *root, const char *name,
			      const struct config_int *k, size_t n, const char *extra,
			      struct json_object **out, struct sbuf *err)
{
	const char *names[16];
	struct json_object *obj = NULL;
	struct sbuf sub;
	size_t nnames = 0;
	int rc = -1;

	sbuf_init(&sub);
	for (size_t i = 0; i < n && nnames < ARRAY_LEN(names) - 1; i++) {
		names[nnames++] = k[i].key;
		*k[i].field = k[i].def;
	}
	if (extra)
		names[nnames++] = extra;
	if (json_object_object_get_ex(root, name, &obj) &&
	    !json_object_is_type(obj, json_type_object)) {
		sbuf_printf(err, "%s: must be an object", name);
		goto out;
	}
	if (obj && keys_check(obj, name, names, nnames, err) < 0)
		goto out;
	for (size_t i = 0; obj && i < n; i++) {
		double d = k[i].def;
		if (config_number(obj, k[i].key, k[i].min, k[i].max, &d, &sub) < 0) {
			sbuf_printf(err, "%s.%s", name, sub.data);
			goto out;
		}
		*k[i].field = (int)d;
	}
	if (out)
		*out = obj;
	rc = 0;
out:
	sbuf_free(&sub);
	return rc;
}

/* http.exempt_addresses: IP addresses, default the loopback ones. */
static int config_http_exempt(struct http_cfg *h, struct json_object *obj, struct sbuf *err)
{
	static const char *const loopback[] = { "127.0.0.1", "::1" };
	struct json_object *list = NULL;
	unsigned char addr[16];
	size_t n;

	if (obj && json_object_object_get_ex(obj, "exempt_addresses", &list) &&
	    (!json_object_is_type(list, json_type_array) || json_object_array_length(list) > 64)) {
		sbuf_adds(err, "http.exempt_addresses: must be an array of at most 64 IP addresses");
		return -1;
	}
	n = list ? json_object_array_length(list) : ARRAY_LEN(loopback);
	h->exempt = xcalloc(n + 1, sizeof(char *));
	for (size_t i = 0; i < n; i++) {
		struct json_object *v = list ? json_object_array_get_idx(list, i) : NULL;
		const char *a = list ? json_object_get_string(v) : loopback[i];
		if (list && (!json_object_is_type(v, json_type_string) || !httpd_addr_parse(a, addr))) {
			sbuf_printf(err, "http.exempt_addresses[%zu]: \"%s\" is not an IP address", i,
				    a ? a : "");
			return -1;
		}
		h->exempt[i] = xstrdup(a);
	}
	return 0;
}

/* The "http" object: limits on what one client may take, each optional. */
static int config_http(struct http_cfg *h, struct json_object *root, struct sbuf *err)
{
	const struct config_int k[] = {
		{ "request_seconds", &h->request_s, 30, 1, 3600 },
		{ "import_seconds", &h->import_s, 600, 1, 86400 },
		{ "max_connections_per_ip", &h->conns_per_ip, 64, 0, 4096 },
		{ "auth_failures_per_minute", &h->auth_failures_per_min, 20, 0, 100000 },
	};
	struct json_object *obj = NULL;

	h->exempt = NULL;
	if (config_int_section(root, "http", k, ARRAY_LEN(k), "exempt_addresses", &obj, err) < 0)
		return -1;
	return config_http_exempt(h, obj, err);
}

static int config_top_keys(struct config *cfg, struct json_object *root, struct sbuf *err)
{
	static const char *const known[] = { "providers", "default_provider", "org_name",
					     "log_level", "db_pool_size", "triage",
					     "staff_numbers", "session_idle_seconds",
					     "allow_insecure_partner_urls", "partner_url_allow",
					     "http", "simulator", "retention" };
	struct json_object *v;
	double pool = cfg->db_pool_size, idle = cfg->session_idle_s;

	if (keys_check(root, "", known, ARRAY_LEN(known), err) < 0)
		return -1;
	if (json_object_object_get_ex(root, "org_name", &v)) {
		if (!json_object_is_type(v, json_type_string) || !*json_object_get_string(v)) {
			sbuf_adds(err, "org_name: must be a non-empty string");
			return -1;
		}
		free(cfg->org_name);
		cfg->org_name = xstrdup(json_object_get_string(v));
	}
	if (json_object_object_get_ex(root, "log_level", &v) &&
	    (!json_object_is_type(v, json_type_string) ||
	     !log_level_parse(json_object_get_string(v), &cfg->log_level))) {
		sbuf_adds(err, "log_level: must be one of error, warn, info, debug");
		return -1;
	}
	if (config_number(root, "db_pool_size", 1, 64, &pool, err) < 0)
		return -1;
	cfg->db_pool_size = (int)pool;
	if (config_number(root, "session_idle_seconds", 60, 7 * 86400, &idle, err) < 0)
		return -1;
	cfg->session_idle_s = (int)idle;
	if (config_http(&cfg->http, root, err) < 0)
		return -1;
	return config_triage(&cfg->triage, root, err);
}

/* "staff_numbers": UK mobiles that receive test sends, stored in E.164. */
static int config_staff_numbers(struct config *cfg, struct json_object *root, struct sbuf *err)
{
	struct json_object *list, *v;

	if (!json_object_object_get_ex(root, "staff_numbers", &list))
		return 0;
	if (!json_object_is_type(list, json_type_array) || json_object_array_length(list) > 50) {
		sbuf_adds(err, "staff_numbers: must be an array of at most 50 UK mobile numbers");
		return -1;
	}
	cfg->staff_numbers = xcalloc(json_object_array_length(list) + 1, sizeof(char *));
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		char e164[PHONE_E164_MAX];
		enum phone_status ps;
		v = json_object_array_get_idx(list, i);
		ps = json_object_is_type(v, json_type_string)
			? phone_uk_mobile(json_object_get_string(v), e164) : PHONE_EMPTY;
		if (ps != PHONE_OK) {
			sbuf_printf(err, "staff_numbers[%zu]: %s", i, phone_status_message(ps));
			return -1;
		}
		cfg->staff_numbers[cfg->nstaff_numbers++] = xstrdup(e164);
	}
	return 0;
}

/*
 * "allow_insecure_partner_urls": partner webhooks may be http:// (for tests);
 * "partner_url_allow": addresses and blocks partner webhooks may reach although they are
 * not on the public internet (["127.0.0.1"], ["10.20.0.0/16"]).
 */
static int config_partner_urls(struct config *cfg, struct json_object *root, struct sbuf *err)
{
	struct json_object *v, *list;

	if (json_object_object_get_ex(root, "allow_insecure_partner_urls", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			sbuf_adds(err, "allow_insecure_partner_urls: must be true or false");
			return -1;
		}
		cfg->allow_insecure_partner_urls = json_object_get_boolean(v);
	}
	if (!json_object_object_get_ex(root, "partner_url_allow", &list))
		return 0;
	if (!json_object_is_type(list, json_type_array) || json_object_array_length(list) > 100) {
		sbuf_adds(err, "partner_url_allow: must be an array of at most 100 IP addresses or "
			       "blocks (\"127.0.0.1\", \"10.20.0.0/16\")");
		return -1;
	}
	cfg->partner_url_allow.items = xcalloc(json_object_array_length(list) + 1,
					       sizeof(struct netaddr));
	for (size_t i = 0; i < json_object_array_length(list); i++) {
		v = json_object_array_get_idx(list, i);
		if (!json_object_is_type(v, json_type_string) ||
		    !netaddr_parse(json_object_get_string(v),
				   &cfg->partner_url_allow.items[cfg->partner_url_allow.n])) {
			sbuf_printf(err, "partner_url_allow[%zu]: not an IP address or block such as "
				    "\"127.0.0.1\" or \"10.20.0.0/16\"", i);
			return -1;
		}
		cfg->partner_url_allow.n++;
	}
	return 0;
}

/* ---- data protection: the simulator and retention ---- */

/* "simulator": true turns the simulator's routes on; a "sim" provider needs them. */
static int config_simulator(struct config *cfg, struct json_object *root, struct sbuf *err)
{
	struct json_object *v;

	if (json_object_object_get_ex(root, "simulator", &v)) {
		if (!json_object_is_type(v, json_type_boolean)) {
			sbuf_adds(err, "simulator: must be true or false");
			return -1;
		}
		cfg->simulator = json_object_get_boolean(v);
	}
	for (size_t i = 0; i < cfg->nproviders && !cfg->simulator; i++) {
		if (strcmp(cfg->providers[i].ops->type, "sim") == 0) {
			sbuf_printf(err, "providers[%zu].type: a \"sim\" provider needs \"simulator\": "
				    "true, which turns the simulator's routes on", i);
			return -1;
		}
	}
	return 0;
}

/* "retention": days each kind of data is kept, each optional (gateway/retention.h). */
static int config_retention(struct config *cfg, struct json_object *root, struct sbuf *err)
{
	struct retention_cfg *r = &cfg->retention;
	const struct config_int k[] = {
		{ "message_body_days", &r->message_body_days, 180, 1, 3650 },
		{ "inbound_body_days", &r->inbound_body_days, 180, 1, 3650 },
		{ "conversation_days", &r->conversation_days, 90, 1, 3650 },
		{ "help_request_personal_days", &r->help_request_personal_days, 365, 1, 3650 },
		{ "help_request_days", &r->help_request_days, 730, 1, 3650 },
		{ "receipt_days", &r->receipt_days, 30, 1, 3650 },
		{ "sign_in_failure_days", &r->sign_in_failure_days, 1, 1, 3650 },
		{ "ended_session_days", &r->ended_session_days, 1, 1, 3650 },
		{ "every_seconds", &r->every_s, 3600, 1, 86400 },
		{ "batch_rows", &r->batch_rows, 1000, 1, 100000 },
	};

	return config_int_section(root, "retention", k, ARRAY_LEN(k), NULL, NULL, err);
}

/* A closed request keeps its number until its follow-up has been asked and answered. */
static int config_retention_check(const struct config *cfg, struct sbuf *err)
{
	int64_t need = (int64_t)cfg->triage.followup_after_s + cfg->triage.conversation_ttl_s;

	if ((int64_t)cfg->retention.help_request_personal_days * 86400 > need)
		return 0;
	sbuf_printf(err, "retention.help_request_personal_days: must be longer than "
		    "triage.followup_after_seconds and triage.conversation_ttl_seconds together "
		    "(%lld s), or the follow-up question would find no number", (long long)need);
	return -1;
}

/* One section's problem, if any, as a line "where: problem" of err; false when there is one. */
static bool config_section(int rc, const char *where, struct sbuf *sub, struct sbuf *err)
{
	if (rc == 0)
		return true;
	sbuf_printf(err, "%s%s: %s", err->len ? "\n" : "", where, sbuf_str(sub));
	sbuf_reset(sub);
	return false;
}

/* Every section is read, so that each problem is told, not only the first. */
static int config_parse(struct config *cfg, struct json_object *root, const char *where,
			struct sbuf *err)
{
	struct sbuf sub;
	bool ok = true, top, prov, ret;

	sbuf_init(&sub);
	top = config_section(config_top_keys(cfg, root, &sub), where, &sub, err);
	ok &= config_section(config_staff_numbers(cfg, root, &sub), where, &sub, err);
	ok &= config_section(config_partner_urls(cfg, root, &sub), where, &sub, err);
	prov = config_section(config_providers(cfg, root, &sub), where, &sub, err);
	if (prov) { /* these two look at the providers */
		ok &= config_section(config_default_provider(cfg, root, &sub), where, &sub, err);
		ok &= config_section(config_simulator(cfg, root, &sub), where, &sub, err);
	}
	ret = config_section(config_retention(cfg, root, &sub), where, &sub, err);
	if (top && ret)
		ok &= config_section(config_retention_check(cfg, &sub), where, &sub, err);
	sbuf_free(&sub);
	return ok && top && prov && ret ? 0 : -1;
}

static int config_load_with(struct config *cfg, const char *path, const char *sim_secret,
			    struct sbuf *err);

int config_load(struct config *cfg, struct sbuf *err)
{
	return config_load_with(cfg, config_env("SIGNPOST_CONFIG", NULL), NULL, err);
}

int config_load_file(struct config *cfg, const char *path, struct sbuf *err)
{
	return config_load_with(cfg, path, NULL, err);
}

int config_load_again(struct config *cfg, const struct config *running, struct sbuf *err)
{
	return config_load_with(cfg, config_env("SIGNPOST_CONFIG", NULL), running->sim_secret, err);
}

static int config_load_with(struct config *cfg, const char *path, const char *sim_secret,
			    struct sbuf *err)
{
	const char *level = config_env("SIGNPOST_LOG_LEVEL", NULL);
	const char *format = config_env("SIGNPOST_LOG_FORMAT", NULL);
	struct json_object *root = NULL;
	int rc = -1;

	memset(cfg, 0, sizeof(*cfg));
	cfg->database_url = xstrdup(config_env("SIGNPOST_DATABASE_URL", ""));
	cfg->org_name = xstrdup("your housing association");
	cfg->log_level = LOG_INFO;
	cfg->db_pool_size = 4;
	cfg->session_idle_s = 8 * 3600;
	if (config_listen(cfg, err) < 0 || config_public_url(cfg, err) < 0)
		goto out;
	config_sim_secret(cfg, sim_secret);
	if (path) {
		if (config_read_file(path, &root, err) < 0 || config_file_mode(path, root, err) < 0)
			goto out;
	} else {
		root = json_tokener_parse(config_default_json);
	}
	if (config_parse(cfg, root, path ? path : "built-in configuration", err) < 0)
		goto out;
	if (level && !log_level_parse(level, &cfg->log_level)) {
		sbuf_adds(err, "SIGNPOST_LOG_LEVEL: must be one of error, warn, info, debug");
		goto out;
	}
	if (format && !log_format_parse(format, &cfg->log_format)) {
		sbuf_adds(err, "SIGNPOST_LOG_FORMAT: must be text or json");
		goto out;
	}
	rc = 0;
out:
	if (rc < 0)
		config_free(cfg); /* what was parsed before the error */
	json_object_put(root);
	return rc;
}

void config_free(struct config *cfg)
{
	for (size_t i = 0; i < cfg->nproviders; i++) {
		struct provider_cfg *p = &cfg->providers[i];
		if (p->ops && p->priv)
			provider_destroy(p->ops, p->priv);
		free(p->name);
	}
	free(cfg->providers);
	for (size_t i = 0; i < cfg->nstaff_numbers; i++)
		free(cfg->staff_numbers[i]);
	free(cfg->staff_numbers);
	netaddr_list_free(&cfg->partner_url_allow);
	for (size_t i = 0; cfg->http.exempt && cfg->http.exempt[i]; i++)
		free(cfg->http.exempt[i]);
	free(cfg->http.exempt);
	free(cfg->database_url);
	free(cfg->listen_host);
	free(cfg->metrics_host);
	free(cfg->public_url);
	free(cfg->self_url);
	free(cfg->sim_secret);
	free(cfg->org_name);
	memset(cfg, 0, sizeof(*cfg));
}

struct provider_cfg *config_provider(const struct config *cfg, const char *name)
{
	for (size_t i = 0; i < cfg->nproviders; i++)
		if (strcmp(cfg->providers[i].name, name) == 0)
			return &cfg->providers[i];
	return NULL;
}
