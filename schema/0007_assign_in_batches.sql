-- signpost: new help requests are matched to partners in batches, in one transaction and
-- one commit for up to max_n of them. The requests are taken one after another inside the
-- function, so each partner pick sees the assignments before it, and daemons take turns,
-- so capacity stays true however many daemons run.
-- Requests no active partner could ever take (category and borough) go to the officers'
-- queue in one statement first. Returns one row per request: its id, the partner (NULL:
-- to the officers' queue) and how many partner webhooks were queued.
CREATE FUNCTION signpost_assign_help_requests(max_n int, p_deadline timestamptz,
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
          'deadline_at', u.deadline_at, 'created_at', u.created_at)
        || CASE WHEN u.consent THEN jsonb_build_object('first_name', t.first_name,
          'phone', u.phone) ELSE '{}'::jsonb END),
      now() + make_interval(secs => give_up_s)
    FROM partners p LEFT JOIN tenants t ON t.id = u.tenant_id
    WHERE p.id = u.partner_id AND p.webhook_url IS NOT NULL;
    GET DIAGNOSTICS webhooks = ROW_COUNT;
    request_id := u.id;
    assigned_partner := u.partner_id;
    RETURN NEXT;
  END LOOP;
END $$;

-- Working days are counted by the daemon now, with bank holidays.
DROP FUNCTION signpost_add_working_days(timestamptz, int);
