-- signpost: initial schema.
-- Applied by `signpostd migrate`; recorded in schema_migrations. Never edit after release:
-- add a new numbered file instead.

-- Progress rank of a message state: a message only ever moves to a higher rank.
CREATE FUNCTION signpost_state_rank(state text) RETURNS int
LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$
  SELECT CASE state
    WHEN 'queued' THEN 0 WHEN 'retry' THEN 0
    WHEN 'sending' THEN 1
    WHEN 'unknown' THEN 2
    WHEN 'submitted' THEN 3
    WHEN 'enroute' THEN 4
    WHEN 'delivered' THEN 6
    ELSE 5 END
$$;

CREATE TABLE daemons (
  id bigserial PRIMARY KEY,
  hostname text NOT NULL,
  pid int NOT NULL,
  started_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE partners (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE api_keys (
  id bigserial PRIMARY KEY,
  key_hash text NOT NULL UNIQUE,
  role text NOT NULL CHECK (role IN ('admin', 'officer', 'partner')),
  partner_id bigint REFERENCES partners (id),
  label text,
  created_at timestamptz NOT NULL DEFAULT now(),
  revoked_at timestamptz,
  CHECK ((role = 'partner') = (partner_id IS NOT NULL))
);

CREATE TABLE tenants (
  id bigserial PRIMARY KEY,
  external_ref text UNIQUE,
  first_name text,
  phone text UNIQUE,
  borough text,
  landlord text,
  tags text[] NOT NULL DEFAULT '{}',
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX tenants_borough ON tenants (lower(borough));
CREATE INDEX tenants_tags ON tenants USING gin (tags);

-- Opt-outs belong to the number, not to a tenant record: they survive re-imports.
CREATE TABLE opt_outs (
  phone text PRIMARY KEY,
  source text NOT NULL CHECK (source IN ('sms', 'provider', 'officer')),
  created_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE campaigns (
  id bigserial PRIMARY KEY,
  name text NOT NULL,
  body text NOT NULL,
  audience jsonb NOT NULL,
  provider text,
  send_window jsonb NOT NULL,
  state text NOT NULL DEFAULT 'draft'
    CHECK (state IN ('draft', 'scheduled', 'running', 'paused', 'completed', 'cancelled')),
  start_at timestamptz,
  expand_cursor bigint NOT NULL DEFAULT 0,
  expanded_at timestamptz,
  expand_lease_until timestamptz,
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now(),
  scheduled_at timestamptz,
  started_at timestamptz,
  completed_at timestamptz
);
CREATE INDEX campaigns_active ON campaigns (state) WHERE state IN ('scheduled', 'running');

CREATE TABLE messages (
  id bigserial PRIMARY KEY,
  kind text NOT NULL CHECK (kind IN ('campaign', 'reply', 'test')),
  campaign_id bigint REFERENCES campaigns (id),
  tenant_id bigint REFERENCES tenants (id),
  to_phone text,
  body text,
  provider text NOT NULL,
  provider_msg_id text,
  state text NOT NULL DEFAULT 'queued'
    CHECK (state IN ('queued', 'retry', 'sending', 'unknown', 'submitted', 'enroute',
                     'delivered', 'undelivered', 'failed', 'rejected', 'expired',
                     'cancelled', 'skipped')),
  skip_reason text,
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  expires_at timestamptz,
  claimed_by bigint,
  lease_until timestamptz,
  segments int,
  error_code text,
  error_text text,
  raw_status text,
  in_reply_to bigint,
  created_at timestamptz NOT NULL DEFAULT now(),
  submitted_at timestamptz,
  final_at timestamptz,
  updated_at timestamptz NOT NULL DEFAULT now()
);
-- One campaign text per tenant, whatever happens to expansion.
CREATE UNIQUE INDEX messages_campaign_tenant ON messages (campaign_id, tenant_id)
  WHERE kind = 'campaign';
-- Due work: small, because they only hold what is waiting.
CREATE INDEX messages_due_campaign ON messages (campaign_id, next_attempt_at)
  WHERE state IN ('queued', 'retry') AND kind = 'campaign';
CREATE INDEX messages_due_other ON messages (provider, next_attempt_at)
  WHERE state IN ('queued', 'retry') AND kind <> 'campaign';
CREATE INDEX messages_in_flight ON messages (claimed_by) WHERE state = 'sending';
CREATE INDEX messages_provider_id ON messages (provider, provider_msg_id);
CREATE INDEX messages_campaign_state ON messages (campaign_id, state);
CREATE INDEX messages_tenant_recent ON messages (tenant_id, submitted_at)
  WHERE kind = 'campaign';

-- Every delivery receipt as the provider sent it; a repeat adds nothing.
CREATE TABLE receipts (
  id bigserial PRIMARY KEY,
  provider text NOT NULL,
  provider_msg_id text NOT NULL,
  reference text,
  state text NOT NULL,
  raw_status text NOT NULL,
  error_code text NOT NULL DEFAULT '',
  error_text text,
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, provider_msg_id, raw_status, error_code)
);

CREATE TABLE inbound_messages (
  id bigserial PRIMARY KEY,
  provider text NOT NULL,
  provider_msg_id text NOT NULL,
  from_phone text,
  to_phone text,
  body text,
  tenant_id bigint REFERENCES tenants (id),
  campaign_id bigint REFERENCES campaigns (id),
  action text,
  keyword text,
  received_at timestamptz NOT NULL DEFAULT now(),
  UNIQUE (provider, provider_msg_id)
);

CREATE TABLE help_requests (
  id bigserial PRIMARY KEY,
  tenant_id bigint REFERENCES tenants (id),
  category text NOT NULL,
  state text NOT NULL DEFAULT 'new',
  campaign_id bigint REFERENCES campaigns (id),
  inbound_message_id bigint REFERENCES inbound_messages (id),
  borough text,
  answers jsonb NOT NULL DEFAULT '{}',
  partner_id bigint REFERENCES partners (id),
  created_at timestamptz NOT NULL DEFAULT now(),
  updated_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX help_requests_state ON help_requests (state, created_at);
