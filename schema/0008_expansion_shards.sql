-- signpost: campaign expansion in shards. Tenants are split by id modulo the number of
-- shards; each shard has its own cursor and runs its batches on its own connection, so a
-- large audience is expanded by several PostgreSQL backends at once. Each batch moves its
-- shard's cursor in the same transaction as its inserts, so a batch is never done twice.
CREATE TABLE campaign_expansion (
  campaign_id bigint NOT NULL REFERENCES campaigns (id) ON DELETE CASCADE,
  shard int NOT NULL,
  cursor bigint NOT NULL DEFAULT 0,
  done boolean NOT NULL DEFAULT false,
  PRIMARY KEY (campaign_id, shard)
);
-- The single cursor it replaces.
ALTER TABLE campaigns DROP COLUMN expand_cursor;

-- The audience as before, optionally only the tenants of one shard.
DROP FUNCTION signpost_audience(bigint, bigint, int);
CREATE FUNCTION signpost_audience(p_campaign bigint, p_after bigint, p_limit int,
  p_shards int DEFAULT 1, p_shard int DEFAULT 0)
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
