/*
 * router.h: what an inbound text means and what we answer.
 *
 * The decision is made in C from the text and what we know of the sender; then one SQL
 * statement stores the inbound text and carries out the action atomically (opt-out,
 * opt-in, help request, reply in the outbox). A repeated webhook (same provider message
 * id) stores nothing and does nothing.
 */
#ifndef SIGNPOST_ROUTER_H
#define SIGNPOST_ROUTER_H

#include "gateway/app.h"
#include "gateway/db.h"

enum router_action {
	ROUTER_NONE,         /* no keyword: explain what we do */
	ROUTER_OPT_OUT,
	ROUTER_OPT_IN,
	ROUTER_INFO,
	ROUTER_HELP_REQUEST,
	ROUTER_SUGGEST,      /* a likely typo of a keyword */
};

const char *router_action_str(enum router_action a);

struct router_decision {
	enum router_action action;
	const char *keyword;   /* matched word, or NULL */
	const char *category;  /* ROUTER_HELP_REQUEST */
	char *reply;           /* first-time reply text, or NULL */
	char *reply_repeat;    /* reply when the action was already done, or NULL */
};

void router_decide(const struct app *app, const char *text, bool known_tenant,
		   struct router_decision *out);
void router_decision_free(struct router_decision *d);

/* The atomic store-and-act statement; see router.c for its parameters. */
extern const char router_apply_sql[];
/* Sender lookup: tenant id, attributed campaign id, whether this webhook was seen. */
extern const char router_lookup_sql[];

#endif
