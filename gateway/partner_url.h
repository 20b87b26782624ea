/*
 * partner_url.h: where partner webhooks may go.
 *
 * A partner's webhook_url must be https:// (http:// too only with
 * "allow_insecure_partner_urls": true in the configuration, for tests), and may not lead
 * to an address off the public internet: loopback, private (RFC 1918, fc00::/7), shared,
 * link-local (169.254.0.0/16 with the cloud metadata address 169.254.169.254, fe80::/10),
 * unspecified, multicast or reserved (common/netaddr.h), unless "partner_url_allow"
 * lists it. Otherwise anyone who may save a partner could make signpost post help
 * requests to the machines around it.
 *
 * Checked when a partner is saved (the host resolved as a webhook would resolve it) and
 * again when each webhook is sent, on each address the connection is about to use: a name
 * may resolve elsewhere by then.
 */
#ifndef SIGNPOST_PARTNER_URL_H
#define SIGNPOST_PARTNER_URL_H

#include "gateway/app.h"
#include "infra/httpc.h"

/* 0 when url has the form allowed; -1 with "webhook_url must ..." in err otherwise. */
int partner_url_form(const struct config *cfg, const char *url, struct sbuf *err) WUR;

/* The httpc_addr_check of partner webhooks: arg is the struct config. */
int partner_url_addr_check(const struct sockaddr *addr, void *arg, struct sbuf *why);

/* What is wrong with a URL (for a 422), or NULL; borrowed for the call. */
typedef void partner_url_cb(const char *problem, void *arg);

/*
 * Resolves url's host as a webhook's connection would, connecting to nothing, and calls
 * done once, never from inside this call: with what is wrong when the URL is malformed or
 * the host is, or resolves to, an address partners may not be reached at; with NULL
 * otherwise, including when the name does not resolve now (sending checks again).
 */
void partner_url_check(struct app *app, const char *url, partner_url_cb *done, void *arg);

#endif
