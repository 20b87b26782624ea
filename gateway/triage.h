/*
 * triage.h: what an inbound text means and what we answer.
 *
 * Triage takes an inbound text from the one check of what the adapter parsed to the
 * commit of what the text does (triage_route): one statement looks the sender up, the
 * decision is made in C from the text and what we know of the sender (tenant, open
 * conversation), then one statement stores the inbound text and carries out the action
 * atomically (opt-out, opt-in, conversation step, help request, reply in the outbox).
 * It fills both statements' parameters and reads their rows itself. A repeated webhook
 * (same provider message id) stores nothing and does nothing.
 *
 * Built-in opt-out and opt-in words always win, even in the middle of a conversation. In
 * a conversation the text is read as an answer to the current step first; a keyword that
 * is not an answer restarts; anything else is asked again once with the options, then
 * handed to an officer as a help request that needs a call. A likely typo of a keyword
 * asks "Did you mean SKILLS? Reply YES" (a short "confirm" conversation) instead of acting,
 * and so does a reply that only suggests one ("Would you like help with email? Reply YES").
 *
 * Replies are in the language of the text's own words when the matcher recognised one, else
 * in the tenant's language, wherever the keyword set or the flow has that language's text
 * (English otherwise). A language guessed from a tenant's text is stored on the tenant when
 * they had none, for the next campaign. Each stored text keeps its core and the rule that
 * decided, from which GET /v1/replies/unrecognised groups what was not understood.
 */
#ifndef SIGNPOST_TRIAGE_H
#define SIGNPOST_TRIAGE_H

#include "gateway/app.h"
#include "infra/db.h"
#include "providers/provider.h"

enum triage_action {
	TRIAGE_NONE,         /* no keyword: explain what we do */
	TRIAGE_OPT_OUT,
	TRIAGE_OPT_IN,
	TRIAGE_INFO,
	TRIAGE_HELP_REQUEST,
	TRIAGE_SUGGEST,      /* a likely typo of a keyword */
	TRIAGE_FLOW,         /* a conversation step */
	TRIAGE_RECORD,       /* an answer recorded on an earlier help request (follow-up) */
};

const char *triage_action_str(enum triage_action a);

enum triage_conv_op {
	TRIAGE_CONV_KEEP,    /* leave any conversation as it is */
	TRIAGE_CONV_START,   /* start (or restart) one at conv_flow/conv_step */
	TRIAGE_CONV_ADVANCE, /* move the open one to conv_step */
	TRIAGE_CONV_RETRY,   /* ask the same step again */
	TRIAGE_CONV_CLOSE,   /* close the open one as close_state */
};

const char *triage_conv_op_str(enum triage_conv_op op);

/* The sender as the lookup found them; strings borrowed from the lookup result. */
struct triage_sender {
	bool known_tenant;
	const char *conv_id;        /* NULL: no open conversation */
	const char *conv_flow;
	const char *conv_step;
	const char *conv_answers;   /* JSON object text */
	const char *conv_category;
	const char *conv_help_request;
	int conv_retries;
	const char *language;       /* the tenant's language code, or NULL */
};

struct triage_decision {
	enum triage_action action;
	char *keyword;         /* matched word, or NULL */
	char *category;        /* TRIAGE_HELP_REQUEST */
	char *reply;           /* first-time reply text, or NULL */
	char *reply_repeat;    /* reply when the action was already done, or NULL */
	enum triage_conv_op conv_op;
	char *conv_flow;
	char *conv_step;
	char *answers;         /* JSON object text to store, or NULL */
	char *conv_category;
	const char *close_state; /* "done", "handed_off", "cancelled" */
	bool consent;          /* the tenant agreed to be contacted by a partner */
	bool needs_call;
	char *record_value;    /* TRIAGE_RECORD */
	char lang[TEXTS_LANG_MAX]; /* replies are in this language where the data has it; "" English */
	char *core;            /* the text's core, normalised (keyword_core): how replies are grouped */
	const char *rule;      /* the keyword rule that decided (keyword_rule_str) */
	char *learned_language; /* a language guessed from the text, for a tenant who has none */
};

void triage_decide(const struct app *app, const char *text, const struct triage_sender *who,
		   struct triage_decision *out);
void triage_decision_free(struct triage_decision *d);

/* ---- a text from intake to its answer ---- */

/* Longest text: 255 parts of 67 UTF-16 units, each at most 4 bytes of UTF-8, and room to spare. */
#define TRIAGE_TEXT_MAX (80u << 10)

/* One inbound text as triage needs it. Strings are borrowed. */
struct triage_text {
	const char *provider;    /* the configured provider's name */
	const char *provider_id; /* its message id; a concatenated text's is its first part's */
	const char *from;        /* the sender in E.164, as the adapter wrote it */
	const char *to;          /* the number texted */
	const char *text;        /* UTF-8, at most TRIAGE_TEXT_MAX bytes */
	bool sync_reply;         /* a reply rides in the webhook's answer, not in the outbox */
	/* The webhook's replay id (gateway/replay.h), recorded with the text; NULL: none. */
	const struct verify_result *auth;
};

/*
 * The one check of an adapter's parse result: a sender and a message id, and a text of
 * valid UTF-8 no longer than TRIAGE_TEXT_MAX. The adapter wrote the sender in E.164
 * (provider_e164): it is used as it is. On success fills t, borrowing from sms; -1 with
 * the reason in err otherwise. What passes is trusted from here on.
 */
int triage_text_from_sms(struct triage_text *t, const char *provider, bool sync_reply,
			 const struct sms_in *sms, struct sbuf *err) WUR;

/* What the lookup found for a text; strings borrowed from the lookup's result. */
struct triage_lookup {
	bool seen;               /* this provider message id is stored: a repeated webhook */
	const char *tenant_id;   /* NULL: the number is no tenant's */
	const char *campaign_id; /* the campaign that last texted the tenant (14 days), or NULL */
	struct triage_sender who;
};

/* What the store-and-act statement did; strings borrowed from its result. */
struct triage_outcome {
	const char *inbound_id;   /* the stored text, or NULL for a repeat (nothing done) */
	bool fresh;               /* the action was new (not a second STOP, say) */
	const char *help_request; /* the help request made or found, or NULL */
};

/* The most parameters a triage statement takes (the store-and-act statement's). */
#define TRIAGE_PARAMS_MAX 29

/* A statement's parameters, pointing into what they were built from, ttl and until. */
struct triage_params {
	const char *v[TRIAGE_PARAMS_MAX];
	int n;
	char ttl[16];
	char until[24];
};

/* The lookup's parameters for t. */
void triage_lookup_params(const struct triage_text *t, struct triage_params *out);
/* Fills out from the lookup's one row. */
void triage_lookup_from_row(const struct db_result *r, struct triage_lookup *out);
/* The store-and-act statement's parameters for decision d on text t. */
void triage_apply_params(const struct triage_text *t, const struct triage_lookup *l,
			 const struct triage_decision *d, int conv_ttl_s, struct triage_params *out);
/* Fills out from the store-and-act statement's one row. */
void triage_outcome_from_row(const struct db_result *r, struct triage_outcome *out);

/* How routing a text ended; borrowed for the callback. */
struct triage_result {
	const struct db_result *failed; /* a statement failed and nothing was stored */
	bool repeat; /* the text was stored before (same provider message id): nothing done */
	const char *reply; /* the reply to the tenant, or NULL; only a sync_reply provider's
			      answer carries it (provider_inbound_answer) */
};

typedef void triage_cb(const struct triage_result *res, void *arg);

/*
 * Routes text t: one statement looks the sender up, triage_decide decides and one more
 * statement stores the text and carries the decision out. done runs once, after that
 * commit or a failure; t stays borrowed until then.
 */
void triage_route(const struct app *app, const struct triage_text *t, triage_cb *done,
		  void *arg);

#endif
