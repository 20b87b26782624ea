/*
 * sched.h: the scheduler. Once a second (and whenever the database signals new work) it
 * starts campaigns whose time has come, expands their audience into messages in
 * set-based batches, tells dispatch which running campaigns are inside their send window,
 * and marks campaigns completed.
 */
#ifndef SIGNPOST_SCHED_H
#define SIGNPOST_SCHED_H

#include "gateway/app.h"

struct sched *sched_new(struct app *app);
void sched_free(struct sched *s);
/* Look for work now rather than at the next tick. */
void sched_poke(struct sched *s);
void sched_stop(struct sched *s);
/* No query of the scheduler's in flight. */
bool sched_idle(const struct sched *s);

/*
 * SQL shared by expansion and preview, so a preview counts exactly the tenants expansion
 * will queue. SCHED_AUDIENCE_RULES(id) selects, as one row, campaign id's audience rules
 * (campaigns/audience.h); SCHED_AUDIENCE_MATCH is true when tenant row t matches rules
 * row a. Erased tenants and tenants without a number are never in an audience.
 */
#define SCHED_AUDIENCE_LIST(key) \
	"ARRAY(SELECT jsonb_array_elements_text(coalesce(" key ", '[]')))"
#define SCHED_AUDIENCE_RULES(id)                                                              \
	"SELECT c.id, c.purpose, c.audience ? 'all' AS everyone, "                                \
	SCHED_AUDIENCE_LIST("c.audience->'boroughs'") " AS boroughs, "                           \
	SCHED_AUDIENCE_LIST("c.audience->'landlords'") " AS landlords, "                         \
	SCHED_AUDIENCE_LIST("c.audience->'languages'") " AS languages, "                         \
	SCHED_AUDIENCE_LIST("c.audience->'tags_all'") " AS tags_all, "                           \
	SCHED_AUDIENCE_LIST("coalesce(c.audience->'tags_any', c.audience->'tags')") " AS tags_any, " \
	SCHED_AUDIENCE_LIST("c.audience->'tags_none'") " AS tags_none, "                         \
	"(c.audience->>'not_replied_to')::bigint AS not_replied_to FROM campaigns c WHERE c.id = " id
#define SCHED_AUDIENCE_MATCH                                                                  \
	"t.phone IS NOT NULL AND t.erased_at IS NULL AND (a.everyone OR ("                        \
	"(cardinality(a.boroughs) = 0 OR lower(t.borough) = ANY (a.boroughs)) "                   \
	"AND (cardinality(a.landlords) = 0 OR lower(t.landlord) = ANY (a.landlords)) "            \
	"AND t.tags @> a.tags_all AND (cardinality(a.tags_any) = 0 OR t.tags && a.tags_any))) "    \
	"AND (cardinality(a.languages) = 0 OR lower(t.language) = ANY (a.languages)) "            \
	"AND NOT (t.tags && a.tags_none) AND (a.not_replied_to IS NULL OR NOT EXISTS ("            \
	"SELECT 1 FROM inbound_messages i WHERE i.campaign_id = a.not_replied_to "                \
	"AND i.tenant_id = t.id))"

#endif
