-- signpost: people in a browser. Console users sign in with an email and a password and
-- hold a server-side session; API keys stay for machines. Help requests can be made by
-- staff ("Refer someone") as well as by texts, and every move of a request is recorded.

CREATE TABLE users (
  id bigserial PRIMARY KEY,
  email text NOT NULL,
  name text,
  role text NOT NULL CHECK (role IN ('admin', 'officer', 'partner')),
  partner_id bigint REFERENCES partners (id),
  -- scrypt, as "$scrypt$ln=15,r=8,p=1$<salt>$<hash>"; NULL until an invitation is taken up.
  password_hash text,
  active boolean NOT NULL DEFAULT true,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  deactivated_at timestamptz,
  last_sign_in_at timestamptz,
  CHECK ((role = 'partner') = (partner_id IS NOT NULL)),
  CHECK (email = lower(email))
);
CREATE UNIQUE INDEX users_email ON users (email);

-- One-time links to set a password; only the SHA-256 of the token is kept.
CREATE TABLE user_invites (
  token_hash text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  expires_at timestamptz NOT NULL,
  used_at timestamptz,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX user_invites_user ON user_invites (user_id);

-- A signed-in browser: the cookie holds a random token, the row its SHA-256, so a copy of
-- the table opens no session. Shared by every daemon; idle ones expire.
CREATE TABLE sessions (
  token_hash text PRIMARY KEY,
  user_id bigint NOT NULL REFERENCES users (id),
  csrf_token text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  last_seen_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz NOT NULL
);
CREATE INDEX sessions_user ON sessions (user_id);
CREATE INDEX sessions_expires ON sessions (expires_at);

-- Failed sign-ins by email (whether or not it belongs to a user), for throttling.
CREATE TABLE sign_in_failures (
  email text NOT NULL,
  at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX sign_in_failures_email ON sign_in_failures (email, at);

ALTER TABLE help_requests
  ADD COLUMN source text NOT NULL DEFAULT 'sms' CHECK (source IN ('sms', 'staff')),
  ADD COLUMN first_name text,
  ADD COLUMN referred_by_user bigint REFERENCES users (id),
  ADD COLUMN referred_by_key bigint REFERENCES api_keys (id),
  -- Who makes the change being written (an email, or "API key 7"); the trigger below
  -- moves it into the request's history, so it is NULL at rest.
  ADD COLUMN actor text;

-- Each move of a help request: state, partner or escalation, with who made it (NULL:
-- signpost itself) and the note given with it.
CREATE TABLE help_request_events (
  id bigserial PRIMARY KEY,
  help_request_id bigint NOT NULL REFERENCES help_requests (id),
  at timestamptz NOT NULL DEFAULT now(),
  from_state text,
  to_state text NOT NULL,
  partner_id bigint,
  escalation_reason text,
  outcome text,
  actor text,
  note text
);
CREATE INDEX help_request_events_request ON help_request_events (help_request_id, id);

CREATE FUNCTION signpost_help_request_event() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  INSERT INTO help_request_events (help_request_id, from_state, to_state, partner_id,
      escalation_reason, outcome, actor, note)
    VALUES (NEW.id, OLD.state, NEW.state, NEW.partner_id,
      CASE WHEN NEW.escalated_at IS NOT NULL AND OLD.escalated_at IS NULL
        THEN NEW.escalation_reason END,
      CASE WHEN NEW.outcome IS DISTINCT FROM OLD.outcome THEN NEW.outcome END,
      NEW.actor, CASE WHEN NEW.note IS DISTINCT FROM OLD.note THEN NEW.note END);
  NEW.actor := NULL;
  RETURN NEW;
END
$$;

CREATE TRIGGER help_requests_history BEFORE UPDATE ON help_requests
FOR EACH ROW
WHEN (NEW.state IS DISTINCT FROM OLD.state OR NEW.partner_id IS DISTINCT FROM OLD.partner_id
      OR (NEW.escalated_at IS NOT NULL AND OLD.escalated_at IS NULL)
      OR NEW.actor IS NOT NULL)
EXECUTE FUNCTION signpost_help_request_event();

-- A tenant's page lists their texts and requests. Campaign texts are found through
-- messages_tenant_recent; an index over every campaign text would slow expansion.
CREATE INDEX help_requests_tenant ON help_requests (tenant_id) WHERE tenant_id IS NOT NULL;
CREATE INDEX inbound_messages_tenant ON inbound_messages (tenant_id, received_at)
  WHERE tenant_id IS NOT NULL;
CREATE INDEX messages_tenant_other ON messages (tenant_id)
  WHERE kind <> 'campaign' AND tenant_id IS NOT NULL;
-- Outcomes by month.
CREATE INDEX help_requests_created ON help_requests (created_at);

-- A user as the API shows it (never the password hash).
CREATE FUNCTION signpost_user_json(u users) RETURNS jsonb
LANGUAGE sql STABLE AS $$
  SELECT jsonb_build_object('id', u.id, 'email', u.email, 'name', u.name, 'role', u.role,
    'partner_id', u.partner_id,
    'partner_name', (SELECT p.name FROM partners p WHERE p.id = u.partner_id),
    'active', u.active, 'has_password', u.password_hash IS NOT NULL,
    'invite_expires_at', (SELECT max(i.expires_at) FROM user_invites i
      WHERE i.user_id = u.id AND i.used_at IS NULL AND i.expires_at > now()),
    'created_at', u.created_at, 'updated_at', u.updated_at,
    'deactivated_at', u.deactivated_at, 'last_sign_in_at', u.last_sign_in_at)
$$;
