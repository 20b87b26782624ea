/*
 * webhook.h: the generic JSON provider protocol, shared by the "webhook" adapter and the
 * "sim" adapter (the same protocol pointed at the daemon's built-in simulator). The
 * protocol itself is described at the top of webhook.c.
 */
#ifndef SIGNPOST_WEBHOOK_H
#define SIGNPOST_WEBHOOK_H

#include "providers/provider.h"

/* Path of the built-in simulator's send endpoint under SIGNPOST_LISTEN. */
#define WEBHOOK_SIM_PATH "/sim/messages"
#define WEBHOOK_SIM_FROM "+447700900000"

/* Values used for keys the config leaves out; NULL makes the key required. */
struct webhook_defaults {
	const char *url;
	const char *secret;
	const char *from;
};

/* init for an adapter of the given type speaking this protocol. */
int webhook_setup(struct json_object *cfg, const char *type,
		  const struct webhook_defaults *defaults, void **priv, struct sbuf *err) WUR;
void webhook_destroy(void *priv);
int webhook_build_send(void *priv, const struct sms_out *msg, struct http_req *req) WUR;
void webhook_parse_send_result(void *priv, long status, const struct kvlist *headers,
			       const char *body, size_t len, struct send_result *out);
/* Standard Webhooks: the webhook-id is the replay id, kept while its timestamp is accepted. */
int webhook_verify(void *priv, const struct http_in *in, struct verify_result *out,
		   struct sbuf *err) WUR;
int webhook_parse_inbound(void *priv, const struct http_in *in, struct sms_in *out,
			  struct sbuf *err) WUR;
int webhook_parse_status(void *priv, const struct http_in *in, struct status_in *out,
			 struct sbuf *err) WUR;
/* 200 {}: replies always go out as sends (the "webhook" protocol has no synchronous reply). */
void webhook_inbound_answer(void *priv, const char *reply, struct http_answer *out);
/* Maps a status name of the protocol to our state; false for names it does not define. */
bool webhook_status_state(const char *status, enum msg_state *out);

#endif
