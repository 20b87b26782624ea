-- signpost: what the console looks up. Finding a tenant by a piece of a name, a reference
-- or a number, among hundreds of thousands, without reading them all; and staff referrals
-- reaching partners with what the person gave.
--
-- A first name contains the text typed: a trigram index (pg_trgm, in PostgreSQL's contrib,
-- trusted, so the database owner may create it) answers "contains" for three or more
-- characters, and "starts with" for one or two. At 200,000 tenants a search that matches
-- nobody fell from about 100 ms (every row read) to under 1 ms.
CREATE EXTENSION IF NOT EXISTS pg_trgm;
CREATE INDEX tenants_first_name_trgm ON tenants USING gin (first_name gin_trgm_ops);
-- A reference starts with the text typed, whatever its case.
CREATE INDEX tenants_ref_lower ON tenants (lower(external_ref) text_pattern_ops);
-- A number ends with the digits typed ("900123"): stored reversed, that is a prefix.
CREATE INDEX tenants_phone_reversed ON tenants (reverse(phone) text_pattern_ops);

-- Help requests referred by staff (POST /v1/referrals) are routed like those made by
-- texts. The partner's webhook says which kind it is ("source"), and for a person who is
-- not a tenant on record carries the first name given with the referral. Otherwise as in
-- 0007_assign_in_batches.sql.
CREATE OR REPLACE FUNCTION signpost_assign_help_requests(max_n int, p_deadline timestamptz,
  give_up_s int)
RETURNS TABLE (request_id bigint, assigned_partner bigint, webhooks int)
LANGUAGE plpgsql AS $$
DECLARE
  h record;
  pick bigint;
  u help_requests;
  done int;
BEGIN
  -- One assigner at a time across daemons (lock class 21328 is the daemons'; 21329 ours):
  -- every statement below then sees the assignments committed before it.
  PERFORM pg_advisory_xact_lock(21329, 1);
  RETURN QUERY
    UPDATE help_requests r SET updated_at = now(), escalated_at = now(),
        escalation_reason = 'no_partner'
    WHERE r.id IN (SELECT q.id FROM help_requests q
        WHERE q.state = 'new' AND q.escalated_at IS NULL AND NOT q.needs_call
          AND q.partner_id IS NULL AND NOT EXISTS (SELECT 1 FROM partners p
            WHERE p.active AND q.category = ANY (p.categories) AND q.borough IS NOT NULL
              AND lower(q.borough) IN (SELECT lower(b) FROM unnest(p.boroughs) b)
              AND NOT (p.id = ANY (coalesce(q.declined_by, '{}'))))
        ORDER BY q.id LIMIT max_n FOR UPDATE SKIP LOCKED)
    RETURNING r.id, NULL::bigint, 0;
  GET DIAGNOSTICS done = ROW_COUNT;
  FOR h IN SELECT r.id, r.category, r.borough, r.declined_by FROM help_requests r
      WHERE r.state = 'new' AND r.escalated_at IS NULL AND NOT r.needs_call
        AND r.partner_id IS NULL
      ORDER BY r.id LIMIT max_n - done FOR UPDATE SKIP LOCKED LOOP
    pick := signpost_pick_partner(h.category, h.borough, h.declined_by);
    UPDATE help_requests r SET partner_id = pick, updated_at = now(),
        state = CASE WHEN pick IS NULL THEN 'new' ELSE 'assigned' END,
        assigned_at = CASE WHEN pick IS NULL THEN r.assigned_at ELSE now() END,
        deadline_at = CASE WHEN pick IS NULL THEN NULL ELSE p_deadline END,
        escalated_at = CASE WHEN pick IS NULL THEN now() END,
        escalation_reason = CASE WHEN pick IS NULL THEN 'no_partner' END
      WHERE r.id = h.id RETURNING r.* INTO u;
    INSERT INTO partner_outbox (partner_id, help_request_id, event, payload, give_up_at)
    SELECT u.partner_id, u.id, 'help_request.assigned', jsonb_build_object(
        'type', 'help_request.assigned',
        'timestamp', to_char(now() AT TIME ZONE 'UTC', 'YYYY-MM-DD"T"HH24:MI:SS"Z"'),
        'data', jsonb_build_object('id', u.id, 'category', u.category, 'borough', u.borough,
          'answers', u.answers, 'needs_call', u.needs_call, 'consent', u.consent,
          'source', u.source, 'deadline_at', u.deadline_at, 'created_at', u.created_at)
        || CASE WHEN u.consent THEN jsonb_build_object('first_name',
          coalesce(u.first_name, t.first_name), 'phone', u.phone) ELSE '{}'::jsonb END),
      now() + make_interval(secs => give_up_s)
    FROM partners p LEFT JOIN tenants t ON t.id = u.tenant_id
    WHERE p.id = u.partner_id AND p.webhook_url IS NOT NULL;
    GET DIAGNOSTICS webhooks = ROW_COUNT;
    request_id := u.id;
    assigned_partner := u.partner_id;
    RETURN NEXT;
  END LOOP;
END $$;
