-- signpost: campaigns officers can trust: consent, languages, suppression, erasure,
-- per-campaign provider choice, rate, encoding and purpose.

ALTER TABLE campaigns
  ADD COLUMN fallback_provider text,
  ADD COLUMN rate_per_minute int CHECK (rate_per_minute IS NULL OR rate_per_minute > 0),
  ADD COLUMN smart_encoding bool NOT NULL DEFAULT true,
  ADD COLUMN purpose text NOT NULL DEFAULT 'service' CHECK (purpose IN ('service', 'marketing')),
  ADD COLUMN bodies jsonb NOT NULL DEFAULT '{}',
  ADD COLUMN paused_at timestamptz,
  ADD COLUMN cancelled_at timestamptz;

ALTER TABLE tenants
  ADD COLUMN language text,
  ADD COLUMN consent_source text,
  ADD COLUMN consent_at timestamptz,
  ADD COLUMN consent_wording text,
  ADD COLUMN suppressed_at timestamptz,
  ADD COLUMN perm_fail_streak int NOT NULL DEFAULT 0,
  ADD COLUMN erased_at timestamptz;

CREATE INDEX tenants_suppressed ON tenants (suppressed_at) WHERE suppressed_at IS NOT NULL;
-- "Has not replied to campaign X" and per-campaign reply counts.
CREATE INDEX inbound_messages_campaign ON inbound_messages (campaign_id, tenant_id)
  WHERE campaign_id IS NOT NULL;
CREATE INDEX help_requests_campaign ON help_requests (campaign_id) WHERE campaign_id IS NOT NULL;

-- Three permanent failures in a row suppress a tenant until an officer clears it; a
-- delivery resets the streak. A trigger, so it holds whichever path (send result or
-- delivery receipt) moves the message.
CREATE FUNCTION signpost_fail_streak() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.state = 'delivered' THEN
    UPDATE tenants SET perm_fail_streak = 0
    WHERE id = NEW.tenant_id AND perm_fail_streak <> 0;
  ELSE
    UPDATE tenants SET perm_fail_streak = perm_fail_streak + 1,
      suppressed_at = CASE WHEN perm_fail_streak + 1 >= 3
        THEN coalesce(suppressed_at, now()) ELSE suppressed_at END
    WHERE id = NEW.tenant_id;
  END IF;
  RETURN NULL;
END
$$;

CREATE TRIGGER messages_fail_streak AFTER UPDATE OF state ON messages
FOR EACH ROW
WHEN (NEW.kind = 'campaign' AND NEW.tenant_id IS NOT NULL
      AND NEW.state IS DISTINCT FROM OLD.state
      AND NEW.state IN ('failed', 'rejected', 'delivered'))
EXECUTE FUNCTION signpost_fail_streak();

-- A campaign's audience (campaigns/audience.h): the next p_limit tenants after id
-- p_after that match its rules, in id order. Expansion and preview both read it, so a
-- preview counts exactly the tenants expansion queues. Erased tenants and tenants
-- without a number are never in an audience. JIT compilation costs more than it saves
-- on these short batches, so it is off here.
CREATE FUNCTION signpost_audience(p_campaign bigint, p_after bigint, p_limit int)
RETURNS TABLE (id bigint, phone text, first_name text, borough text, landlord text,
  language text, suppressed_at timestamptz, consent_at timestamptz)
LANGUAGE sql STABLE SET jit = off AS $$
  WITH a AS MATERIALIZED (
    SELECT c.audience ? 'all' AS everyone,
      ARRAY(SELECT jsonb_array_elements_text(coalesce(c.audience->'boroughs', '[]'))) AS boroughs,
      ARRAY(SELECT jsonb_array_elements_text(coalesce(c.audience->'landlords', '[]'))) AS landlords,
      ARRAY(SELECT jsonb_array_elements_text(coalesce(c.audience->'languages', '[]'))) AS languages,
      ARRAY(SELECT jsonb_array_elements_text(coalesce(c.audience->'tags_all', '[]'))) AS tags_all,
      ARRAY(SELECT jsonb_array_elements_text(
        coalesce(c.audience->'tags_any', c.audience->'tags', '[]'))) AS tags_any,
      ARRAY(SELECT jsonb_array_elements_text(coalesce(c.audience->'tags_none', '[]'))) AS tags_none,
      (c.audience->>'not_replied_to')::bigint AS not_replied_to
    FROM campaigns c WHERE c.id = p_campaign
  )
  SELECT t.id, t.phone, t.first_name, t.borough, t.landlord, t.language, t.suppressed_at,
    t.consent_at FROM tenants t, a
  WHERE t.id > p_after AND t.phone IS NOT NULL AND t.erased_at IS NULL
    AND (a.everyone OR (
      (cardinality(a.boroughs) = 0 OR lower(t.borough) = ANY (a.boroughs))
      AND (cardinality(a.landlords) = 0 OR lower(t.landlord) = ANY (a.landlords))
      AND t.tags @> a.tags_all
      AND (cardinality(a.tags_any) = 0 OR t.tags && a.tags_any)))
    AND (cardinality(a.languages) = 0 OR lower(t.language) = ANY (a.languages))
    AND NOT (t.tags && a.tags_none)
    AND (a.not_replied_to IS NULL OR NOT EXISTS (
      SELECT 1 FROM inbound_messages i
      WHERE i.campaign_id = a.not_replied_to AND i.tenant_id = t.id))
  ORDER BY t.id LIMIT p_limit
$$;
