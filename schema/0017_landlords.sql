-- signpost: a consortium of landlords. Landlords become records; every tenant belongs to
-- exactly one; officers (API keys and console users) may be bound to one. The rows of a
-- tenant's data carry the tenant's landlord_id, copied when the row is written, and
-- row-level security keeps a bound officer's statements to that landlord's rows: the
-- daemon sets signpost.landlord for the statements of a bound officer's request (see
-- infra/db.c, db_query_scoped), and every other statement runs with it empty, unscoped.

CREATE TABLE landlords (
  id bigserial PRIMARY KEY,
  code text NOT NULL UNIQUE CHECK (code ~ '^[A-Z0-9][A-Z0-9-]{0,15}$'),
  name text NOT NULL,
  -- Texts to this landlord's tenants go from this sender and through this provider.
  sender_id text,
  provider text,
  -- The privacy notice in force: a tenant's consent to share is recorded with it.
  privacy_notice_version text,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE UNIQUE INDEX landlords_name ON landlords (lower(name));

-- The landlord whose data the current statement may see, or NULL: everything.
CREATE FUNCTION signpost_scope() RETURNS bigint
LANGUAGE sql STABLE PARALLEL SAFE AS $$
  SELECT nullif(current_setting('signpost.landlord', true), '')::bigint
$$;

-- A code made from a free-text name: "Town & Country Housing" -> "TOWNCOUNTRYHOUSIN".
CREATE FUNCTION signpost_landlord_code(p_name text) RETURNS text
LANGUAGE sql IMMUTABLE AS $$
  SELECT left(coalesce(nullif(upper(regexp_replace(p_name, '[^A-Za-z0-9]+', '', 'g')), ''),
    'LANDLORD'), 12)
$$;

-- The landlord named by its code or, failing that, its name (any case), or NULL.
CREATE FUNCTION signpost_landlord_named(p_text text) RETURNS bigint
LANGUAGE sql STABLE AS $$
  SELECT id FROM landlords WHERE code = upper(btrim(p_text)) OR lower(name) = lower(btrim(p_text))
  ORDER BY code = upper(btrim(p_text)) DESC LIMIT 1
$$;

-- The numbers and references, of those given, that belong to tenants of a landlord other
-- than p_scope (NULL: none asked). It looks past the caller's scope, for this query alone,
-- to refuse a bound officer's import rows that would take over another landlord's tenant,
-- and tells only that. (A SET clause would do it more simply, but only a superuser may put
-- a custom setting in one.)
CREATE FUNCTION signpost_held_elsewhere(p_phones text[], p_refs text[], p_scope bigint)
RETURNS TABLE (phone text, external_ref text)
LANGUAGE plpgsql AS $$
BEGIN
  IF p_scope IS NULL THEN
    RETURN;
  END IF;
  PERFORM set_config('signpost.landlord', '', true);
  RETURN QUERY SELECT t.phone, t.external_ref FROM tenants t
    WHERE t.landlord_id <> p_scope AND (t.phone = ANY (p_phones) OR t.external_ref = ANY (p_refs));
  PERFORM set_config('signpost.landlord', p_scope::text, true);
END
$$;

-- The landlord a bulk load (SQL, COPY) names by code or by name, made when missing; a
-- tenant written without one belongs to the statement's landlord, or to UNASSIGNED.
-- The API resolves codes itself and refuses unknown ones.
CREATE FUNCTION signpost_landlord_for(p_text text) RETURNS bigint
LANGUAGE plpgsql AS $$
DECLARE
  v_id bigint;
  v_name text := coalesce(nullif(btrim(p_text), ''), 'Unassigned');
  v_code text;
BEGIN
  IF nullif(btrim(p_text), '') IS NULL AND signpost_scope() IS NOT NULL THEN
    RETURN signpost_scope();
  END IF;
  SELECT id INTO v_id FROM landlords WHERE code = upper(v_name) OR lower(name) = lower(v_name)
    ORDER BY code = upper(v_name) DESC LIMIT 1;
  IF v_id IS NOT NULL THEN
    RETURN v_id;
  END IF;
  v_code := CASE WHEN v_name = 'Unassigned' THEN 'UNASSIGNED' ELSE signpost_landlord_code(v_name) END;
  WHILE EXISTS (SELECT 1 FROM landlords WHERE code = v_code) LOOP
    v_code := left(v_code, 12) || '-' || (floor(random() * 900) + 100)::int;
  END LOOP;
  INSERT INTO landlords (code, name) VALUES (v_code, v_name)
    ON CONFLICT DO NOTHING RETURNING id INTO v_id;
  IF v_id IS NULL THEN
    SELECT id INTO v_id FROM landlords WHERE lower(name) = lower(v_name);
  END IF;
  RETURN v_id;
END
$$;

-- The landlords named so far, one record per name (whatever its case).
INSERT INTO landlords (code, name)
SELECT signpost_landlord_code(name) ||
    CASE WHEN count(*) OVER (PARTITION BY signpost_landlord_code(name)) > 1
      THEN '-' || row_number() OVER (PARTITION BY signpost_landlord_code(name) ORDER BY name)
      ELSE '' END,
  name
FROM (SELECT DISTINCT ON (lower(btrim(landlord))) btrim(landlord) AS name
      FROM tenants WHERE nullif(btrim(landlord), '') IS NOT NULL
      ORDER BY lower(btrim(landlord)), landlord) n;

ALTER TABLE tenants ADD COLUMN landlord_id bigint REFERENCES landlords (id),
  ADD COLUMN consent_notice_version text;
UPDATE tenants t SET landlord_id = l.id FROM landlords l
  WHERE lower(btrim(t.landlord)) = lower(l.name);
UPDATE tenants SET landlord_id = signpost_landlord_for(NULL) WHERE landlord_id IS NULL;
UPDATE tenants t SET landlord = l.name FROM landlords l
  WHERE l.id = t.landlord_id AND t.landlord IS DISTINCT FROM l.name AND t.erased_at IS NULL;
ALTER TABLE tenants ALTER COLUMN landlord_id SET NOT NULL,
  ALTER COLUMN landlord_id SET DEFAULT signpost_scope();
CREATE INDEX tenants_landlord ON tenants (landlord_id, id);

-- tenants.landlord stays the landlord's name, kept here, for the audience rules and the
-- reports that group by it; consent is recorded with the landlord's notice in force.
CREATE FUNCTION signpost_tenant_landlord() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.landlord_id IS NULL THEN
    NEW.landlord_id := signpost_landlord_for(NEW.landlord);
  END IF;
  IF TG_OP = 'INSERT' OR NEW.landlord_id IS DISTINCT FROM OLD.landlord_id THEN
    SELECT name INTO NEW.landlord FROM landlords WHERE id = NEW.landlord_id;
  END IF;
  IF NEW.consent_at IS NOT NULL AND (TG_OP = 'INSERT' OR NEW.consent_at IS DISTINCT FROM
      OLD.consent_at OR NEW.landlord_id IS DISTINCT FROM OLD.landlord_id) THEN
    SELECT privacy_notice_version INTO NEW.consent_notice_version FROM landlords
      WHERE id = NEW.landlord_id;
  ELSIF NEW.consent_at IS NULL THEN
    NEW.consent_notice_version := NULL;
  END IF;
  RETURN NEW;
END
$$;
CREATE TRIGGER tenants_landlord BEFORE INSERT OR UPDATE OF landlord_id, consent_at ON tenants
FOR EACH ROW EXECUTE FUNCTION signpost_tenant_landlord();

-- Officers bound to a landlord.
ALTER TABLE api_keys ADD COLUMN landlord_id bigint REFERENCES landlords (id),
  ADD CHECK (landlord_id IS NULL OR role = 'officer');
ALTER TABLE users ADD COLUMN landlord_id bigint REFERENCES landlords (id),
  ADD CHECK (landlord_id IS NULL OR role = 'officer');

-- A campaign belongs to a landlord, or with NULL to the consortium.
ALTER TABLE campaigns ADD COLUMN landlord_id bigint REFERENCES landlords (id)
  DEFAULT signpost_scope();

-- Rows about a tenant carry the tenant's landlord. The busy writers (campaign expansion,
-- inbound texts) set it in their statements; the trigger covers the rest.
ALTER TABLE messages ADD COLUMN landlord_id bigint;
ALTER TABLE inbound_messages ADD COLUMN landlord_id bigint;
ALTER TABLE conversations ADD COLUMN landlord_id bigint;
ALTER TABLE help_requests ADD COLUMN landlord_id bigint;

UPDATE messages m SET landlord_id = t.landlord_id FROM tenants t WHERE t.id = m.tenant_id;
UPDATE messages m SET landlord_id = c.landlord_id FROM campaigns c
  WHERE m.tenant_id IS NULL AND c.id = m.campaign_id;
UPDATE inbound_messages m SET landlord_id = t.landlord_id FROM tenants t WHERE t.id = m.tenant_id;
UPDATE conversations m SET landlord_id = t.landlord_id FROM tenants t WHERE t.id = m.tenant_id;
UPDATE help_requests m SET landlord_id = t.landlord_id FROM tenants t WHERE t.id = m.tenant_id;

-- A help request's history carries its landlord, written with each move (a policy that
-- looked the request up could not see one made by the same statement).
ALTER TABLE help_request_events ADD COLUMN landlord_id bigint;
UPDATE help_request_events e SET landlord_id = h.landlord_id FROM help_requests h
  WHERE h.id = e.help_request_id;
CREATE OR REPLACE FUNCTION signpost_help_request_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO help_request_events (help_request_id, from_state, to_state, partner_id,
      escalation_reason, outcome, actor, note, landlord_id)
    VALUES (NEW.id, OLD.state, NEW.state, NEW.partner_id,
      CASE WHEN NEW.escalated_at IS NOT NULL AND OLD.escalated_at IS NULL
        THEN NEW.escalation_reason END,
      CASE WHEN NEW.outcome IS DISTINCT FROM OLD.outcome THEN NEW.outcome END,
      NEW.actor, CASE WHEN NEW.note IS DISTINCT FROM OLD.note THEN NEW.note END,
      NEW.landlord_id);
  NEW.actor := NULL;
  RETURN NEW;
END
$$;

-- The tenant's landlord; without a tenant, the landlord of the officer writing the row.
CREATE FUNCTION signpost_row_landlord() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NEW.tenant_id IS NOT NULL THEN
    SELECT landlord_id INTO NEW.landlord_id FROM tenants WHERE id = NEW.tenant_id;
  END IF;
  NEW.landlord_id := coalesce(NEW.landlord_id, signpost_scope());
  RETURN NEW;
END
$$;
CREATE TRIGGER messages_landlord BEFORE INSERT ON messages FOR EACH ROW
  WHEN (NEW.landlord_id IS NULL AND (NEW.tenant_id IS NOT NULL OR signpost_scope() IS NOT NULL))
  EXECUTE FUNCTION signpost_row_landlord();
CREATE TRIGGER inbound_messages_landlord BEFORE INSERT OR UPDATE OF tenant_id
  ON inbound_messages FOR EACH ROW WHEN (NEW.landlord_id IS NULL AND NEW.tenant_id IS NOT NULL)
  EXECUTE FUNCTION signpost_row_landlord();
CREATE TRIGGER conversations_landlord BEFORE INSERT OR UPDATE OF tenant_id ON conversations
  FOR EACH ROW WHEN (NEW.landlord_id IS NULL AND (NEW.tenant_id IS NOT NULL
    OR signpost_scope() IS NOT NULL)) EXECUTE FUNCTION signpost_row_landlord();
CREATE TRIGGER help_requests_landlord BEFORE INSERT OR UPDATE OF tenant_id ON help_requests
  FOR EACH ROW WHEN (NEW.landlord_id IS NULL AND (NEW.tenant_id IS NOT NULL
    OR signpost_scope() IS NOT NULL)) EXECUTE FUNCTION signpost_row_landlord();

-- The scope: unscoped statements see every row, scoped ones their landlord's. FORCE, so
-- the daemon's own role, which owns the tables, is held to it too.
CREATE POLICY scope ON tenants USING (signpost_scope() IS NULL OR landlord_id = signpost_scope());
CREATE POLICY scope ON campaigns USING (signpost_scope() IS NULL OR landlord_id = signpost_scope());
CREATE POLICY scope ON messages USING (signpost_scope() IS NULL OR landlord_id = signpost_scope());
CREATE POLICY scope ON inbound_messages
  USING (signpost_scope() IS NULL OR landlord_id = signpost_scope());
CREATE POLICY scope ON conversations
  USING (signpost_scope() IS NULL OR landlord_id = signpost_scope());
CREATE POLICY scope ON help_requests
  USING (signpost_scope() IS NULL OR landlord_id = signpost_scope());
CREATE POLICY scope ON help_request_events
  USING (signpost_scope() IS NULL OR landlord_id = signpost_scope());
ALTER TABLE tenants ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE campaigns ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE messages ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE inbound_messages ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE conversations ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE help_requests ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;
ALTER TABLE help_request_events ENABLE ROW LEVEL SECURITY, FORCE ROW LEVEL SECURITY;

-- The audience rules give each tenant's landlord, and a campaign of one landlord reaches
-- only that landlord's tenants (the rules' internal "_landlord", added from the campaign).
DROP FUNCTION signpost_audience_preview(jsonb, bigint, int);
DROP FUNCTION signpost_audience(bigint, bigint, int, int, int);
DROP FUNCTION signpost_audience_rules(jsonb, bigint, int, int, int);

CREATE FUNCTION signpost_audience_rules(p_audience jsonb, p_after bigint, p_limit int,
  p_shards int DEFAULT 1, p_shard int DEFAULT 0)
RETURNS TABLE (id bigint, phone text, first_name text, borough text, landlord text,
  language text, suppressed_at timestamptz, consent_at timestamptz, landlord_id bigint)
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
      (p_audience->>'not_replied_to')::bigint AS not_replied_to,
      (p_audience->>'_landlord')::bigint AS only_landlord
  )
  SELECT t.id, t.phone, t.first_name, t.borough, t.landlord, t.language, t.suppressed_at,
    t.consent_at, t.landlord_id FROM tenants t, a
  WHERE t.id > p_after AND t.id % p_shards = p_shard
    AND t.phone IS NOT NULL AND t.erased_at IS NULL
    AND (a.only_landlord IS NULL OR t.landlord_id = a.only_landlord)
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

CREATE FUNCTION signpost_audience(p_campaign bigint, p_after bigint, p_limit int,
  p_shards int DEFAULT 1, p_shard int DEFAULT 0)
RETURNS TABLE (id bigint, phone text, first_name text, borough text, landlord text,
  language text, suppressed_at timestamptz, consent_at timestamptz, landlord_id bigint)
LANGUAGE sql STABLE SET jit = off AS $$
  SELECT r.* FROM campaigns c,
    signpost_audience_rules(c.audience || CASE WHEN c.landlord_id IS NULL THEN '{}'::jsonb
      ELSE jsonb_build_object('_landlord', c.landlord_id) END,
      p_after, p_limit, p_shards, p_shard) r
  WHERE c.id = p_campaign
$$;

CREATE FUNCTION signpost_audience_preview(p_audience jsonb, p_after bigint, p_limit int)
RETURNS TABLE (id bigint, phone text, first_name text, borough text, landlord text,
  language text, suppressed_at timestamptz, consent_at timestamptz, landlord_id bigint)
LANGUAGE sql STABLE SET jit = off AS $$
  SELECT * FROM signpost_audience_rules(p_audience, p_after, p_limit)
$$;

-- A user as the API shows it, now with the landlord an officer is bound to.
CREATE OR REPLACE FUNCTION signpost_user_json(u users) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', u.id, 'email', u.email, 'name', u.name, 'role', u.role,
    'partner_id', u.partner_id,
    'partner_name', (SELECT p.name FROM partners p WHERE p.id = u.partner_id),
    'landlord_id', u.landlord_id,
    'landlord_code', (SELECT l.code FROM landlords l WHERE l.id = u.landlord_id),
    'active', u.active, 'has_password', u.password_hash IS NOT NULL,
    'invite_expires_at', (SELECT max(i.expires_at) FROM user_invites i
      WHERE i.user_id = u.id AND i.used_at IS NULL AND i.expires_at > now()),
    'created_at', u.created_at, 'updated_at', u.updated_at,
    'deactivated_at', u.deactivated_at, 'last_sign_in_at', u.last_sign_in_at)
$$;
