-- signpost: previews of campaigns that are not stored. The audience rules are now a
-- function of the rules themselves (jsonb, as campaigns/audience.c normalises them), so a
-- campaign being composed can be previewed without a row, while expansion, the preview of
-- a stored campaign and the preview of an unsaved one still share one definition of who
-- is in an audience.

-- The next p_limit tenants after id p_after that match the rules, in id order, optionally
-- only those of one shard. Erased tenants and tenants without a number are never in an
-- audience. No SET clause, unlike the functions below: PostgreSQL inlines a SQL function
-- only without one, so each caller plans this query as if written in its own body.
CREATE FUNCTION signpost_audience_rules(p_audience jsonb, p_after bigint, p_limit int,
  p_shards int DEFAULT 1, p_shard int DEFAULT 0)
RETURNS TABLE (id bigint, phone text, first_name text, borough text, landlord text,
  language text, suppressed_at timestamptz, consent_at timestamptz)
LANGUAGE sql STABLE AS $$
  WITH a AS MATERIALIZED (
    SELECT p_audience ? 'all' AS everyone,
      ARRAY(SELECT jsonb_array_elements_text(coalesce(p_audience->'boroughs', '[]'))) AS boroughs,
      ARRAY(SELECT jsonb_array_elements_text(coalesce(p_audience->'landlords', '[]'))) AS landlords,
      ARRAY(SELECT jsonb_array_elements_text(coalesce(p_audience->'languages', '[]'))) AS languages,
      ARRAY(SELECT jsonb_array_elements_text(coalesce(p_audience->'tags_all', '[]'))) AS tags_all,
      ARRAY(SELECT jsonb_array_elements_text(
        coalesce(p_audience->'tags_any', p_audience->'tags', '[]'))) AS tags_any,
      ARRAY(SELECT jsonb_array_elements_text(coalesce(p_audience->'tags_none', '[]'))) AS tags_none,
      (p_audience->>'not_replied_to')::bigint AS not_replied_to
  )
  SELECT t.id, t.phone, t.first_name, t.borough, t.landlord, t.language, t.suppressed_at,
    t.consent_at FROM tenants t, a
  WHERE t.id > p_after AND t.id % p_shards = p_shard
    AND t.phone IS NOT NULL AND t.erased_at IS NULL
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

-- A stored campaign's audience, which expansion reads: the rules above with the
-- campaign's. The rules function is inlined here, so the tenants are scanned as before
-- (the campaign row is read first, then the same limited scan). JIT compilation costs
-- more than it saves on these short batches, so it is off here.
CREATE OR REPLACE FUNCTION signpost_audience(p_campaign bigint, p_after bigint, p_limit int,
  p_shards int DEFAULT 1, p_shard int DEFAULT 0)
RETURNS TABLE (id bigint, phone text, first_name text, borough text, landlord text,
  language text, suppressed_at timestamptz, consent_at timestamptz)
LANGUAGE sql STABLE SET jit = off AS $$
  SELECT r.* FROM campaigns c,
    signpost_audience_rules(c.audience, p_after, p_limit, p_shards, p_shard) r
  WHERE c.id = p_campaign
$$;

-- The audience a preview reads, from rules it is given: a stored campaign's, read when the
-- preview starts, or those of a campaign being composed. JIT off, as above.
CREATE FUNCTION signpost_audience_preview(p_audience jsonb, p_after bigint, p_limit int)
RETURNS TABLE (id bigint, phone text, first_name text, borough text, landlord text,
  language text, suppressed_at timestamptz, consent_at timestamptz)
LANGUAGE sql STABLE SET jit = off AS $$
  SELECT * FROM signpost_audience_rules(p_audience, p_after, p_limit)
$$;
