/*
 * router.h: what an inbound text means and what we answer.
 *
 * The decision is made in C from the text and what we know of the sender (tenant, open
 * conversation); then one SQL statement stores the inbound text and carries out the action
 * atomically (opt-out, opt-in, conversation step, help request, reply in the outbox). A
 * repeated webhook (same provider message id) stores nothing and does nothing.
 *
 * Built-in opt-out and opt-in words always win, even in the middle of a conversation. In
 * a conversation the text is read as an answer to the current step first; a keyword that
 * is not an answer restarts; anything else is asked again once with the options, then
 * handed to an officer as a help request that needs a call. A likely typo of a keyword
 * asks "Did you mean SKILLS? Reply YES" (a short "confirm" conversation) instead of acting.
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
	ROUTER_FLOW,         /* a conversation step */
	ROUTER_RECORD,       /* an answer recorded on an earlier help request (follow-up) */
};

const char *router_action_str(enum router_action a);

enum router_conv_op {
	ROUTER_CONV_KEEP,    /* leave any conversation as it is */
	ROUTER_CONV_START,   /* start (or restart) one at conv_flow/conv_step */
	ROUTER_CONV_ADVANCE, /* move the open one to conv_step */
	ROUTER_CONV_RETRY,   /* ask the same step again */
	ROUTER_CONV_CLOSE,   /* close the open one as close_state */
};

const char *router_conv_op_str(enum router_conv_op op);

/* The sender as the lookup found them; strings borrowed from the lookup result. */
struct router_sender {
	bool known_tenant;
	const char *conv_id;        /* NULL: no open conversation */
	const char *conv_flow;
	const char *conv_step;
	const char *conv_answers;   /* JSON object text */
	const char *conv_category;
	const char *conv_help_request;
	int conv_retries;
};

struct router_decision {
	enum router_action action;
	char *keyword;         /* matched word, or NULL */
	char *category;        /* ROUTER_HELP_REQUEST */
	char *reply;           /* first-time reply text, or NULL */
	char *reply_repeat;    /* reply when the action was already done, or NULL */
	enum router_conv_op conv_op;
	char *conv_flow;
	char *conv_step;
	char *answers;         /* JSON object text to store, or NULL */
	char *conv_category;
	const char *close_state; /* "done", "handed_off", "cancelled" */
	bool consent;          /* the tenant agreed to be contacted by a partner */
	bool needs_call;
	char *record_value;    /* ROUTER_RECORD */
};

void router_decide(const struct app *app, const char *text, const struct router_sender *who,
		   struct router_decision *out);
void router_decision_free(struct router_decision *d);

/*
 * The store-and-act statement for a decision (24 parameters; see router.c), with the
 * replies to queue when with_reply. The text lives as long as the process.
 */
const char *router_apply_sql(const struct router_decision *d, bool with_reply);
/* Sender lookup: tenant, attributed campaign, whether this webhook was seen, open conversation. */
extern const char router_lookup_sql[];
/* Fills who from a router_lookup_sql row. */
void router_sender_from_row(const struct db_result *r, struct router_sender *who);

#endif
