#include "gateway/router.h"

#include <stdlib.h>
#include <string.h>

#include "campaigns/keyword.h"
#include "campaigns/template.h"

/* $1 phone, $2 provider, $3 provider message id */
const char router_lookup_sql[] =
	"SELECT t.id, (SELECT m.campaign_id FROM messages m WHERE m.tenant_id = t.id "
	"  AND m.kind = 'campaign' AND m.submitted_at > now() - interval '14 days' "
	"  ORDER BY m.submitted_at DESC LIMIT 1), "
	"EXISTS (SELECT 1 FROM inbound_messages i WHERE i.provider = $2 AND i.provider_msg_id = $3) "
	"FROM (SELECT 1) x LEFT JOIN tenants t ON t.phone = $1";

/*
 * $1 provider, $2 provider message id, $3 from, $4 to, $5 text, $6 tenant id, $7 campaign id,
 * $8 action, $9 keyword, $10 reply (NULL when it rides in the webhook answer or there is
 * none), $11 reply if repeated, $12 help-request category.
 * Returns: inbound id (NULL for a repeat), whether the action was new, help request id,
 * reply messages queued.
 */
const char router_apply_sql[] =
	"WITH ins AS ("
	"  INSERT INTO inbound_messages (provider, provider_msg_id, from_phone, to_phone, body, "
	"    tenant_id, campaign_id, action, keyword) "
	"  VALUES ($1, $2, $3, $4, $5, $6, $7, $8, $9) "
	"  ON CONFLICT (provider, provider_msg_id) DO NOTHING RETURNING id"
	"), oo AS ("
	"  INSERT INTO opt_outs (phone, source) SELECT $3, 'sms' FROM ins WHERE $8 = 'opt_out' "
	"  ON CONFLICT DO NOTHING RETURNING 1"
	"), oi AS ("
	"  DELETE FROM opt_outs WHERE $8 = 'opt_in' AND phone = $3 AND EXISTS (SELECT 1 FROM ins) "
	"  RETURNING 1"
	"), open_hr AS ("
	"  SELECT h.id FROM help_requests h WHERE $8 = 'help_request' AND $6::bigint IS NOT NULL "
	"  AND h.tenant_id = $6 AND h.category = $12 AND h.state NOT IN ('resolved', "
	"  'closed_no_contact', 'closed') LIMIT 1"
	"), hr AS ("
	"  INSERT INTO help_requests (tenant_id, category, campaign_id, inbound_message_id, borough) "
	"  SELECT $6, $12, $7, ins.id, (SELECT borough FROM tenants WHERE id = $6) FROM ins "
	"  WHERE $8 = 'help_request' AND NOT EXISTS (SELECT 1 FROM open_hr) RETURNING id"
	"), fresh AS ("
	"  SELECT CASE $8 WHEN 'opt_out' THEN EXISTS (SELECT 1 FROM oo) "
	"    WHEN 'help_request' THEN EXISTS (SELECT 1 FROM hr) ELSE true END AS v"
	"), reply AS ("
	"  INSERT INTO messages (kind, tenant_id, to_phone, body, provider, in_reply_to, expires_at) "
	"  SELECT 'reply', $6, $3, CASE WHEN fresh.v THEN $10 ELSE $11 END, $1, ins.id, "
	"    now() + interval '1 day' FROM ins, fresh "
	"  WHERE (CASE WHEN fresh.v THEN $10 ELSE $11 END) IS NOT NULL RETURNING id"
	") SELECT (SELECT id FROM ins), (SELECT v FROM fresh), "
	"coalesce((SELECT id FROM hr), (SELECT id FROM open_hr)), "
	"(SELECT count(*) FROM reply), "
	"CASE WHEN EXISTS (SELECT 1 FROM reply) THEN pg_notify('signpost_work', 'reply') END";

static const char *const router_action_names[] = {
	"none", "opt_out", "opt_in", "info", "help_request", "suggest",
};

const char *router_action_str(enum router_action a)
{
	return a < ARRAY_LEN(router_action_names) ? router_action_names[a] : "?";
}

/* Replies may name the organisation as {org}. */
static char *router_text(const struct app *app, const char *kw_reply, const char *fallback)
{
	struct template_field org = { "org", app->cfg.org_name };
	struct sbuf out;

	sbuf_init(&out);
	template_render(kw_reply && *kw_reply ? kw_reply : fallback, &org, 1, &out);
	return sbuf_detach(&out);
}

static void router_keyword(const struct app *app, const struct keyword *kw,
			   struct router_decision *out)
{
	out->keyword = kw->word;
	switch (kw->action) {
	case KEYWORD_OPT_OUT:
		out->action = ROUTER_OPT_OUT;
		out->reply = router_text(app, kw->reply, "You will not get any more texts from {org}. "
					 "Text START if you change your mind.");
		break;
	case KEYWORD_OPT_IN:
		out->action = ROUTER_OPT_IN;
		out->reply = router_text(app, kw->reply, "Welcome back: you will get texts from {org} "
					 "again. Text STOP to stop them.");
		break;
	case KEYWORD_INFO:
		out->action = ROUTER_INFO;
		out->reply = router_text(app, kw->reply, "These texts are from {org} about free help "
					 "getting online. Text SKILLS for help or STOP to stop them.");
		break;
	case KEYWORD_FLOW:
	case KEYWORD_HELP_REQUEST:
		out->action = ROUTER_HELP_REQUEST;
		out->category = kw->target && *kw->target ? kw->target : "digital_skills";
		out->reply = router_text(app, kw->reply, "Thanks! Someone from {org} will be in touch "
					 "soon.");
		out->reply_repeat = xstrdup("Thanks, we already have your request and someone will "
					    "be in touch soon.");
		break;
	}
}

void router_decide(const struct app *app, const char *text, bool known_tenant,
		   struct router_decision *out)
{
	struct keyword_match m;

	memset(out, 0, sizeof(*out));
	keyword_match(app->keywords, text, &m);
	if (m.kind == KEYWORD_MATCH_EXACT) {
		router_keyword(app, m.keyword, out);
		if (out->action == ROUTER_HELP_REQUEST && strchr(out->category, ':'))
			out->category = strchr(out->category, ':') + 1; /* "flow:branch" */
		return;
	}
	if (m.kind == KEYWORD_MATCH_TYPO) {
		out->action = ROUTER_SUGGEST;
		out->reply = xasprintf("Did you mean %s? Text %s to %s.", m.keyword->word,
				       m.keyword->word,
				       m.keyword->action == KEYWORD_OPT_OUT ? "stop these texts"
									    : "get help");
		return;
	}
	out->action = ROUTER_NONE;
	out->reply = known_tenant
		? router_text(app, NULL, "Sorry, we did not understand that. Text SKILLS for "
			      "help getting online, or STOP to stop texts from {org}.")
		: router_text(app, NULL, "Thanks for your message. This number is {org}'s digital "
			      "help service: text SKILLS if you would like help getting online.");
}

void router_decision_free(struct router_decision *d)
{
	free(d->reply);
	free(d->reply_repeat);
	memset(d, 0, sizeof(*d));
}
