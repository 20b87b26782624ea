#include "gateway/triage.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "campaigns/template.h"
#include "common/codec.h"
#include "gateway/counters.h"
#include "gateway/replay.h"
#include "infra/log.h"
#include "sms/phone.h"
#include "triage/flow.h"
#include "triage/keyword.h"

#define TRIAGE_CONFIRM_FLOW "confirm"

/* $1 phone, $2 provider, $3 provider message id */
static const char triage_lookup_sql[] =
	"SELECT t.id, (SELECT m.campaign_id FROM messages m WHERE m.tenant_id = t.id "
	"  AND m.kind = 'campaign' AND m.submitted_at > now() - interval '14 days' "
	"  ORDER BY m.submitted_at DESC LIMIT 1), "
	"EXISTS (SELECT 1 FROM inbound_messages i WHERE i.provider = $2 AND i.provider_msg_id = $3), "
	"c.id, c.flow, c.step, c.answers::text, c.retries, c.category, c.help_request_id, "
	"t.language "
	"FROM (SELECT 1) x LEFT JOIN tenants t ON t.phone = $1 "
	"LEFT JOIN conversations c ON c.phone = $1 AND c.state = 'open' AND c.expires_at > now()";

/* Parameters of triage_lookup_sql. */
enum {
	LOOKUP_PHONE,
	LOOKUP_PROVIDER,
	LOOKUP_PROVIDER_ID,
	LOOKUP_NPARAMS,
};

/* Columns of triage_lookup_sql. */
enum {
	LOOKUP_TENANT,
	LOOKUP_CAMPAIGN,
	LOOKUP_SEEN,
	LOOKUP_CONV_ID,
	LOOKUP_CONV_FLOW,
	LOOKUP_CONV_STEP,
	LOOKUP_CONV_ANSWERS,
	LOOKUP_CONV_RETRIES,
	LOOKUP_CONV_CATEGORY,
	LOOKUP_CONV_HELP_REQUEST,
	LOOKUP_LANGUAGE,
};

/*
 * The store-and-act statement for one text: $1 provider, $2 provider message
 * id, $3 from, $4 to, $5 text, $6 tenant id, $7 campaign id, $8 action, $9 keyword, $10
 * reply (NULL when it rides in the webhook answer or there is none), $11 reply if
 * repeated, $12 help-request category, $13 conversation op, $14 flow, $15 step, $16
 * answers (JSON), $17 conversation category, $18 close state, $19 conversation lifetime in
 * seconds, $20 needs a call, $21 consent, $22 open conversation id, $23 value to record,
 * $24 help request to record it on, $25 the text's core, $26 the rule that decided, $27 a
 * language to store on a tenant who has none, $28 the webhook's replay id (NULL: none)
 * and $29 until when to keep it (gateway/replay.h).
 * Returns: inbound id (NULL for a repeat), whether the action was new, help request id,
 * reply messages queued, conversations and help requests changed.
 *
 * A decision needs only some of the parts, and PostgreSQL opens every table (and all its
 * indexes) that any data-modifying part names, whether or not it changes a row: so each
 * kind of decision has a statement of its own parts (triage_apply_sql).
 */

/* Parameters of the store-and-act statement, $1 to $29 in order. */
enum {
	APPLY_PROVIDER,
	APPLY_PROVIDER_ID,
	APPLY_FROM,
	APPLY_TO,
	APPLY_TEXT,
	APPLY_TENANT,
	APPLY_CAMPAIGN,
	APPLY_ACTION,
	APPLY_KEYWORD,
	APPLY_REPLY,
	APPLY_REPLY_REPEAT,
	APPLY_CATEGORY,
	APPLY_CONV_OP,
	APPLY_CONV_FLOW,
	APPLY_CONV_STEP,
	APPLY_ANSWERS,
	APPLY_CONV_CATEGORY,
	APPLY_CLOSE_STATE,
	APPLY_CONV_TTL,
	APPLY_NEEDS_CALL,
	APPLY_CONSENT,
	APPLY_CONV_ID,
	APPLY_RECORD_VALUE,
	APPLY_RECORD_ON,
	APPLY_CORE,
	APPLY_RULE,
	APPLY_LANGUAGE,
	APPLY_REPLAY_ID,
	APPLY_REPLAY_UNTIL,
	APPLY_NPARAMS,
};

_Static_assert(APPLY_NPARAMS == TRIAGE_PARAMS_MAX, "the store-and-act statement's parameters");
_Static_assert(LOOKUP_NPARAMS <= TRIAGE_PARAMS_MAX, "the lookup's parameters");

/* Columns of the store-and-act statement. */
enum {
	APPLIED_INBOUND,
	APPLIED_FRESH,
	APPLIED_HELP_REQUEST,
	APPLIED_REPLIES,
	APPLIED_NOTIFIED,
	APPLIED_CHANGED,
};

/* The parts of the store-and-act statement, as a decision needs them. */
enum {
	TRIAGE_APPLY_OPT_OUT = 1 << 0,
	TRIAGE_APPLY_OPT_IN = 1 << 1,
	TRIAGE_APPLY_HELP = 1 << 2,
	TRIAGE_APPLY_START = 1 << 3,
	TRIAGE_APPLY_STEP = 1 << 4, /* advance or retry */
	TRIAGE_APPLY_CLOSE = 1 << 5,
	TRIAGE_APPLY_RECORD = 1 << 6,
	TRIAGE_APPLY_REPLY = 1 << 7,
	TRIAGE_APPLY_REPLAY = 1 << 8, /* the webhook's replay id, recorded */
	TRIAGE_APPLY_LANGUAGE = 1 << 9,
	TRIAGE_APPLY_KINDS = 1 << 10,
};

/* Every parameter's type, for those a statement's parts leave out. */
static const char triage_apply_head[] =
	"WITH params AS (SELECT $1::text, $2::text, $3::text, $4::text, $5::text, $6::bigint, "
	"  $7::bigint, $8::text, $9::text, $10::text, $11::text, $12::text, $13::text, $14::text, "
	"  $15::text, $16::jsonb, $17::text, $18::text, $19::int, $20::boolean, $21::boolean, "
	"  $22::bigint, $23::text, $24::bigint, $25::text, $26::text, $27::text, $28::text, "
	"  $29::bigint"
	"), ll AS (SELECT landlord_id AS id FROM tenants WHERE id = $6"
	"), ins AS ("
	"  INSERT INTO inbound_messages (provider, provider_msg_id, from_phone, to_phone, body, "
	"    tenant_id, campaign_id, action, keyword, core, rule, landlord_id) "
	"  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9, $25, $26, (SELECT id FROM ll)) "
	"  ON CONFLICT (provider, provider_msg_id) DO NOTHING RETURNING id"
	")";

static const char triage_apply_replay[] = ", " REPLAY_CTE("$1", "$28", "$29");

static const char triage_apply_opt_out[] =
	", oo AS ("
	"  INSERT INTO opt_outs (phone, source) SELECT $3, 'sms' FROM ins "
	"  ON CONFLICT DO NOTHING RETURNING 1"
	")";

static const char triage_apply_language[] =
	", lang AS ("
	"  UPDATE tenants SET language = $27 WHERE id = $6 AND language IS NULL "
	"  AND EXISTS (SELECT 1 FROM ins) RETURNING 1"
	")";

static const char triage_apply_opt_in[] =
	", oi AS ("
	"  DELETE FROM opt_outs WHERE phone = $3 AND EXISTS (SELECT 1 FROM ins) RETURNING 1"
	")";

static const char triage_apply_help[] =
	", open_hr AS ("
	"  SELECT h.id FROM help_requests h WHERE h.category = $12 "
	"  AND (h.tenant_id = $6 OR ($6::bigint IS NULL AND h.tenant_id IS NULL AND h.phone = $3)) "
	"  AND h.state NOT IN ('resolved', 'closed_no_contact') LIMIT 1"
	"), hr AS ("
	"  INSERT INTO help_requests (tenant_id, phone, category, campaign_id, inbound_message_id, "
	"    borough, answers, consent, needs_call, landlord_id) "
	"  SELECT $6, $3, $12, $7, ins.id, (SELECT borough FROM tenants WHERE id = $6), "
	"    coalesce($16::jsonb, '{}'), $21, $20, (SELECT id FROM ll) FROM ins "
	"  WHERE NOT EXISTS (SELECT 1 FROM open_hr) RETURNING id"
	")";

static const char triage_apply_start[] =
	", conv_start AS ("
	"  INSERT INTO conversations (phone, tenant_id, provider, flow, step, campaign_id, "
	"    expires_at, answers, category, landlord_id) "
	"  SELECT $3, $6, $1, $14, $15, $7, now() + make_interval(secs => $19::int), "
	"    coalesce($16::jsonb, '{}'), $17, (SELECT id FROM ll) FROM ins "
	"  ON CONFLICT (phone) WHERE state = 'open' DO UPDATE SET flow = EXCLUDED.flow, "
	"    step = EXCLUDED.step, answers = EXCLUDED.answers, category = EXCLUDED.category, "
	"    retries = 0, "
	"    tenant_id = EXCLUDED.tenant_id, landlord_id = EXCLUDED.landlord_id, "
	"    provider = EXCLUDED.provider, "
	"    campaign_id = EXCLUDED.campaign_id, help_request_id = NULL, last_inbound_at = now(), "
	"    reminded_at = NULL, expires_at = EXCLUDED.expires_at RETURNING id"
	")";

static const char triage_apply_step[] =
	", conv_step AS ("
	"  UPDATE conversations c SET step = $15, answers = $16::jsonb, category = $17, "
	"    retries = CASE WHEN $13 = 'retry' THEN c.retries + 1 ELSE 0 END, "
	"    last_inbound_at = now(), reminded_at = NULL, "
	"    expires_at = now() + make_interval(secs => $19::int) "
	"  WHERE c.id = $22::bigint AND c.state = 'open' AND EXISTS (SELECT 1 FROM ins) "
	"  RETURNING c.id"
	")";

/* %s: how the closed conversation's help request is found */
static const char triage_apply_close[] =
	", conv_close AS ("
	"  UPDATE conversations c SET state = $18, closed_at = now(), last_inbound_at = now(), "
	"    answers = coalesce($16::jsonb, c.answers), help_request_id = %s "
	"  WHERE c.id = $22::bigint AND c.state = 'open' AND EXISTS (SELECT 1 FROM ins) "
	"  RETURNING c.id"
	")";

static const char triage_apply_record[] =
	", rec AS ("
	"  UPDATE help_requests h SET followup_outcome = $23, followup_answered_at = now(), "
	"    updated_at = now() "
	"  WHERE h.id = $24::bigint AND EXISTS (SELECT 1 FROM ins) RETURNING h.id"
	")";

/* %s: whether the action was new */
static const char triage_apply_reply[] =
	", fresh AS (SELECT %s AS v"
	"), reply AS ("
	"  INSERT INTO messages (kind, tenant_id, to_phone, body, provider, in_reply_to, expires_at, "
	"    landlord_id) "
	"  SELECT 'reply', $6, $3, CASE WHEN fresh.v THEN $10 ELSE $11 END, $1, ins.id, "
	"    now() + interval '1 day', (SELECT id FROM ll) FROM ins, fresh "
	"  WHERE (CASE WHEN fresh.v THEN $10 ELSE $11 END) IS NOT NULL RETURNING id"
	")";

static void triage_apply_count(struct sbuf *sql, unsigned kinds, unsigned kind, const char *cte)
{
	if (kinds & kind)
		sbuf_printf(sql, " + (SELECT count(*) FROM %s)", cte);
}

static char *triage_apply_build(unsigned kinds)
{
	const char *fresh = kinds & TRIAGE_APPLY_OPT_OUT ? "EXISTS (SELECT 1 FROM oo)"
			    : kinds & TRIAGE_APPLY_HELP  ? "EXISTS (SELECT 1 FROM hr)"
						  : "true";
	struct sbuf sql;

	sbuf_init(&sql);
	sbuf_adds(&sql, triage_apply_head);
	if (kinds & TRIAGE_APPLY_REPLAY)
		sbuf_adds(&sql, triage_apply_replay);
	if (kinds & TRIAGE_APPLY_OPT_OUT)
		sbuf_adds(&sql, triage_apply_opt_out);
	if (kinds & TRIAGE_APPLY_OPT_IN)
		sbuf_adds(&sql, triage_apply_opt_in);
	if (kinds & TRIAGE_APPLY_LANGUAGE)
		sbuf_adds(&sql, triage_apply_language);
	if (kinds & TRIAGE_APPLY_HELP)
		sbuf_adds(&sql, triage_apply_help);
	if (kinds & TRIAGE_APPLY_START)
		sbuf_adds(&sql, triage_apply_start);
	if (kinds & TRIAGE_APPLY_STEP)
		sbuf_adds(&sql, triage_apply_step);
	if (kinds & TRIAGE_APPLY_CLOSE)
		sbuf_printf(&sql, triage_apply_close,
			    kinds & TRIAGE_APPLY_HELP
				    ? "coalesce(c.help_request_id, (SELECT id FROM hr), "
				      "(SELECT id FROM open_hr))"
				    : "c.help_request_id");
	if (kinds & TRIAGE_APPLY_RECORD)
		sbuf_adds(&sql, triage_apply_record);
	if (kinds & TRIAGE_APPLY_REPLY)
		sbuf_printf(&sql, triage_apply_reply, fresh);
	sbuf_printf(&sql, " SELECT (SELECT id FROM ins), %s, ", fresh);
	sbuf_adds(&sql, kinds & TRIAGE_APPLY_HELP
				? "coalesce((SELECT id FROM hr), (SELECT id FROM open_hr)), "
				: "NULL::bigint, ");
	sbuf_adds(&sql, kinds & TRIAGE_APPLY_REPLY
				? "(SELECT count(*) FROM reply), CASE WHEN EXISTS "
				  "(SELECT 1 FROM reply) THEN pg_notify('signpost_work', 'reply') END, 0"
				: "0, NULL, 0");
	triage_apply_count(&sql, kinds, TRIAGE_APPLY_START, "conv_start");
	triage_apply_count(&sql, kinds, TRIAGE_APPLY_STEP, "conv_step");
	triage_apply_count(&sql, kinds, TRIAGE_APPLY_CLOSE, "conv_close");
	triage_apply_count(&sql, kinds, TRIAGE_APPLY_RECORD, "rec");
	triage_apply_count(&sql, kinds, TRIAGE_APPLY_LANGUAGE, "lang");
	return sbuf_detach(&sql);
}

/*
 * The store-and-act statement for a decision, with the replies to queue when with_reply
 * and the webhook's replay id when with_replay. The text lives as long as the process.
 */
static const char *triage_apply_sql(const struct triage_decision *d, bool with_reply,
				    bool with_replay)
{
	/* built once each, on first use; the database layer knows a statement by its address */
	static char *built[TRIAGE_APPLY_KINDS];
	unsigned kinds = (d->action == TRIAGE_OPT_OUT ? TRIAGE_APPLY_OPT_OUT : 0) |
			 (d->action == TRIAGE_OPT_IN ? TRIAGE_APPLY_OPT_IN : 0) |
			 (d->action == TRIAGE_HELP_REQUEST ? TRIAGE_APPLY_HELP : 0) |
			 (d->conv_op == TRIAGE_CONV_START ? TRIAGE_APPLY_START : 0) |
			 (d->conv_op == TRIAGE_CONV_ADVANCE || d->conv_op == TRIAGE_CONV_RETRY
				  ? TRIAGE_APPLY_STEP
				  : 0) |
			 (d->conv_op == TRIAGE_CONV_CLOSE ? TRIAGE_APPLY_CLOSE : 0) |
			 (d->record_value ? TRIAGE_APPLY_RECORD : 0) |
			 (d->learned_language ? TRIAGE_APPLY_LANGUAGE : 0) |
			 (with_reply && (d->reply || d->reply_repeat) ? TRIAGE_APPLY_REPLY : 0) |
			 (with_replay ? TRIAGE_APPLY_REPLAY : 0);

	if (!built[kinds])
		built[kinds] = triage_apply_build(kinds);
	return built[kinds];
}

static const char *const triage_action_names[] = {
	"none", "opt_out", "opt_in", "info", "help_request", "suggest", "flow", "record",
};

static const char *const triage_conv_op_names[] = {
	"keep", "start", "advance", "retry", "close",
};

const char *triage_action_str(enum triage_action a)
{
	return a < ARRAY_LEN(triage_action_names) ? triage_action_names[a] : "?";
}

const char *triage_conv_op_str(enum triage_conv_op op)
{
	return op < ARRAY_LEN(triage_conv_op_names) ? triage_conv_op_names[op] : "?";
}

/* The standard replies when the keyword set has none (sets saved before it had them). */
static const char *const triage_default_replies[KEYWORD_REPLY_COUNT] = {
	[KEYWORD_REPLY_OPT_OUT] = "You will not get any more texts from {org}. Text START if you "
				  "change your mind.",
	[KEYWORD_REPLY_OPT_IN] = "Welcome back: you will get texts from {org} again. Text STOP to "
				 "stop them.",
	[KEYWORD_REPLY_INFO] = "These texts are from {org} about free help getting online. Text "
			       "SKILLS for help or STOP to stop them.",
	[KEYWORD_REPLY_NOT_UNDERSTOOD] = "Sorry, we did not understand that. Text SKILLS for help "
					 "getting online, or STOP to stop texts from {org}.",
	[KEYWORD_REPLY_STRANGER] = "Thanks for your message. This number is {org}'s digital help "
				   "service: text SKILLS if you would like help getting online.",
	[KEYWORD_REPLY_HELP_REQUEST] = "Thanks! Someone from {org} will be in touch soon.",
	[KEYWORD_REPLY_HELP_REQUEST_REPEAT] = "Thanks, we already have your request and someone "
					      "will be in touch soon.",
	[KEYWORD_REPLY_DID_YOU_MEAN] = "Did you mean {keyword}? Reply YES",
	[KEYWORD_REPLY_WOULD_YOU_LIKE] = "Would you like help with {label}? Reply YES",
	[KEYWORD_REPLY_NOT_AN_ANSWER] = "Sorry, we did not understand that.",
	[KEYWORD_REPLY_WILL_CALL] = "Thanks. Someone from {org} will call you to help.",
	[KEYWORD_REPLY_THANK_YOU] = "Thank you.",
};

/*
 * A reply: own (a keyword's or an answer's, already in the decision's language) when there
 * is one, else standard reply r in that language; {org}, {keyword} and {label} filled in.
 */
static char *triage_text(const struct app *app, const struct triage_decision *d, const char *own,
			 enum keyword_reply r, const struct keyword *k)
{
	const char *std = keyword_set_reply(app->keywords, r, d->lang);
	const char *label = k ? keyword_label_in(k, d->lang) : NULL;
	struct template_field fields[] = {
		{ "org", app->cfg.org_name },
		{ "keyword", k ? k->word : NULL },
		{ "label", label ? label : k ? k->word : NULL },
	};
	struct sbuf out;

	sbuf_init(&out);
	template_render(own && *own ? own : std ? std : triage_default_replies[r], fields,
			ARRAY_LEN(fields), &out);
	return sbuf_detach(&out);
}

static char *triage_dup(const char *s)
{
	return s ? xstrdup(s) : NULL;
}

/* "first second", either may be NULL. */
static char *triage_join(const char *first, const char *second)
{
	if (!first || !*first)
		return xstrdup(second ? second : "");
	return second ? xasprintf("%s %s", first, second) : xstrdup(first);
}

/* ---- conversations ---- */

static void triage_conv(struct triage_decision *out, enum triage_conv_op op, const char *flow,
			const char *step)
{
	out->conv_op = op;
	out->close_state = NULL; /* callers closing set it after */
	free(out->conv_flow);
	free(out->conv_step);
	out->conv_flow = triage_dup(flow);
	out->conv_step = triage_dup(step);
}

static void triage_help_request(const struct app *app, const char *category, const char *reply,
				struct triage_decision *out)
{
	out->action = TRIAGE_HELP_REQUEST;
	free(out->category);
	out->category = xstrdup(category && *category ? category : "digital_skills");
	out->reply = triage_text(app, out, reply, KEYWORD_REPLY_HELP_REQUEST, NULL);
	out->reply_repeat = triage_text(app, out, NULL, KEYWORD_REPLY_HELP_REQUEST_REPEAT, NULL);
}

/* answers with step = value added, as JSON text. */
static char *triage_answers_add(const char *answers, const char *step, const char *value)
{
	struct json_object *o = answers ? json_tokener_parse(answers) : NULL;
	char *s;

	if (!o || !json_object_is_type(o, json_type_object)) {
		json_object_put(o);
		o = json_object_new_object();
	}
	if (step)
		json_object_object_add(o, step, json_object_new_string(value));
	s = xstrdup(json_object_to_json_string_ext(o, JSON_C_TO_STRING_PLAIN));
	json_object_put(o);
	return s;
}

/*
 * Answer a given at step s. op is how the conversation moves on to the next step:
 * ADVANCE in an open one, START for a keyword that answers its flow's first question.
 */
static void triage_flow_answer(const struct app *app, const struct flow *f,
			       const struct flow_step *s, const struct flow_answer *a,
			       const struct triage_sender *who, enum triage_conv_op op,
			       struct triage_decision *out)
{
	const char *category = a->category ? a->category : who->conv_category;
	const struct flow_step *next = a->next ? flow_step(f, a->next) : NULL;
	const char *reply = flow_reply(a, out->lang);

	out->answers = triage_answers_add(who->conv_answers, s->id, a->value);
	out->conv_category = triage_dup(category);
	out->action = TRIAGE_FLOW;
	if (next) {
		triage_conv(out, op, f->name, next->id);
		out->reply = triage_join(reply, flow_question(next, out->lang));
		return;
	}
	triage_conv(out, TRIAGE_CONV_CLOSE, f->name, s->id);
	out->close_state = "done";
	if (a->outcome == FLOW_HELP_REQUEST) {
		triage_help_request(app, category ? category : f->category, reply, out);
		out->consent = true;
	} else if (a->outcome == FLOW_RECORD) {
		out->action = TRIAGE_RECORD;
		out->record_value = xstrdup(a->value);
		out->reply = triage_text(app, out, reply, KEYWORD_REPLY_THANK_YOU, NULL);
	} else {
		out->reply = triage_text(app, out, reply, KEYWORD_REPLY_THANK_YOU, NULL);
	}
}

/*
 * Starts flow target ("flow" or "flow:step") of keyword kw, taking its answer at once when it
 * has one (EMAIL answers the first question); false when there is no such flow or step.
 */
static bool triage_start_flow(const struct app *app, const struct keyword *kw,
			      struct triage_decision *out)
{
	const char *colon = kw->target ? strchr(kw->target, ':') : NULL;
	char *name = kw->target ? xstrndup(kw->target, colon ? (size_t)(colon - kw->target)
							     : strlen(kw->target)) : NULL;
	const struct flow *f = flow_set_get(app->flows, name);
	const struct flow_step *s = f ? flow_step(f, colon ? colon + 1 : f->start) : NULL;
	const struct flow_answer *a = s && kw->answer ? flow_answer(s, kw->answer) : NULL;
	const struct triage_sender nobody = { 0 };

	free(name);
	if (!s || !flow_is_entry(f, s->id))
		return false;
	if (a && a->next && flow_step(f, a->next)) {
		triage_flow_answer(app, f, s, a, &nobody, TRIAGE_CONV_START, out);
		return true;
	}
	out->action = TRIAGE_FLOW;
	triage_conv(out, TRIAGE_CONV_START, f->name, s->id);
	out->reply = triage_join(keyword_reply_in(kw, out->lang), flow_question(s, out->lang));
	return true;
}

static void triage_keyword(const struct app *app, const struct keyword *kw,
			   struct triage_decision *out)
{
	const char *own = keyword_reply_in(kw, out->lang);

	out->keyword = xstrdup(kw->word);
	switch (kw->action) {
	case KEYWORD_OPT_OUT:
		out->action = TRIAGE_OPT_OUT;
		out->reply = triage_text(app, out, own, KEYWORD_REPLY_OPT_OUT, kw);
		break;
	case KEYWORD_OPT_IN:
		out->action = TRIAGE_OPT_IN;
		out->reply = triage_text(app, out, own, KEYWORD_REPLY_OPT_IN, kw);
		break;
	case KEYWORD_INFO:
		out->action = TRIAGE_INFO;
		out->reply = triage_text(app, out, own, KEYWORD_REPLY_INFO, kw);
		break;
	case KEYWORD_FLOW:
		if (triage_start_flow(app, kw, out))
			break;
		/* no such flow: a help request in the branch's category, as before flows */
		triage_help_request(app, kw->target && strchr(kw->target, ':')
					 ? strchr(kw->target, ':') + 1 : kw->target, own, out);
		break;
	case KEYWORD_HELP_REQUEST:
		triage_help_request(app, kw->target, own, out);
		break;
	}
}

/* An answer that is not one of the options: asked again once, then an officer calls. */
static void triage_flow_unclear(const struct app *app, const struct flow *f,
				const struct flow_step *s, const struct triage_sender *who,
				struct triage_decision *out)
{
	out->answers = triage_answers_add(who->conv_answers, NULL, NULL);
	out->conv_category = triage_dup(who->conv_category);
	if (who->conv_retries < 1) {
		char *sorry = triage_text(app, out, NULL, KEYWORD_REPLY_NOT_AN_ANSWER, NULL);
		out->action = TRIAGE_FLOW;
		triage_conv(out, TRIAGE_CONV_RETRY, f->name, s->id);
		out->reply = triage_join(sorry, flow_question(s, out->lang));
		free(sorry);
		return;
	}
	triage_conv(out, TRIAGE_CONV_CLOSE, f->name, s->id);
	out->close_state = "handed_off";
	char *call = triage_text(app, out, NULL, KEYWORD_REPLY_WILL_CALL, NULL);
	triage_help_request(app, who->conv_category ? who->conv_category : f->category, call, out);
	free(call);
	out->needs_call = true;
}

/* ---- deciding ---- */

/* A question before acting: "Did you mean SKILLS?" or "Would you like help with email?". */
static void triage_ask(const struct app *app, const struct keyword_match *m,
		       struct triage_decision *out)
{
	out->action = TRIAGE_SUGGEST;
	triage_conv(out, TRIAGE_CONV_START, TRIAGE_CONFIRM_FLOW, m->keyword->word);
	out->reply = triage_text(app, out, NULL,
				 m->kind == KEYWORD_MATCH_TYPO || !keyword_label_in(m->keyword, out->lang)
					 ? KEYWORD_REPLY_DID_YOU_MEAN
					 : KEYWORD_REPLY_WOULD_YOU_LIKE,
				 m->keyword);
}

static void triage_fresh(const struct app *app, const struct keyword_match *m,
			 const struct triage_sender *who, struct triage_decision *out)
{
	if (m->kind == KEYWORD_MATCH_EXACT) {
		triage_keyword(app, m->keyword, out);
		return;
	}
	if (m->kind == KEYWORD_MATCH_TYPO || m->kind == KEYWORD_MATCH_CONFIRM) {
		triage_ask(app, m, out);
		return;
	}
	out->action = TRIAGE_NONE;
	out->reply = triage_text(app, out, NULL,
				 who->known_tenant ? KEYWORD_REPLY_NOT_UNDERSTOOD
						   : KEYWORD_REPLY_STRANGER, NULL);
}

/* In a conversation: true when the text was handled as part of it. */
static bool triage_in_conversation(const struct app *app, const char *text,
				   const struct keyword_match *m, const struct triage_sender *who,
				   struct triage_decision *out)
{
	const struct flow *f = flow_set_get(app->flows, who->conv_flow);
	const struct flow_step *s = f ? flow_step(f, who->conv_step) : NULL;
	const struct flow_answer *a = s ? flow_answer(s, text) : NULL;

	if (strcmp(who->conv_flow, TRIAGE_CONFIRM_FLOW) == 0) {
		const struct keyword *k = keyword_set_find(app->keywords, who->conv_step);
		if (!keyword_is_yes(app->keywords, text) || !k)
			return false;
		triage_conv(out, TRIAGE_CONV_CLOSE, TRIAGE_CONFIRM_FLOW, who->conv_step);
		out->close_state = "done";
		triage_keyword(app, k, out); /* a flow it starts replaces the question */
		return true;
	}
	if (!s)
		return false;
	if (a) {
		triage_flow_answer(app, f, s, a, who, TRIAGE_CONV_ADVANCE, out);
		return true;
	}
	if (m->kind == KEYWORD_MATCH_EXACT)
		return false; /* a keyword that is not an answer: start afresh */
	triage_flow_unclear(app, f, s, who, out);
	return true;
}

/* What the text says beside its action: its core, rule and language. */
static void triage_note(const struct app *app, const char *text, const struct keyword_match *m,
			const struct triage_sender *who, struct triage_decision *out)
{
	struct sbuf core;

	sbuf_init(&core);
	keyword_core(app->keywords, text, &core);
	if (core.len == 0)
		keyword_normalise(text, &core);
	out->core = sbuf_detach(&core);
	out->rule = keyword_rule_str(m->rule);
	if (m->language[0])
		snprintf(out->lang, sizeof(out->lang), "%s", m->language);
	else if (who->language && texts_lang_valid(who->language))
		snprintf(out->lang, sizeof(out->lang), "%s", who->language);
	if (who->known_tenant && !who->language && m->language[0])
		out->learned_language = xstrdup(m->language);
}

void triage_decide(const struct app *app, const char *text, const struct triage_sender *who,
		   struct triage_decision *out)
{
	struct keyword_match m;

	memset(out, 0, sizeof(*out));
	keyword_match(app->keywords, text, &m);
	triage_note(app, text, &m, who, out);
	if (m.kind == KEYWORD_MATCH_EXACT &&
	    (m.keyword->action == KEYWORD_OPT_OUT || m.keyword->action == KEYWORD_OPT_IN ||
	     m.keyword->action == KEYWORD_INFO)) {
		triage_keyword(app, m.keyword, out);
		if (who->conv_id && m.keyword->action == KEYWORD_OPT_OUT) {
			triage_conv(out, TRIAGE_CONV_CLOSE, who->conv_flow, who->conv_step);
			out->close_state = "cancelled";
		}
		return;
	}
	if (who->conv_id && triage_in_conversation(app, text, &m, who, out))
		return;
	if (who->conv_id) { /* whatever is started next replaces it; otherwise it ends here */
		triage_conv(out, TRIAGE_CONV_CLOSE, who->conv_flow, who->conv_step);
		out->close_state = "cancelled";
	}
	triage_fresh(app, &m, who, out);
}

void triage_decision_free(struct triage_decision *d)
{
	free(d->keyword);
	free(d->category);
	free(d->reply);
	free(d->reply_repeat);
	free(d->conv_flow);
	free(d->conv_step);
	free(d->answers);
	free(d->conv_category);
	free(d->record_value);
	free(d->core);
	free(d->learned_language);
	memset(d, 0, sizeof(*d));
}

/* ---- a text from intake to its answer ---- */

int triage_text_from_sms(struct triage_text *t, const char *provider, bool sync_reply,
			 const struct sms_in *sms, struct sbuf *err)
{
	const char *text = sbuf_str(&sms->text);

	if (!codec_utf8_valid(text, sms->text.len)) {
		sbuf_adds(err, "the text is not valid UTF-8");
		return -1;
	}
	if (sms->text.len > TRIAGE_TEXT_MAX || !sms->from[0] || !sms->provider_id[0]) {
		sbuf_adds(err, "the text has no sender or id, or is longer than an SMS can be");
		return -1;
	}
	*t = (struct triage_text){ .provider = provider, .provider_id = sms->provider_id,
				   .from = sms->from, .to = sms->to, .text = text,
				   .sync_reply = sync_reply };
	return 0;
}

void triage_lookup_params(const struct triage_text *t, struct triage_params *out)
{
	memset(out, 0, sizeof(*out));
	out->n = LOOKUP_NPARAMS;
	out->v[LOOKUP_PHONE] = t->from;
	out->v[LOOKUP_PROVIDER] = t->provider;
	out->v[LOOKUP_PROVIDER_ID] = t->provider_id;
}

void triage_lookup_from_row(const struct db_result *r, struct triage_lookup *out)
{
	struct triage_sender *who = &out->who;

	memset(out, 0, sizeof(*out));
	out->seen = db_get_bool(r, 0, LOOKUP_SEEN);
	out->tenant_id = db_get(r, 0, LOOKUP_TENANT);
	out->campaign_id = db_get(r, 0, LOOKUP_CAMPAIGN);
	who->known_tenant = out->tenant_id != NULL;
	who->conv_id = db_get(r, 0, LOOKUP_CONV_ID);
	who->conv_flow = db_get(r, 0, LOOKUP_CONV_FLOW);
	who->conv_step = db_get(r, 0, LOOKUP_CONV_STEP);
	who->conv_answers = db_get(r, 0, LOOKUP_CONV_ANSWERS);
	who->conv_retries = (int)db_get_i64(r, 0, LOOKUP_CONV_RETRIES);
	who->conv_category = db_get(r, 0, LOOKUP_CONV_CATEGORY);
	who->conv_help_request = db_get(r, 0, LOOKUP_CONV_HELP_REQUEST);
	who->language = db_get(r, 0, LOOKUP_LANGUAGE);
}

/* The parameters that say what to do: the decision and the sender's conversation. */
static void triage_apply_decision(const struct triage_lookup *l, const struct triage_decision *d,
				  bool sync_reply, const char **v)
{
	v[APPLY_ACTION] = triage_action_str(d->action);
	v[APPLY_KEYWORD] = d->keyword;
	/* a sync_reply provider carries the reply in its answer: none goes to the outbox */
	v[APPLY_REPLY] = sync_reply ? NULL : d->reply;
	v[APPLY_REPLY_REPEAT] = sync_reply ? NULL : d->reply_repeat;
	v[APPLY_CATEGORY] = d->category;
	v[APPLY_CONV_OP] = triage_conv_op_str(d->conv_op);
	v[APPLY_CONV_FLOW] = d->conv_flow;
	v[APPLY_CONV_STEP] = d->conv_step;
	v[APPLY_ANSWERS] = d->answers;
	v[APPLY_CONV_CATEGORY] = d->conv_category;
	v[APPLY_CLOSE_STATE] = d->close_state;
	v[APPLY_NEEDS_CALL] = d->needs_call ? "true" : "false";
	v[APPLY_CONSENT] = d->consent ? "true" : "false";
	v[APPLY_CONV_ID] = l->who.conv_id;
	v[APPLY_RECORD_VALUE] = d->record_value;
	v[APPLY_RECORD_ON] = l->who.conv_help_request;
	v[APPLY_CORE] = d->core;
	v[APPLY_RULE] = d->rule;
	v[APPLY_LANGUAGE] = d->learned_language;
}

void triage_apply_params(const struct triage_text *t, const struct triage_lookup *l,
			 const struct triage_decision *d, int conv_ttl_s, struct triage_params *out)
{
	memset(out, 0, sizeof(*out));
	out->n = APPLY_NPARAMS;
	snprintf(out->ttl, sizeof(out->ttl), "%d", conv_ttl_s);
	out->v[APPLY_PROVIDER] = t->provider;
	out->v[APPLY_PROVIDER_ID] = t->provider_id;
	out->v[APPLY_FROM] = t->from;
	out->v[APPLY_TO] = t->to;
	out->v[APPLY_TEXT] = t->text;
	out->v[APPLY_TENANT] = l->tenant_id;
	out->v[APPLY_CAMPAIGN] = l->campaign_id;
	out->v[APPLY_CONV_TTL] = out->ttl;
	if (t->auth && replay_has(t->auth)) {
		snprintf(out->until, sizeof(out->until), "%lld", (long long)t->auth->replay_until);
		out->v[APPLY_REPLAY_ID] = t->auth->replay_id;
		out->v[APPLY_REPLAY_UNTIL] = out->until;
	}
	triage_apply_decision(l, d, t->sync_reply, out->v);
}

void triage_outcome_from_row(const struct db_result *r, struct triage_outcome *out)
{
	memset(out, 0, sizeof(*out));
	out->inbound_id = db_get(r, 0, APPLIED_INBOUND);
	out->fresh = db_get_bool(r, 0, APPLIED_FRESH);
	out->help_request = db_get(r, 0, APPLIED_HELP_REQUEST);
}

/* One text being routed, from the lookup to the commit of what it does. */
struct triage_job {
	const struct app *app;
	struct triage_text text; /* borrowed until done runs */
	struct triage_decision decision;
	triage_cb *done;
	void *arg;
};

static void triage_finish(struct triage_job *job, const struct db_result *failed,
			  const char *reply, bool repeat)
{
	struct triage_result res = { .failed = failed, .reply = reply, .repeat = repeat };

	job->done(&res, job->arg);
	triage_decision_free(&job->decision);
	free(job);
}

static void triage_log(const struct triage_job *job, const struct triage_outcome *o)
{
	const struct triage_decision *d = &job->decision;
	char masked[32];

	phone_mask(job->text.from, masked, sizeof(masked));
	log_info("inbound stored id=%s provider=%s from=%s action=%s%s help_request=%s",
		 o->inbound_id, job->text.provider, masked, triage_action_str(d->action),
		 o->fresh ? "" : " (repeat)", o->help_request ? o->help_request : "-");
	if (d->conv_op != TRIAGE_CONV_KEEP)
		log_debug("conversation from=%s op=%s flow=%s step=%s%s%s", masked,
			  triage_conv_op_str(d->conv_op), d->conv_flow, d->conv_step,
			  d->close_state ? " -> " : "", d->close_state ? d->close_state : "");
}

static void triage_applied(const struct db_result *r, void *arg)
{
	struct triage_job *job = arg;
	struct triage_outcome o;

	if (r->error) {
		triage_finish(job, r, NULL, false);
		return;
	}
	triage_outcome_from_row(r, &o);
	if (!o.inbound_id) { /* a repeat of a webhook stored meanwhile */
		triage_finish(job, NULL, NULL, true);
		return;
	}
	if (o.fresh)
		counters_inbound(config_provider(&job->app->cfg, job->text.provider),
				 job->decision.action);
	triage_log(job, &o);
	triage_finish(job, NULL, o.fresh ? job->decision.reply : job->decision.reply_repeat,
		      false);
}

static void triage_looked_up(const struct db_result *r, void *arg)
{
	struct triage_job *job = arg;
	struct triage_decision *d = &job->decision;
	struct triage_lookup l;
	struct triage_params p;

	if (r->error) {
		triage_finish(job, r, NULL, false);
		return;
	}
	triage_lookup_from_row(r, &l);
	if (l.seen) {
		triage_finish(job, NULL, NULL, true);
		return;
	}
	triage_decide(job->app, job->text.text, &l.who, d);
	triage_apply_params(&job->text, &l, d, job->app->cfg.triage.conversation_ttl_s, &p);
	db_query_grouped(job->app->db,
			 triage_apply_sql(d, !job->text.sync_reply, p.v[APPLY_REPLAY_ID] != NULL),
			 p.n, p.v, triage_applied, job);
}

void triage_route(const struct app *app, const struct triage_text *t, triage_cb *done,
		  void *arg)
{
	struct triage_job *job = xcalloc(1, sizeof(*job));
	struct triage_params p;

	*job = (struct triage_job){ .app = app, .text = *t, .done = done, .arg = arg };
	triage_lookup_params(t, &p);
	db_query(app->db, triage_lookup_sql, p.n, p.v, triage_looked_up, job);
}
