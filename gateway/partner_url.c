/*
 * partner_url.c: the rules for partner webhook URLs (see partner_url.h).
 */
#include "gateway/partner_url.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "common/netaddr.h"

/* How long resolving a URL's host may take when a partner is saved. */
#define PARTNER_URL_RESOLVE_MS 5000

int partner_url_form(const struct config *cfg, const char *url, struct sbuf *err)
{
	size_t scheme = strncasecmp(url, "https://", 8) == 0 ? 8
			: strncasecmp(url, "http://", 7) == 0 ? 7 : 0;

	if (scheme == 0 || (scheme == 7 && !cfg->allow_insecure_partner_urls)) {
		sbuf_adds(err, "webhook_url must be an https:// URL (http:// only with "
			       "\"allow_insecure_partner_urls\": true in the configuration, for tests)");
		return -1;
	}
	if (strcspn(url + scheme, "/?#") == 0) {
		sbuf_adds(err, "webhook_url has no host");
		return -1;
	}
	return 0;
}

/*
 * What addr is when partners may not be reached at it ("private", ...), with its text in
 * text; NULL when they may.
 */
static const char *partner_url_judge(const struct config *cfg, const struct sockaddr *addr,
				     char text[64])
{
	const char *what;
	struct netaddr a;

	if (!netaddr_from_sockaddr(addr, &a)) {
		snprintf(text, 64, "?");
		return "unknown kind of";
	}
	netaddr_str(&a, text, 64);
	what = netaddr_special(&a);
	return what && !netaddr_list_contains(&cfg->partner_url_allow, &a) ? what : NULL;
}

static const char *partner_url_article(const char *what)
{
	return strchr("aeiou", what[0]) ? "an" : "a";
}

int partner_url_addr_check(const struct sockaddr *addr, void *arg, struct sbuf *why)
{
	char text[64];
	const char *what = partner_url_judge(arg, addr, text);

	if (!what)
		return 0;
	sbuf_printf(why, "refused to connect to %s, %s %s address (partner_url_allow can "
		    "list it)", text, partner_url_article(what), what);
	return -1;
}

/* One URL being resolved for partner_url_check. */
struct partner_url_probe {
	const struct config *cfg;
	struct sbuf problem; /* the first address refused */
	partner_url_cb *done;
	void *arg;
};

/* Judges each address the connection would use, and refuses them all: nothing connects. */
static int partner_url_probe_addr(const struct sockaddr *addr, void *arg, struct sbuf *why)
{
	struct partner_url_probe *p = arg;
	char text[64];
	const char *what = partner_url_judge(p->cfg, addr, text);

	if (what && p->problem.len == 0)
		sbuf_printf(&p->problem, "webhook_url leads to %s, %s %s address: partner "
			    "webhooks go to the public internet only, unless partner_url_allow in "
			    "the configuration lists the address", text, partner_url_article(what),
			    what);
	sbuf_adds(why, "only resolving");
	return -1;
}

static void partner_url_probed(struct httpc_response *resp, void *arg)
{
	struct partner_url_probe *p = arg;

	if (p->problem.len)
		p->done(sbuf_str(&p->problem), p->arg);
	else if (resp->bad_url)
		p->done("webhook_url is not a URL signpost can use", p->arg);
	else
		p->done(NULL, p->arg);
	sbuf_free(&p->problem);
	free(p);
}

void partner_url_check(struct app *app, const char *url, partner_url_cb *done, void *arg)
{
	struct partner_url_probe *p = xcalloc(1, sizeof(*p));
	struct http_req req;

	p->cfg = &app->cfg;
	sbuf_init(&p->problem);
	p->done = done;
	p->arg = arg;
	http_req_init(&req);
	req.method = "GET";
	req.url = xstrdup(url);
	httpc_send_checked(app->httpc, &req, partner_url_probe_addr, p, PARTNER_URL_RESOLVE_MS,
			   PARTNER_URL_RESOLVE_MS, partner_url_probed, p);
	http_req_free(&req);
}
