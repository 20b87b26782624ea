-- signpost: data protection. Erasing a tenant (UK GDPR article 17) leaves nothing of them
-- in any table while every figure stays; retention (gateway/retention.c) clears what is
-- old enough in bounded batches.

-- An erased tenant's conversations keep their flow, step and times, not the number.
ALTER TABLE conversations ALTER COLUMN phone DROP NOT NULL;

-- When a campaign's texts lost their bodies to retention, so it is not read again.
ALTER TABLE campaigns ADD COLUMN bodies_cleared_at timestamptz;

-- Texts to and from a number that was nobody's when they were written are found by number
-- when its tenant is erased. Campaign texts always have a tenant, so these stay small and
-- cost expansion nothing.
CREATE INDEX messages_no_tenant_phone ON messages (to_phone) WHERE tenant_id IS NULL;
CREATE INDEX inbound_messages_no_tenant_phone ON inbound_messages (from_phone)
  WHERE tenant_id IS NULL;

-- Retention finds the oldest bodies still kept without reading every text. Campaign texts
-- are cleared by campaign (messages_campaign_tenant) instead: an index entry for each of
-- them would cost every send.
CREATE INDEX messages_other_body_kept ON messages (created_at)
  WHERE body IS NOT NULL AND kind <> 'campaign';
CREATE INDEX inbound_messages_body_kept ON inbound_messages (received_at)
  WHERE body IS NOT NULL;

-- An opted-out number outlives its tenant's erasure only as 'sha256:' and the hex SHA-256
-- of the number, which no statement matches a number against: the number is never
-- texted again, and opt-outs keep being counted, without the number being stored.
CREATE FUNCTION signpost_phone_hash(phone text) RETURNS text
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT 'sha256:' || encode(sha256(convert_to(phone, 'UTF8')), 'hex')
$$;
CREATE INDEX opt_outs_hashed ON opt_outs (phone) WHERE phone LIKE 'sha256:%';

-- A tenant who gets an opted-out number back (a re-import, a new record) gets its opt-out
-- back too, as it was. Per statement, so an import of 200,000 tenants is one join, and
-- nothing at all while no opt-out is hashed.
CREATE FUNCTION signpost_opt_out_restore() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF EXISTS (SELECT 1 FROM opt_outs WHERE phone LIKE 'sha256:%') THEN
    WITH back AS (
      DELETE FROM opt_outs o USING (SELECT DISTINCT phone FROM new_rows
                                    WHERE phone IS NOT NULL) n
      WHERE o.phone LIKE 'sha256:%' AND o.phone = signpost_phone_hash(n.phone)
      RETURNING n.phone, o.source, o.created_at)
    INSERT INTO opt_outs (phone, source, created_at) SELECT * FROM back
    ON CONFLICT DO NOTHING;
  END IF;
  RETURN NULL;
END
$$;
CREATE TRIGGER tenants_opt_out_restore_insert AFTER INSERT ON tenants
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION signpost_opt_out_restore();
CREATE TRIGGER tenants_opt_out_restore_update AFTER UPDATE ON tenants
REFERENCING NEW TABLE AS new_rows FOR EACH STATEMENT
EXECUTE FUNCTION signpost_opt_out_restore();

-- What identifies a person goes from these help requests, their history and their
-- partner webhooks; what counts (category, borough, states, times, outcome, follow-up
-- answer) stays. Returns how many requests it cleared.
CREATE FUNCTION signpost_help_requests_forget(p_ids bigint[]) RETURNS int
LANGUAGE sql AS $$
  WITH e AS (
    UPDATE help_request_events SET note = NULL
    WHERE help_request_id = ANY (p_ids) AND note IS NOT NULL
  ), o AS (
    UPDATE partner_outbox SET payload = payload #- '{data,first_name}' #- '{data,phone}'
      #- '{data,answers}'
    WHERE help_request_id = ANY (p_ids) AND payload->'data' ?| '{first_name,phone,answers}'
  ), h AS (
    UPDATE help_requests SET phone = NULL, first_name = NULL, answers = '{}', note = NULL
    WHERE id = ANY (p_ids) RETURNING 1
  ) SELECT count(*)::int FROM h
$$;

-- Erases tenant p_id: their record keeps only its id, times and counters; every text,
-- part, conversation, help request, history note and webhook with their number or their
-- words loses them; texts not yet sent are cancelled. Texts to and from their number that
-- have no tenant (written before the number was theirs) go too. Figures stay: rows are
-- kept, and an inbound text of theirs without a tenant gets 'erased:<tenant id>' for a
-- number, so that numbers counted once each still count the same. An opt-out is kept as
-- a hash (signpost_phone_hash). The row of tenant p_id as erased; none when there is no
-- such tenant. Erasing twice changes nothing more.
CREATE FUNCTION signpost_erase_tenant(p_id bigint) RETURNS SETOF tenants
LANGUAGE plpgsql AS $$
DECLARE
  ph text;
  requests bigint[];
BEGIN
  SELECT t.phone INTO ph FROM tenants t WHERE t.id = p_id FOR UPDATE;
  IF NOT FOUND THEN
    RETURN;
  END IF;
  WITH gone AS (DELETE FROM opt_outs WHERE phone = ph RETURNING source, created_at)
  INSERT INTO opt_outs (phone, source, created_at)
    SELECT signpost_phone_hash(ph), source, created_at FROM gone ON CONFLICT DO NOTHING;
  UPDATE messages SET to_phone = NULL, body = NULL, error_text = NULL,
      state = CASE WHEN state IN ('queued', 'retry') THEN 'cancelled' ELSE state END,
      updated_at = now()
    WHERE id IN (SELECT m.id FROM messages m WHERE m.tenant_id = p_id
                 UNION ALL SELECT m.id FROM messages m WHERE m.tenant_id IS NULL
                   AND m.to_phone = ph);
  UPDATE inbound_messages SET from_phone = NULL, body = NULL WHERE tenant_id = p_id;
  UPDATE inbound_messages SET from_phone = 'erased:' || p_id, body = NULL
    WHERE tenant_id IS NULL AND from_phone = ph;
  DELETE FROM inbound_parts WHERE from_phone = ph;
  UPDATE conversations SET phone = NULL, answers = '{}',
      state = CASE WHEN state = 'open' THEN 'cancelled' ELSE state END,
      closed_at = coalesce(closed_at, now())
    WHERE tenant_id = p_id OR phone = ph;
  SELECT array_agg(h.id) INTO requests FROM help_requests h
    WHERE h.tenant_id = p_id OR h.phone = ph;
  PERFORM signpost_help_requests_forget(coalesce(requests, '{}'));
  RETURN QUERY UPDATE tenants t SET external_ref = NULL, first_name = NULL, phone = NULL,
      borough = NULL, landlord = NULL, tags = '{}', language = NULL, consent_source = NULL,
      consent_at = NULL, consent_wording = NULL, erased_at = coalesce(t.erased_at, now()),
      updated_at = now()
    WHERE t.id = p_id RETURNING t.*;
END
$$;
