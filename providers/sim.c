/*
 * sim.c: the built-in simulator ("sim"), for demos and tests.
 *
 * It speaks the generic JSON protocol of webhook.c, pointed by default at the simulator
 * the daemon itself serves: url defaults to SIGNPOST_LISTEN's URL + "/sim/messages",
 * secret to the daemon's sim secret and from to +447700900000.
 *
 * Config: {"type": "sim"} with optional "url", "secret" and "from".
 */
#include <stdlib.h>

#include "providers/adapters.h"
#include "providers/webhook.h"

static int sim_init(struct json_object *cfg, const struct provider_env *env, void **priv,
		    struct sbuf *err)
{
	struct webhook_defaults defaults = {
		.url = NULL,
		.secret = env ? env->sim_secret : NULL,
		.from = WEBHOOK_SIM_FROM,
	};
	char *url = env && env->self_url ? xasprintf("%s" WEBHOOK_SIM_PATH, env->self_url) : NULL;
	int rc;

	defaults.url = url;
	rc = webhook_setup(cfg, "sim", &defaults, priv, err);
	free(url);
	return rc;
}

const struct provider_ops sim_ops = {
	.type = "sim",
	.example_config = "{\"type\": \"sim\"}",
	.init = sim_init,
	.destroy = webhook_destroy,
	.build_send = webhook_build_send,
	.parse_send_result = webhook_parse_send_result,
	.verify = webhook_verify,
	.parse_inbound = webhook_parse_inbound,
	.parse_status = webhook_parse_status,
	.inbound_answer = webhook_inbound_answer,
};
