/*
 * api_help.c: help requests. Officers and admins see and filter every request; a partner
 * key sees only the requests assigned to its partner (others are 404), and tenant contact
 * details only where the tenant agreed to share them. Partners move their requests along:
 * accept, contacted, resolve (with an outcome code) or decline (it goes to the next
 * partner); each move is recorded with who made it, and GET of one request shows that
 * history. GET /v1/help-requests/report.csv gives officers a spreadsheet.
 */
#include <stdlib.h>
#include <string.h>

#include "common/csv.h"
#include "gateway/api_handlers.h"
#include "gateway/lifecycle.h"
#include "infra/log.h"

#define HELP_MAX_NOTE 2000

/* The person's first name: given with a staff referral, else the tenant's. */
#define HELP_FIRST_NAME                                                                      \
	"coalesce(h.first_name, (SELECT first_name FROM tenants WHERE id = h.tenant_id))"

/* Who made a staff referral, as history names people: an email, or "API key 7". */
#define HELP_REFERRED_BY                                                                     \
	"CASE WHEN h.referred_by_user IS NOT NULL THEN (SELECT u.email FROM users u "           \
	"WHERE u.id = h.referred_by_user) WHEN h.referred_by_key IS NOT NULL THEN "             \
	"'API key ' || h.referred_by_key END"

/* $1 partner of the key (NULL for staff): what a request looks like to that caller. */
#define HELP_JSON                                                                            \
	"(jsonb_build_object('id', h.id, 'category', h.category, 'state', h.state, "           \
	"'source', h.source, 'borough', h.borough, 'answers', h.answers, "                      \
	"'partner_id', h.partner_id, 'partner_name', (SELECT p.name FROM partners p "           \
	"WHERE p.id = h.partner_id), 'referred_by', " HELP_REFERRED_BY ", "                     \
	"'consent', h.consent, 'needs_call', h.needs_call, 'outcome', h.outcome, "              \
	"'note', h.note, 'deadline_at', h.deadline_at, 'assigned_at', h.assigned_at, "          \
	"'accepted_at', h.accepted_at, 'contacted_at', h.contacted_at, "                        \
	"'resolved_at', h.resolved_at, 'closed_at', h.closed_at, "                              \
	"'created_at', h.created_at, 'updated_at', h.updated_at) || CASE "                      \
	"WHEN $1::bigint IS NULL THEN jsonb_build_object('tenant_id', h.tenant_id, "            \
	"'phone', h.phone, 'first_name', " HELP_FIRST_NAME ", "                                 \
	"'campaign_id', h.campaign_id, 'campaign_name', (SELECT c.name FROM campaigns c "       \
	"WHERE c.id = h.campaign_id), 'inbound_message_id', h.inbound_message_id, "             \
	"'escalated_at', h.escalated_at, 'escalation_reason', h.escalation_reason, "            \
	"'declined_by', h.declined_by, 'followup_sent_at', h.followup_sent_at, "                \
	"'followup_outcome', h.followup_outcome) "                                              \
	"WHEN h.consent THEN jsonb_build_object('phone', h.phone, 'first_name', "               \
	HELP_FIRST_NAME ") ELSE '{}'::jsonb END)"

#define HELP_EVENT_JSON(at, from, to, partner, partner_name, reason, outcome, actor, note)   \
	"jsonb_build_object('at', " at ", 'from_state', " from ", 'to_state', " to ", "         \
	"'partner_id', " partner ", 'partner_name', " partner_name ", 'escalation_reason', "    \
	reason ", 'outcome', " outcome ", 'actor', " actor ", 'note', " note ")"

/*
 * Every move of request h, oldest first (help_request_events, written by a trigger), after
 * its creation. A staff referral records its creation with the referral's note; requests
 * made by texts have no such row, so theirs is made up from created_at.
 */
#define HELP_HISTORY                                                                         \
	"(SELECT jsonb_agg(e.j ORDER BY e.id) FROM ("                                           \
	"  SELECT 0::bigint AS id, " HELP_EVENT_JSON("h.created_at", "NULL", "'new'", "NULL",    \
	"NULL", "NULL", "NULL", HELP_REFERRED_BY, "NULL") " AS j "                              \
	"  WHERE NOT EXISTS (SELECT 1 FROM help_request_events c "                              \
	"    WHERE c.help_request_id = h.id AND c.from_state IS NULL) "                         \
	"  UNION ALL SELECT ev.id, " HELP_EVENT_JSON("ev.at", "ev.from_state", "ev.to_state",   \
	"ev.partner_id", "p.name", "ev.escalation_reason", "ev.outcome", "ev.actor", "ev.note") \
	"  FROM help_request_events ev LEFT JOIN partners p ON p.id = ev.partner_id "           \
	"  WHERE ev.help_request_id = h.id) e)"

/* One request, with its history, as the caller sees it. */
#define HELP_ONE_JSON "(" HELP_JSON " || jsonb_build_object('history', " HELP_HISTORY "))::text"

/*
 * $1 partner of the key, $2 before, $3 limit, $4 state, $5 category, $6 borough,
 * $7 campaign, $8 partner filter, $9 queue ("officers": waiting for an officer),
 * $10 tenant, $11 source ("sms" or "staff").
 */
#define HELP_FILTER                                                                          \
	"WHERE ($1::bigint IS NULL OR h.partner_id = $1) AND ($2::bigint IS NULL OR h.id < $2) " \
	"AND ($4::text IS NULL OR h.state = $4) AND ($5::text IS NULL OR h.category = $5) "     \
	"AND ($6::text IS NULL OR lower(h.borough) = lower($6)) "                               \
	"AND ($7::bigint IS NULL OR h.campaign_id = $7) "                                       \
	"AND ($8::bigint IS NULL OR h.partner_id = $8) "                                        \
	"AND ($10::bigint IS NULL OR h.tenant_id = $10) "                                       \
	"AND ($11::text IS NULL OR h.source = $11) "                                            \
	"AND ($9::text IS NULL OR ($9 = 'officers' AND (h.needs_call OR h.escalated_at IS NOT NULL) " \
	"  AND h.state NOT IN ('resolved', 'closed_no_contact'))) "

static const char help_list_sql[] =
	"SELECT coalesce(json_agg(" HELP_JSON " ORDER BY h.id DESC), '[]')::text "
	"FROM (SELECT * FROM help_requests h " HELP_FILTER "ORDER BY h.id DESC LIMIT $3) h";

static const char help_report_sql[] =
	"SELECT h.id, h.created_at, h.state, h.category, h.borough, p.name, h.campaign_id, "
	"h.needs_call, h.consent, h.outcome, h.assigned_at, h.accepted_at, h.contacted_at, "
	"h.resolved_at, h.closed_at, h.escalated_at, h.escalation_reason, h.followup_outcome "
	"FROM help_requests h LEFT JOIN partners p ON p.id = h.partner_id " HELP_FILTER
	"ORDER BY h.id DESC LIMIT $3";

static const char help_get_sql[] =
	"SELECT " HELP_ONE_JSON " FROM help_requests h "
	"WHERE h.id = $2 AND ($1::bigint IS NULL OR h.partner_id = $1)";

/* A request just made by the caller, wherever it was sent (POST /v1/referrals). */
static const char help_made_sql[] =
	"SELECT " HELP_ONE_JSON " FROM help_requests h WHERE h.id = $2";

/*
 * $1 partner of the key, $2 id, $3 action, $4 outcome code, $5 note, $6 who moves it
 * (the history trigger records it). Returns the state before (NULL: no such request for
 * this caller) and the request after (NULL: the move is not allowed from that state).
 */
static const char help_move_sql[] =
	"WITH h AS ("
	"  SELECT * FROM help_requests WHERE id = $2 AND ($1::bigint IS NULL OR partner_id = $1) "
	"  FOR UPDATE"
	"), upd AS ("
	"  UPDATE help_requests h SET updated_at = now(), note = coalesce($5, h.note), actor = $6, "
	"    state = CASE $3 WHEN 'accept' THEN 'accepted' WHEN 'contacted' THEN 'contacted' "
	"      WHEN 'decline' THEN 'new' WHEN 'resolve' THEN CASE WHEN $4 = 'no_contact' "
	"      THEN 'closed_no_contact' ELSE 'resolved' END END, "
	"    accepted_at = CASE WHEN $3 = 'accept' THEN now() ELSE h.accepted_at END, "
	"    contacted_at = CASE WHEN $3 = 'contacted' THEN now() ELSE h.contacted_at END, "
	"    resolved_at = CASE WHEN $3 = 'resolve' AND $4 <> 'no_contact' THEN now() "
	"      ELSE h.resolved_at END, "
	"    closed_at = CASE WHEN $3 = 'resolve' THEN now() ELSE h.closed_at END, "
	"    outcome = CASE WHEN $3 = 'resolve' THEN $4 ELSE h.outcome END, "
	"    partner_id = CASE WHEN $3 = 'decline' THEN NULL ELSE h.partner_id END, "
	"    declined_by = CASE WHEN $3 = 'decline' THEN h.declined_by || h.partner_id "
	"      ELSE h.declined_by END, "
	"    escalated_at = CASE WHEN $3 = 'decline' THEN NULL ELSE h.escalated_at END, "
	"    escalation_reason = CASE WHEN $3 = 'decline' THEN NULL ELSE h.escalation_reason END, "
	"    deadline_at = CASE WHEN $3 = 'decline' THEN NULL ELSE h.deadline_at END "
	"  FROM h h0 WHERE h.id = h0.id AND CASE $3 "
	"    WHEN 'accept' THEN h0.state = 'assigned' OR (h0.state = 'new' AND $1::bigint IS NULL) "
	"    WHEN 'contacted' THEN h0.state = 'accepted' "
	"    WHEN 'resolve' THEN h0.state IN ('accepted', 'contacted') "
	"    WHEN 'decline' THEN h0.state IN ('assigned', 'accepted') AND h0.partner_id IS NOT NULL "
	"    ELSE false END "
	"  RETURNING h.*"
	") SELECT (SELECT state FROM h), (SELECT " HELP_JSON "::text FROM upd h), "
	"(SELECT state FROM upd)";

static const char *const help_outcomes[] = { "helped", "referred_elsewhere",
					     "no_longer_needed", "no_contact", "other" };

static const char *help_partner(struct api_ctx *ctx, char buf[24])
{
	if (ctx->role != AUTH_ROLE_PARTNER)
		return NULL;
	snprintf(buf, 24, "%lld", (long long)ctx->partner_id);
	return buf;
}

static bool help_filters(struct api_ctx *ctx, const char **before, char limit[16])
{
	const char *queue = api_query(ctx, "queue"), *source = api_query(ctx, "source");
	static const char *const ids[] = { "campaign_id", "partner_id", "tenant_id" };
	int64_t v;

	if (!api_page(ctx, before, limit))
		return false;
	for (size_t i = 0; i < ARRAY_LEN(ids); i++) {
		const char *s = api_query(ctx, ids[i]);
		if (s && !str_to_i64(s, 1, INT64_MAX, &v)) {
			api_error(ctx, 422, "invalid", ids[i], "%s must be a number", ids[i]);
			return false;
		}
	}
	if (queue && strcmp(queue, "officers") != 0) {
		api_error(ctx, 422, "invalid", "queue", "queue can only be \"officers\"");
		return false;
	}
	if (source && strcmp(source, "sms") != 0 && strcmp(source, "staff") != 0) {
		api_error(ctx, 422, "invalid", "source", "source is \"sms\" (made by texts) or "
			  "\"staff\" (referred by staff)");
		return false;
	}
	/* Which tenant a request is from is tenant data a partner may not have. */
	if (ctx->role == AUTH_ROLE_PARTNER && api_query(ctx, "tenant_id")) {
		api_error(ctx, 422, "invalid", "tenant_id", "a partner cannot filter by tenant");
		return false;
	}
	return true;
}

static void help_query_list(struct api_ctx *ctx, const char *sql, db_cb *cb)
{
	const char *before;
	char limit[16], partner[24];

	if (!help_filters(ctx, &before, limit))
		return;
	const char *params[] = { help_partner(ctx, partner), before, limit,
				 api_query(ctx, "state"), api_query(ctx, "category"),
				 api_query(ctx, "borough"), api_query(ctx, "campaign_id"),
				 api_query(ctx, "partner_id"), api_query(ctx, "queue"),
				 api_query(ctx, "tenant_id"), api_query(ctx, "source") };
	api_db(ctx, sql, 11, params, cb, ctx);
}

void api_help_list(struct api_ctx *ctx)
{
	help_query_list(ctx, help_list_sql, api_items_done);
}

/* ---- the report ---- */

static void help_reported(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;
	struct sbuf csv;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	sbuf_init(&csv);
	sbuf_adds(&csv, "id,created_at,state,category,borough,partner,campaign_id,needs_call,"
		  "consent,outcome,assigned_at,accepted_at,contacted_at,resolved_at,closed_at,"
		  "escalated_at,escalation_reason,followup_outcome\r\n");
	for (int i = 0; i < db_rows(r); i++) {
		for (int c = 0; c < PQnfields(r->pg); c++) {
			if (c)
				sbuf_addc(&csv, ',');
			csv_cell(&csv, db_get(r, i, c));
		}
		sbuf_adds(&csv, "\r\n");
	}
	httpd_add_header(ctx->req, "Content-Disposition", "attachment; filename=\"help-requests.csv\"");
	api_reply(ctx, 200, "text/csv; charset=utf-8", csv.data, csv.len);
	sbuf_free(&csv);
}

void api_help_report(struct api_ctx *ctx)
{
	help_query_list(ctx, help_report_sql, help_reported);
}

/* ---- one request ---- */

static void help_got(const struct db_result *r, void *arg)
{
	api_reply_row(arg, r, 200, "help request");
}

void api_help_get(struct api_ctx *ctx)
{
	char partner[24];
	int64_t id;

	if (!api_param_id(ctx, 0, &id))
		return;
	const char *params[] = { help_partner(ctx, partner), ctx->params[0] };
	api_db(ctx, help_get_sql, 2, params, help_got, ctx);
}

static void help_made(const struct db_result *r, void *arg)
{
	api_reply_row(arg, r, 201, "help request");
}

void api_help_made(struct api_ctx *ctx, const char *id)
{
	char partner[24];
	const char *params[] = { help_partner(ctx, partner), id };

	api_db(ctx, help_made_sql, 2, params, help_made, ctx);
}

static void help_moved(const struct db_result *r, void *arg)
{
	struct api_ctx *ctx = arg;

	if (r->error) {
		api_db_error(ctx, r);
		return;
	}
	if (!db_get(r, 0, 0)) {
		api_error(ctx, 404, "not_found", NULL, "no such help request: %s", ctx->params[0]);
		return;
	}
	if (!db_get(r, 0, 1)) {
		api_error(ctx, 409, "conflict", "state", "a help request that is %s cannot take %s",
			  db_get(r, 0, 0), ctx->params[1]);
		return;
	}
	log_info("help request id=%s action=%s by=%s", ctx->params[0], ctx->params[1],
		 auth_role_str(ctx->role));
	lifecycle_log_names(LIFECYCLE_HELP_REQUEST, ctx->params[0], db_get(r, 0, 0),
			    db_get(r, 0, 2));
	api_reply(ctx, 200, "application/json", db_get(r, 0, 1), strlen(db_get(r, 0, 1)));
}

static bool help_outcome(struct api_ctx *ctx, const char *action, const char **outcome)
{
	if (!api_field_string(ctx, ctx->json, "outcome", strcmp(action, "resolve") == 0, 64,
			      outcome))
		return false;
	for (size_t i = 0; *outcome && i < ARRAY_LEN(help_outcomes); i++)
		if (strcmp(*outcome, help_outcomes[i]) == 0)
			return true;
	if (!*outcome)
		return true;
	api_error(ctx, 422, "invalid", "outcome", "outcome must be one of helped, "
		  "referred_elsewhere, no_longer_needed, no_contact, other");
	return false;
}

void api_help_move(struct api_ctx *ctx)
{
	static const char *const actions[] = { "accept", "contacted", "resolve", "decline" };
	static const char *const known[] = { "outcome", "note" };
	const char *outcome = NULL, *note = NULL, *action = ctx->params[1];
	char partner[24];
	bool ok = false;
	int64_t id;

	if (!api_param_id(ctx, 0, &id))
		return;
	for (size_t i = 0; i < ARRAY_LEN(actions); i++)
		ok = ok || strcmp(action, actions[i]) == 0;
	if (!ok) {
		api_error(ctx, 404, "not_found", NULL, "no such resource: %s", ctx->req->path);
		return;
	}
	if (!api_known_keys(ctx, ctx->json, "", known, ARRAY_LEN(known)) ||
	    !help_outcome(ctx, action, &outcome) ||
	    !api_field_string(ctx, ctx->json, "note", false, HELP_MAX_NOTE, &note))
		return;
	if (outcome && strcmp(action, "resolve") != 0) {
		api_error(ctx, 422, "invalid", "outcome", "only resolve takes an outcome");
		return;
	}
	const char *params[] = { help_partner(ctx, partner), ctx->params[0], action, outcome, note,
				 ctx->actor };
	api_db(ctx, help_move_sql, 6, params, help_moved, ctx);
}
