-- Parts of concatenated inbound texts that a provider delivers one webhook per part
-- (Vonage). Parts are kept here until the last one arrives; the text is then routed once,
-- in part order, under the id of its first part. A series is the parts that share
-- provider, sender, recipient, concat reference and total while it is open
-- (series_key NULL); completing it stamps every part with the series key, so a
-- reference the sender's phone reuses later starts a new series.

CREATE TABLE inbound_parts (
  provider text NOT NULL,
  provider_msg_id text NOT NULL,
  from_phone text NOT NULL,
  to_phone text NOT NULL,
  concat_ref text NOT NULL,
  total int NOT NULL CHECK (total BETWEEN 2 AND 255),
  part int NOT NULL CHECK (part BETWEEN 1 AND total),
  body text NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  series_key text,
  PRIMARY KEY (provider, provider_msg_id)
);

CREATE INDEX inbound_parts_open ON inbound_parts (provider, from_phone, to_phone, concat_ref, total)
  WHERE series_key IS NULL;
CREATE INDEX inbound_parts_series ON inbound_parts (provider, series_key) WHERE series_key IS NOT NULL;
CREATE INDEX inbound_parts_received ON inbound_parts (received_at);

-- Stores one part. Returns one row (message id, whole text) when this part completes its
-- series, or when it repeats a part of a series already complete (so a provider retrying
-- after a crash gets the text routed; routing is idempotent by message id); no row
-- otherwise. Parts are serialised per series by an advisory lock, so two last parts
-- arriving together cannot both miss each other. Parts older than two days are dropped.
CREATE FUNCTION signpost_inbound_part(p_provider text, p_msg_id text, p_from text, p_to text,
    p_ref text, p_total int, p_part int, p_body text)
RETURNS TABLE (message_id text, body text)
LANGUAGE plpgsql AS $$
DECLARE
  k text;
  n int;
BEGIN
  PERFORM pg_advisory_xact_lock(hashtextextended(
    'inbound_parts ' || p_provider || ' ' || p_from || ' ' || p_to || ' ' || p_ref, 0));
  DELETE FROM inbound_parts p WHERE p.received_at < now() - interval '2 days';
  INSERT INTO inbound_parts (provider, provider_msg_id, from_phone, to_phone, concat_ref,
      total, part, body)
    VALUES (p_provider, p_msg_id, p_from, p_to, p_ref, p_total, p_part, p_body)
    ON CONFLICT DO NOTHING;
  GET DIAGNOSTICS n = ROW_COUNT;
  IF n = 0 THEN
    SELECT p.series_key INTO k FROM inbound_parts p
      WHERE p.provider = p_provider AND p.provider_msg_id = p_msg_id;
  ELSE
    SELECT count(DISTINCT p.part) INTO n FROM inbound_parts p
      WHERE p.provider = p_provider AND p.from_phone = p_from AND p.to_phone = p_to
        AND p.concat_ref = p_ref AND p.total = p_total AND p.series_key IS NULL;
    IF n = p_total THEN
      SELECT p.provider_msg_id INTO k FROM inbound_parts p
        WHERE p.provider = p_provider AND p.from_phone = p_from AND p.to_phone = p_to
          AND p.concat_ref = p_ref AND p.total = p_total AND p.series_key IS NULL
          AND p.part = 1
        ORDER BY p.received_at, p.provider_msg_id LIMIT 1;
      UPDATE inbound_parts p SET series_key = k
        WHERE p.provider = p_provider AND p.from_phone = p_from AND p.to_phone = p_to
          AND p.concat_ref = p_ref AND p.total = p_total AND p.series_key IS NULL;
    END IF;
  END IF;
  IF k IS NULL THEN
    RETURN;
  END IF;
  RETURN QUERY
    SELECT k, string_agg(s.body, '' ORDER BY s.part)
    FROM (SELECT DISTINCT ON (p.part) p.part, p.body FROM inbound_parts p
          WHERE p.provider = p_provider AND p.series_key = k
          ORDER BY p.part, p.received_at, p.provider_msg_id) s;
END;
$$;
