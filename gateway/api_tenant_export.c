/*
 * api_tenant_export.c: GET /v1/tenants/{id}/export, a tenant's subject access request:
 * everything signpost holds about them, as one JSON document. Like every officer's
 * statement it runs in the officer's landlord scope, so a bound officer exports only its
 * own landlord's tenants (another's is 404).
 */
#include "gateway/api_handlers.h"
#include "gateway/tenant.h"

/* Rows of table alias x (a subquery) as a JSON array, oldest first by column at. */
#define EXPORT_ROWS(sql, at) "(SELECT coalesce(json_agg(x ORDER BY x." at ", x.id), '[]') FROM (" sql ") x)"

static const char export_sql[] =
	"SELECT json_build_object('exported_at', now(), "
	"'tenant', (" TENANT_JSON ")::json, "
	"'landlord', (SELECT json_build_object('code', l.code, 'name', l.name, "
	"  'privacy_notice_version', l.privacy_notice_version) FROM landlords l "
	"  WHERE l.id = t.landlord_id), "
	"'opt_out', (SELECT json_build_object('source', o.source, 'at', o.created_at) "
	"  FROM opt_outs o WHERE o.phone = t.phone), "
	"'texts_sent', " EXPORT_ROWS("SELECT m.id, m.created_at, m.kind, m.campaign_id, m.to_phone, "
	"  m.body, m.state, m.submitted_at, m.final_at FROM messages m WHERE m.tenant_id = t.id",
				      "created_at") ", "
	"'texts_received', " EXPORT_ROWS("SELECT i.id, i.received_at, i.from_phone, i.body, "
	"  i.action, i.keyword, i.campaign_id FROM inbound_messages i WHERE i.tenant_id = t.id",
					  "received_at") ", "
	"'conversations', " EXPORT_ROWS("SELECT c.id, c.created_at, c.flow, c.step, c.answers, "
	"  c.state, c.closed_at FROM conversations c WHERE c.tenant_id = t.id", "created_at") ", "
	"'help_requests', " EXPORT_ROWS("SELECT h.id, h.created_at, h.category, h.state, h.borough, "
	"  h.answers, h.consent, h.outcome, h.note, h.followup_outcome, (SELECT p.name FROM "
	"  partners p WHERE p.id = h.partner_id) AS partner, (SELECT coalesce(json_agg(json_build_"
	"object('at', e.at, 'from_state', e.from_state, 'to_state', e.to_state, 'note', e.note) "
	"  ORDER BY e.id), '[]') FROM help_request_events e WHERE e.help_request_id = h.id) "
	"  AS history FROM help_requests h WHERE h.tenant_id = t.id", "created_at") ")::text "
	"FROM tenants t WHERE t.id = $1";

void api_tenant_export(struct api_ctx *ctx)
{
	api_get_by_id(ctx, export_sql, "tenant");
}
