/*
 * provider.c: message states, the adapter registry and the helpers adapters share.
 */
#include "providers/provider.h"

#include <ctype.h>
#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/keys.h"
#include "providers/adapters.h"

static const char *const msg_state_names[MSG__COUNT] = {
	[MSG_QUEUED] = "queued",       [MSG_RETRY] = "retry",
	[MSG_SENDING] = "sending",     [MSG_UNKNOWN] = "unknown",
	[MSG_SUBMITTED] = "submitted", [MSG_ENROUTE] = "enroute",
	[MSG_DELIVERED] = "delivered", [MSG_UNDELIVERED] = "undelivered",
	[MSG_FAILED] = "failed",       [MSG_REJECTED] = "rejected",
	[MSG_EXPIRED] = "expired",     [MSG_CANCELLED] = "cancelled",
	[MSG_SKIPPED] = "skipped",
};

/*
 * Receipts and send results only ever raise a message's rank, so duplicates change
 * nothing, a late "sent" cannot undo "delivered", and "delivered" still overrides an
 * earlier "undelivered" (carriers do report a failure and then a success). The core's own
 * retry cycle (sending -> retry -> sending) is the one move that goes down, and it never
 * comes from a provider.
 */
static const int msg_state_ranks[MSG__COUNT] = {
	[MSG_QUEUED] = 0,      [MSG_RETRY] = 0,       [MSG_SENDING] = 1,
	[MSG_UNKNOWN] = 2,     [MSG_SUBMITTED] = 3,   [MSG_ENROUTE] = 4,
	[MSG_UNDELIVERED] = 5, [MSG_FAILED] = 5,      [MSG_REJECTED] = 5,
	[MSG_EXPIRED] = 5,     [MSG_CANCELLED] = 5,   [MSG_SKIPPED] = 5,
	[MSG_DELIVERED] = 6,
};

static bool msg_state_valid(enum msg_state s)
{
	return (unsigned)s < MSG__COUNT;
}

const char *msg_state_str(enum msg_state s)
{
	return msg_state_valid(s) ? msg_state_names[s] : "invalid";
}

bool msg_state_parse(const char *s, enum msg_state *out)
{
	for (int i = 0; s && i < MSG__COUNT; i++) {
		if (strcmp(s, msg_state_names[i]) == 0) {
			*out = (enum msg_state)i;
			return true;
		}
	}
	return false;
}

int msg_state_rank(enum msg_state s)
{
	return msg_state_valid(s) ? msg_state_ranks[s] : -1;
}

bool msg_state_final(enum msg_state s)
{
	return msg_state_rank(s) >= 5;
}

const char *send_outcome_str(enum send_outcome o)
{
	switch (o) {
	case SEND_OK: return "ok";
	case SEND_TEMPFAIL: return "tempfail";
	case SEND_PERMFAIL: return "permfail";
	}
	return "invalid";
}

void sms_in_init(struct sms_in *m)
{
	memset(m, 0, sizeof(*m));
	sbuf_init(&m->text);
}

void sms_in_free(struct sms_in *m)
{
	if (!m)
		return;
	sbuf_free(&m->text);
	sms_in_init(m);
}

/*
 * Every adapter, once. A new one is its file and a line here: the contract checks in
 * tests/unit/test_provider.c and the fuzzer find it through provider_nth.
 */
static const struct provider_ops *const provider_registry[] = {
	&twilio_ops,
	&webhook_ops,
	&sim_ops,
	&vonage_ops,
	&messagebird_ops,
	&firetext_ops,
};

const struct provider_ops *provider_nth(size_t i)
{
	return i < ARRAY_LEN(provider_registry) ? provider_registry[i] : NULL;
}

const struct provider_ops *provider_find(const char *type)
{
	const struct provider_ops *ops;

	for (size_t i = 0; type && (ops = provider_nth(i)); i++)
		if (strcmp(ops->type, type) == 0)
			return ops;
	return NULL;
}

const char *provider_types(void)
{
	static char list[256];

	if (list[0])
		return list;
	for (size_t i = 0; i < ARRAY_LEN(provider_registry); i++) {
		size_t used = strlen(list);
		snprintf(list + used, sizeof(list) - used, "%s%s", i ? ", " : "",
			 provider_registry[i]->type);
	}
	return list;
}

bool provider_common_key(const char *key)
{
	static const char *const common[] = { "name", "type", "segments_per_second",
					      "connect_timeout_ms", "timeout_ms",
					      "validity_seconds", "price_per_segment",
					      "max_in_flight" };

	for (size_t i = 0; i < ARRAY_LEN(common); i++)
		if (strcmp(key, common[i]) == 0)
			return true;
	return false;
}

void provider_copy(char *dst, size_t size, const char *src)
{
	size_t out = 0;

	if (size == 0)
		return;
	/* Whole characters only, '?' for malformed bytes: these texts end up in the database. */
	for (const char *s = src ? src : ""; *s;) {
		size_t n = codec_utf8_char(s, strnlen(s, 4)); /* a NUL ends a character short */
		if (out + (n ? n : 1) >= size)
			break;
		if (n)
			memmove(dst + out, s, n); /* dst may be src (provider_text_fix) */
		else
			dst[out] = '?';
		out += n ? n : 1;
		s += n ? n : 1;
	}
	dst[out] = '\0';
}

void provider_text_fix(char *s, size_t size)
{
	provider_copy(s, size, s);
}

bool provider_copy_exact(char *dst, size_t size, const char *src)
{
	size_t n = src ? strlen(src) : 0;

	if (size == 0)
		return false;
	if (n >= size || !codec_utf8_valid(src ? src : "", n)) {
		dst[0] = '\0';
		return false;
	}
	memcpy(dst, src ? src : "", n + 1);
	return true;
}

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

void provider_e164(char *dst, size_t size, const char *digits)
{
	if (digits && all_digits(digits) && strlen(digits) >= 7 && size > 0)
		snprintf(dst, size, "+%s", digits);
	else
		provider_copy(dst, size, digits);
}

int provider_retry_after(const struct kvlist *headers)
{
	const char *v = headers ? kvlist_get_ci(headers, "Retry-After") : NULL;
	char buf[24];
	int64_t secs;

	if (!v)
		return 0;
	while (*v == ' ' || *v == '\t')
		v++;
	provider_copy(buf, sizeof(buf), v);
	for (size_t n = strlen(buf); n > 0 && isspace((unsigned char)buf[n - 1]); n--)
		buf[n - 1] = '\0';
	if (!all_digits(buf))
		return 0;
	/* More than a day (or too many digits to parse) is capped: texts expire before that. */
	if (!str_to_i64(buf, 0, INT64_MAX, &secs) || secs > 86400)
		return 86400;
	return (int)secs;
}

int provider_cfg_string(struct json_object *cfg, const char *key, bool required,
			const char **out, struct sbuf *err)
{
	struct json_object *v;

	*out = NULL;
	if (!json_object_object_get_ex(cfg, key, &v) || json_object_is_type(v, json_type_null)) {
		if (!required)
			return 0;
		sbuf_printf(err, "%s: missing (a non-empty string is required)", key);
		return -1;
	}
	if (!json_object_is_type(v, json_type_string) || json_object_get_string_len(v) == 0) {
		sbuf_printf(err, "%s: must be a non-empty string", key);
		return -1;
	}
	*out = json_object_get_string(v);
	return 0;
}

int provider_cfg_keys(struct json_object *cfg, const char *type, const char *const *known,
		      size_t n, struct sbuf *err)
{
	const char *key = keys_unknown(cfg, known, n, provider_common_key);
	char *more;

	if (!key)
		return 0;
	more = xasprintf("a %s provider also takes name, type, segments_per_second, "
			 "max_in_flight, connect_timeout_ms, timeout_ms, validity_seconds and "
			 "price_per_segment", type);
	keys_error(err, "", key, known, n, more);
	free(more);
	return -1;
}

/* http(s)://host... with a host, no user info, no spaces or control characters. */
static bool url_acceptable(const char *url, const char **why)
{
	const char *host = url;

	if (str_startswith(url, "https://"))
		host += 8;
	else if (str_startswith(url, "http://"))
		host += 7;
	else
		return *why = "must start with http:// or https://", false;
	size_t authority = strcspn(host, "/?#");
	if (authority == 0 || host[0] == ':')
		return *why = "has no host", false;
	if (memchr(host, '@', authority))
		return *why = "must not carry credentials (user:password@)", false;
	for (const char *p = url; *p; p++)
		if ((unsigned char)*p <= ' ' || *p == 0x7f)
			return *why = "must not contain spaces or control characters", false;
	return true;
}

int provider_cfg_url(struct json_object *cfg, const char *key, bool required,
		     const char **out, struct sbuf *err)
{
	const char *why = NULL;

	if (provider_cfg_string(cfg, key, required, out, err) < 0)
		return -1;
	if (*out && !url_acceptable(*out, &why)) {
		sbuf_printf(err, "%s: \"%s\" %s", key, *out, why);
		*out = NULL;
		return -1;
	}
	return 0;
}

struct json_object *provider_json_parse(const char *body, size_t len)
{
	struct json_tokener *tok;
	struct json_object *obj = NULL;

	if (!body || len == 0 || len > INT_MAX)
		return NULL;
	tok = json_tokener_new();
	obj = json_tokener_parse_ex(tok, body, (int)len);
	if (obj && json_tokener_get_error(tok) == json_tokener_success) {
		size_t end = json_tokener_get_parse_end(tok);
		while (end < len && isspace((unsigned char)body[end]))
			end++;
		if (end != len || !json_object_is_type(obj, json_type_object)) {
			json_object_put(obj);
			obj = NULL;
		}
	} else {
		json_object_put(obj);
		obj = NULL;
	}
	json_tokener_free(tok);
	return obj;
}

const char *provider_json_str(struct json_object *obj, const char *key)
{
	struct json_object *v;

	if (!obj || !json_object_object_get_ex(obj, key, &v))
		return NULL;
	if (json_object_is_type(v, json_type_string) || json_object_is_type(v, json_type_int))
		return json_object_get_string(v);
	return NULL;
}

bool provider_state_lookup(const struct provider_state_name *map, size_t n, const char *name,
			   enum msg_state *out)
{
	for (size_t i = 0; name && i < n; i++) {
		if (strcmp(name, map[i].name) == 0) {
			*out = map[i].state;
			return true;
		}
	}
	return false;
}

char *provider_base_url(const char *base, const char *fallback)
{
	const char *b = base ? base : fallback;
	size_t n = strlen(b);

	while (n > 0 && b[n - 1] == '/')
		n--;
	return xstrndup(b, n);
}

void provider_digits(char *dst, size_t size, const char *e164)
{
	provider_copy(dst, size, e164 && e164[0] == '+' ? e164 + 1 : e164);
}

/* Scalar members of a JSON object as text; nested objects and arrays are skipped. */
static void provider_json_fields(struct json_object *obj, struct kvlist *fields)
{
	json_object_object_foreach(obj, key, v) {
		if (!v || json_object_is_type(v, json_type_object) ||
		    json_object_is_type(v, json_type_array))
			continue;
		const char *s = json_object_get_string(v);
		size_t n = json_object_is_type(v, json_type_string)
				   ? (size_t)json_object_get_string_len(v) : strlen(s);
		kvlist_addn(fields, key, strlen(key), s, n);
	}
}

static bool provider_body_is_json(const struct http_in *in)
{
	const char *ct = in->headers ? kvlist_get_ci(in->headers, "Content-Type") : NULL;
	size_t i = 0;

	if (ct && strstr(ct, "json"))
		return true;
	while (i < in->body_len && isspace((unsigned char)in->body[i]))
		i++;
	return i < in->body_len && in->body[i] == '{';
}

int provider_fields_no_nul(const struct kvlist *fields, struct sbuf *err)
{
	for (size_t i = 0; i < fields->n; i++) {
		if (strlen(fields->items[i].value) != fields->items[i].value_len) {
			sbuf_printf(err, "%s contains a NUL byte", fields->items[i].key);
			return -1;
		}
	}
	return 0;
}

int provider_webhook_fields(const struct http_in *in, struct kvlist *fields, struct sbuf *err)
{
	struct json_object *obj;

	if ((in->method && strcmp(in->method, "GET") == 0) || !in->body || in->body_len == 0) {
		for (size_t i = 0; in->query && i < in->query->n; i++) {
			const struct kv *kv = &in->query->items[i];
			kvlist_addn(fields, kv->key, strlen(kv->key), kv->value, kv->value_len);
		}
		return provider_fields_no_nul(fields, err);
	}
	if (!provider_body_is_json(in)) {
		if (codec_form_parse(fields, in->body, in->body_len) == 0)
			return provider_fields_no_nul(fields, err);
		sbuf_adds(err, "malformed form body (bad %-escape)");
		return -1;
	}
	obj = provider_json_parse(in->body, in->body_len);
	if (!obj) {
		sbuf_adds(err, "the body is not a JSON object");
		return -1;
	}
	provider_json_fields(obj, fields);
	json_object_put(obj);
	return provider_fields_no_nul(fields, err);
}

void provider_http_classify(long status, const struct kvlist *headers, struct send_result *out)
{
	bool throttled = status == 429;
	bool permanent = status >= 400 && status < 500 && !throttled && status != 401 &&
			 status != 403 && status != 408;

	out->throttled = throttled;
	out->outcome = permanent ? SEND_PERMFAIL : SEND_TEMPFAIL;
	out->state = permanent ? MSG_REJECTED : MSG_RETRY;
	out->retry_after_s = permanent ? 0 : provider_retry_after(headers);
}

void provider_copy_error(const char *name, const char *value, size_t size, struct sbuf *err)
{
	size_t n = value ? strlen(value) : 0;

	if (n >= size)
		sbuf_printf(err, "%s is too long (%zu bytes)", name, n);
	else
		sbuf_printf(err, "%s is not valid UTF-8 text", name);
}

int provider_copy_field(char *dst, size_t size, const char *name, const char *value,
			struct sbuf *err)
{
	if (provider_copy_exact(dst, size, value))
		return 0;
	provider_copy_error(name, value, size, err);
	return -1;
}

const char *provider_sender_digits(const char *from)
{
	return from && from[0] == '+' ? from + 1 : from;
}

static bool provider_sender_id_valid(const char *s, size_t n,
				     const struct provider_sender_rule *rule)
{
	static const char alnum[] = "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz"
				    "0123456789 ";
	size_t chars = strspn(s, alnum), spaces_at = strcspn(s, " ");

	if (n < rule->min_len || n > PROVIDER_SENDER_MAX_ID || chars != n)
		return false;
	switch (rule->spaces) {
	case PROVIDER_SPACES_NONE: return spaces_at == n;
	case PROVIDER_SPACES_INNER: return s[0] != ' ' && s[n - 1] != ' ';
	case PROVIDER_SPACES_ANY: return true;
	}
	return false;
}

bool provider_sender_valid(const char *from, const struct provider_sender_rule *rule)
{
	bool plus = from[0] == '+';
	const char *d = plus ? from + 1 : from;
	size_t n = strlen(d);

	if (strspn(d, "0123456789") != n)
		return (!plus || rule->plus == PROVIDER_PLUS_IGNORED) &&
		       provider_sender_id_valid(d, n, rule);
	if (rule->plus == PROVIDER_PLUS_E164 && plus)
		return n >= 7 && n <= PROVIDER_SENDER_MAX_DIGITS && d[0] != '0';
	return n >= rule->min_len && n <= (rule->plus == PROVIDER_PLUS_E164
					   ? PROVIDER_SENDER_MAX_SHORT_CODE
					   : PROVIDER_SENDER_MAX_DIGITS);
}

int provider_sender_check(const char *from, const struct provider_sender_rule *rule,
			  struct sbuf *err)
{
	if (provider_sender_valid(from, rule))
		return 0;
	sbuf_printf(err, "%s: must be %s or an alphanumeric sender id of %u to %d %s", rule->key,
		    rule->plus == PROVIDER_PLUS_E164 ? "an E.164 number such as \"+447700900000\""
						     : "a number such as \"447700900000\"",
		    rule->min_len, PROVIDER_SENDER_MAX_ID,
		    rule->spaces == PROVIDER_SPACES_NONE ? "letters and digits"
							 : "letters, digits and spaces");
	return -1;
}

void provider_free_secret(char *s)
{
	if (!s)
		return;
	memset(s, 0, strlen(s));
	free(s);
}

int provider_parse_receipt(void *priv, const struct http_in *in,
			   const struct provider_receipt_spec *spec, struct status_in *out,
			   struct sbuf *err)
{
	struct kvlist f;
	int rc = -1;

	kvlist_init(&f);
	memset(out, 0, sizeof(*out));
	if (provider_webhook_fields(in, &f, err) < 0)
		goto out;
	const char *id = kvlist_get(&f, spec->id_field);
	const char *status = kvlist_get(&f, spec->status_field);
	if (!id || !status) {
		sbuf_printf(err, "missing %s or %s", spec->id_field, spec->status_field);
		goto out;
	}
	if (!spec->state(status, &out->state)) {
		rc = 0;
		goto out;
	}
	if (spec->fill(priv, &f, out, err) < 0)
		goto out;
	rc = 1;
out:
	kvlist_free(&f);
	return rc;
}
