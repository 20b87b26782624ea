/*
 * firetext.c: Firetext (UK), one of GOV.UK Notify's providers.
 *
 * Config: {"type": "firetext", "api_key": "...", "from": "SIGNPOST" | "447700900000",
 *          "webhook_user": "...", "webhook_password": "...",
 *          "base_url": "https://www.firetext.co.uk"}
 *
 * Send: POST {base_url}/api/sendsms/json, form fields apiKey, from, to (digits, no '+'),
 * message, reference (ours), receipt (our status URL). The answer is HTTP 200
 * {"code": 0, "description": ..., ...}; any other code is a failure.
 * Firetext gives no message id: our reference is the message's id, written
 * "<provider name>-<reference>" as the core writes ids it makes up.
 * Receipts (mobile, status, code, reference, time) and inbound texts (source,
 * destination, message, time) are form posts without signatures: they must carry HTTP
 * Basic credentials webhook_user:webhook_password: the adapter puts them in each text's
 * receipt URL (https://user:password@host/...), and the operator in the inbound URL set
 * in Firetext's settings.
 */
#include "providers/firetext.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/codec.h"
#include "common/crypto.h"
#include "providers/adapters.h"
#include "providers/webhook.h"

struct firetext {
	char *name;
	char *base_url;
	char *api_key;
	char *from;
	char *expected_auth; /* "Basic base64(user:password)" */
	char *userinfo;      /* "user:password", percent-encoded, for receipt URLs */
};

static const char *const firetext_keys[] = { "base_url", "api_key", "from", "webhook_user",
					     "webhook_password" };

static void firetext_destroy(void *priv)
{
	struct firetext *f = priv;

	if (!f)
		return;
	provider_free_secret(f->api_key);
	provider_free_secret(f->expected_auth);
	provider_free_secret(f->userinfo);
	free(f->name);
	free(f->base_url);
	free(f->from);
	free(f);
}

/* 3 to 11 letters and digits, or a number of up to 15 digits; a '+' is dropped. */
static const struct provider_sender_rule firetext_sender = {
	"from", 3, PROVIDER_PLUS_IGNORED, PROVIDER_SPACES_NONE,
};

static int firetext_credentials(struct json_object *cfg, struct firetext *f, struct sbuf *err)
{
	const char *user, *password;
	struct http_req tmp;

	if (provider_cfg_string(cfg, "webhook_user", true, &user, err) < 0 ||
	    provider_cfg_string(cfg, "webhook_password", true, &password, err) < 0)
		return -1;
	if (strchr(user, ':')) {
		sbuf_adds(err, "webhook_user: must not contain ':'");
		return -1;
	}
	struct sbuf info;
	sbuf_init(&info);
	codec_url_encode(&info, user, strlen(user));
	sbuf_addc(&info, ':');
	codec_url_encode(&info, password, strlen(password));
	f->userinfo = sbuf_detach(&info);
	http_req_init(&tmp);
	http_req_basic_auth(&tmp, user, password);
	f->expected_auth = xstrdup(kvlist_get(&tmp.headers, "Authorization"));
	memset(tmp.headers.items[0].value, 0, tmp.headers.items[0].value_len);
	http_req_free(&tmp);
	return 0;
}

static int firetext_init(struct json_object *cfg, const struct provider_env *env, void **priv,
			 struct sbuf *err)
{
	struct firetext *f = xcalloc(1, sizeof(*f));
	const char *name = NULL, *base, *key, *from;
	int rc = -1;

	(void)env;
	if (provider_cfg_keys(cfg, "firetext", firetext_keys, ARRAY_LEN(firetext_keys), err) < 0 ||
	    provider_cfg_string(cfg, "name", false, &name, err) < 0 ||
	    provider_cfg_url(cfg, "base_url", false, &base, err) < 0 ||
	    provider_cfg_string(cfg, "api_key", true, &key, err) < 0 ||
	    provider_cfg_string(cfg, "from", true, &from, err) < 0 ||
	    firetext_credentials(cfg, f, err) < 0 ||
	    provider_sender_check(from, &firetext_sender, err) < 0)
		goto out;
	f->name = xstrdup(name ? name : "firetext");
	f->base_url = provider_base_url(base, FIRETEXT_DEFAULT_BASE_URL);
	f->api_key = xstrdup(key);
	f->from = xstrdup(provider_sender_digits(from));
	*priv = f;
	f = NULL;
	rc = 0;
out:
	firetext_destroy(f);
	return rc;
}

/*
 * The status URL with the webhook credentials in it (https://user:password@host/...):
 * Firetext calls receipt URLs with the credentials they carry.
 */
static char *firetext_receipt_url(const struct firetext *f, const char *url)
{
	const char *host = strstr(url, "://");

	if (!host)
		return xstrdup(url);
	host += 3;
	return xasprintf("%.*s%s@%s", (int)(host - url), url, f->userinfo, host);
}

static int firetext_build_send(void *priv, const struct sms_out *msg, struct http_req *req)
{
	struct firetext *f = priv;
	struct kvlist form;
	char to[32];

	if (!msg->to || !msg->text)
		return -1;
	provider_digits(to, sizeof(to), msg->to);
	kvlist_init(&form);
	kvlist_add(&form, "apiKey", f->api_key);
	kvlist_add(&form, "from", msg->from ? provider_sender_digits(msg->from) : f->from);
	kvlist_add(&form, "to", to);
	kvlist_add(&form, "message", msg->text);
	if (msg->reference)
		kvlist_add(&form, "reference", msg->reference);
	if (msg->status_url) {
		char *receipt = firetext_receipt_url(f, msg->status_url);
		kvlist_add(&form, "receipt", receipt);
		memset(receipt, 0, strlen(receipt));
		free(receipt);
	}
	req->method = "POST";
	req->url = xasprintf("%s/api/sendsms/json", f->base_url);
	kvlist_add(&req->headers, "Content-Type", "application/x-www-form-urlencoded");
	kvlist_add(&req->headers, "Accept", "application/json");
	codec_form_build(&req->body, &form);
	kvlist_free(&form);
	return 0;
}

/*
 * Codes in a 200 answer: 1 authentication, 3 sender, 5 credit, 6 schedule, 7 sub-account
 * and anything unknown are not about this text (the operator fixes them, the text waits);
 * 2 (destination) and 4 (message) are about this text and final.
 */
static void firetext_code_failed(int64_t code, const char *text, struct send_result *out)
{
	bool permanent = code == 2 || code == 4;

	out->outcome = permanent ? SEND_PERMFAIL : SEND_TEMPFAIL;
	out->state = permanent ? MSG_REJECTED : MSG_RETRY;
	snprintf(out->error_code, sizeof(out->error_code), "%lld", (long long)code);
	snprintf(out->reason, sizeof(out->reason), "Firetext code %lld: %s", (long long)code,
		 text ? text : "no description");
	provider_text_fix(out->reason, sizeof(out->reason)); /* Firetext's bytes, cut anywhere */
}

static void firetext_parse_200(struct json_object *obj, struct send_result *out)
{
	const char *code = provider_json_str(obj, "code");
	int64_t n = -1;

	if (!code || !str_to_i64(code, INT32_MIN, INT32_MAX, &n)) {
		out->outcome = SEND_TEMPFAIL;
		out->state = MSG_RETRY;
		provider_copy(out->reason, sizeof(out->reason),
			      "HTTP 200 from Firetext without a readable code");
		return;
	}
	if (n != 0) {
		firetext_code_failed(n, provider_json_str(obj, "description"), out);
		return;
	}
	/* No id in the answer: the core names the message after our reference. */
	out->outcome = SEND_OK;
	out->state = MSG_SUBMITTED;
}

static void firetext_parse_send_result(void *priv, long status, const struct kvlist *headers,
				       const char *body, size_t len, struct send_result *out)
{
	struct json_object *obj = provider_json_parse(body, len);

	(void)priv;
	memset(out, 0, sizeof(*out));
	if (status == 200) {
		firetext_parse_200(obj, out);
	} else {
		provider_http_classify(status, headers, out);
		snprintf(out->reason, sizeof(out->reason), "HTTP %ld from Firetext", status);
	}
	json_object_put(obj);
}

/* Firetext signs nothing: its webhooks carry fixed credentials, and no replay id. */
static int firetext_verify(void *priv, const struct http_in *in, struct verify_result *out,
			   struct sbuf *err)
{
	struct firetext *f = priv;
	const char *given = in->headers ? kvlist_get_ci(in->headers, "Authorization") : NULL;

	(void)out;
	if (!given) {
		sbuf_adds(err, "missing HTTP Basic credentials (put webhook_user:webhook_password "
			       "in the URLs given to Firetext)");
		return -1;
	}
	if (!crypto_equal(given, strlen(given), f->expected_auth, strlen(f->expected_auth))) {
		sbuf_adds(err, "HTTP Basic credentials do not match webhook_user/webhook_password");
		return -1;
	}
	return 0;
}

/* Firetext gives inbound texts no id: one is made from what identifies the text. */
static void firetext_inbound_id(const struct kvlist *f, char *dst, size_t size)
{
	static const char *const parts[] = { "source", "destination", "time", "message" };
	struct sbuf data, hex;

	sbuf_init(&data);
	sbuf_init(&hex);
	for (size_t i = 0; i < ARRAY_LEN(parts); i++) {
		const char *v = kvlist_get(f, parts[i]);
		sbuf_adds(&data, v ? v : "");
		sbuf_addc(&data, '\n');
	}
	crypto_sha256_hex(&hex, data.data, data.len);
	snprintf(dst, size, "ft-%.40s", sbuf_str(&hex));
	sbuf_free(&data);
	sbuf_free(&hex);
}

static int firetext_parse_inbound(void *priv, const struct http_in *in, struct sms_in *out,
				  struct sbuf *err)
{
	struct kvlist f;
	int rc = -1;

	(void)priv;
	kvlist_init(&f);
	if (provider_webhook_fields(in, &f, err) < 0)
		goto out;
	const char *from = kvlist_get(&f, "source"), *to = kvlist_get(&f, "destination");
	const char *text = kvlist_get(&f, "message");
	if (!from || !to) {
		sbuf_adds(err, "missing source or destination");
		goto out;
	}
	if (provider_copy_field(out->from, sizeof(out->from), "source", from, err) < 0 ||
	    provider_copy_field(out->to, sizeof(out->to), "destination", to, err) < 0)
		goto out;
	provider_e164(out->from, sizeof(out->from), from);
	provider_e164(out->to, sizeof(out->to), to);
	firetext_inbound_id(&f, out->provider_id, sizeof(out->provider_id));
	sbuf_reset(&out->text);
	sbuf_adds(&out->text, text ? text : "");
	rc = 1;
out:
	kvlist_free(&f);
	return rc;
}

bool firetext_status_state(const char *status, enum msg_state *out)
{
	static const struct provider_state_name map[] = {
		{ "0", MSG_DELIVERED }, { "1", MSG_UNDELIVERED }, { "2", MSG_ENROUTE },
	};

	return provider_state_lookup(map, ARRAY_LEN(map), status, out);
}

static const char *firetext_code_text(const char *code)
{
	static const struct {
		const char *code, *text;
	} texts[] = {
		{ "101", "permanent: unknown subscriber" },
		{ "201", "permanent: invalid number" },
		{ "301", "permanent: SMS not supported" },
		{ "401", "permanent: rejected" },
		{ "102", "temporary: absent subscriber" },
		{ "103", "temporary: handset busy" },
		{ "104", "temporary: memory full" },
		{ "900", "temporary: routing error" },
	};

	for (size_t i = 0; code && i < ARRAY_LEN(texts); i++)
		if (strcmp(code, texts[i].code) == 0)
			return texts[i].text;
	return NULL;
}

bool firetext_code_permanent(const char *code)
{
	const char *text = firetext_code_text(code);

	return text && str_startswith(text, "permanent");
}

static int firetext_status_fill(void *priv, const struct kvlist *f, struct status_in *out,
				struct sbuf *err)
{
	const struct firetext *ft = priv;
	const char *ref = kvlist_get(f, "reference"), *code = kvlist_get(f, "code");
	char *id;
	int rc;

	if (provider_copy_field(out->reference, sizeof(out->reference), "reference", ref,
				err) < 0)
		return -1;
	id = xasprintf("%s-%s", ft->name, ref);
	rc = provider_copy_field(out->provider_id, sizeof(out->provider_id), "reference", id, err);
	free(id);
	provider_copy(out->raw_status, sizeof(out->raw_status), kvlist_get(f, "status"));
	if (code && strcmp(code, "0") != 0 && strcmp(code, "000") != 0) {
		provider_copy(out->error_code, sizeof(out->error_code), code);
		provider_copy(out->error_text, sizeof(out->error_text), firetext_code_text(code));
	}
	return rc;
}

static int firetext_parse_status(void *priv, const struct http_in *in, struct status_in *out,
			       struct sbuf *err)
{
	static const struct provider_receipt_spec spec = {
		"reference", "status", firetext_status_state, firetext_status_fill,
	};

	return provider_parse_receipt(priv, in, &spec, out, err);
}

const struct provider_ops firetext_ops = {
	.type = "firetext",
	.example_config =
		"{\"type\": \"firetext\", \"api_key\": \"k3y\", \"from\": \"SIGNPOST\", "
		"\"webhook_user\": \"signpost\", \"webhook_password\": \"pa55\"}",
	.init = firetext_init,
	.destroy = firetext_destroy,
	.build_send = firetext_build_send,
	.parse_send_result = firetext_parse_send_result,
	.verify = firetext_verify,
	.parse_inbound = firetext_parse_inbound,
	.parse_status = firetext_parse_status,
	.inbound_answer = webhook_inbound_answer,
};
