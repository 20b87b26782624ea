-- signpost: triage conversations, keyword and flow data, partners and their webhooks.

-- The keyword set and the flows as admins last saved them (seeded from data/ at start-up).
CREATE TABLE keyword_sets (
  id int PRIMARY KEY CHECK (id = 1),
  body jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

CREATE TABLE flows (
  name text PRIMARY KEY,
  body jsonb NOT NULL,
  updated_at timestamptz NOT NULL DEFAULT now()
);

-- One open conversation per number; closed ones are kept for the record.
CREATE TABLE conversations (
  id bigserial PRIMARY KEY,
  phone text NOT NULL,
  tenant_id bigint REFERENCES tenants (id),
  provider text NOT NULL,
  flow text NOT NULL,
  step text NOT NULL,
  answers jsonb NOT NULL DEFAULT '{}',
  category text,
  campaign_id bigint REFERENCES campaigns (id),
  help_request_id bigint,
  retries int NOT NULL DEFAULT 0,
  state text NOT NULL DEFAULT 'open'
    CHECK (state IN ('open', 'done', 'expired', 'handed_off', 'cancelled')),
  last_inbound_at timestamptz NOT NULL DEFAULT now(),
  reminded_at timestamptz,
  expires_at timestamptz NOT NULL,
  created_at timestamptz NOT NULL DEFAULT now(),
  closed_at timestamptz
);
CREATE UNIQUE INDEX conversations_open ON conversations (phone) WHERE state = 'open';
CREATE INDEX conversations_due ON conversations (expires_at) WHERE state = 'open';

ALTER TABLE partners
  ADD COLUMN categories text[] NOT NULL DEFAULT '{}',
  ADD COLUMN boroughs text[] NOT NULL DEFAULT '{}',
  ADD COLUMN capacity int NOT NULL DEFAULT 10 CHECK (capacity >= 0),
  ADD COLUMN webhook_url text,
  ADD COLUMN webhook_secret text,
  ADD COLUMN active boolean NOT NULL DEFAULT true,
  ADD COLUMN updated_at timestamptz NOT NULL DEFAULT now();

ALTER TABLE help_requests
  ADD COLUMN phone text,
  ADD COLUMN consent boolean NOT NULL DEFAULT false,
  ADD COLUMN needs_call boolean NOT NULL DEFAULT false,
  ADD COLUMN outcome text,
  ADD COLUMN note text,
  ADD COLUMN declined_by bigint[] NOT NULL DEFAULT '{}',
  ADD COLUMN deadline_at timestamptz,
  ADD COLUMN assigned_at timestamptz,
  ADD COLUMN accepted_at timestamptz,
  ADD COLUMN contacted_at timestamptz,
  ADD COLUMN resolved_at timestamptz,
  ADD COLUMN closed_at timestamptz,
  ADD COLUMN escalated_at timestamptz,
  ADD COLUMN escalation_reason text,
  ADD COLUMN followup_sent_at timestamptz,
  ADD COLUMN followup_outcome text,
  ADD COLUMN followup_answered_at timestamptz,
  ADD CONSTRAINT help_requests_state_check CHECK (state IN ('new', 'assigned', 'accepted',
    'contacted', 'resolved', 'closed_no_contact'));
CREATE INDEX help_requests_partner ON help_requests (partner_id, state);
CREATE INDEX help_requests_unassigned ON help_requests (id)
  WHERE state = 'new' AND escalated_at IS NULL AND NOT needs_call;

-- Partner webhooks waiting for a 2xx. webhook-id stays the same on every retry.
CREATE TABLE partner_outbox (
  id bigserial PRIMARY KEY,
  partner_id bigint NOT NULL REFERENCES partners (id),
  help_request_id bigint NOT NULL REFERENCES help_requests (id),
  event text NOT NULL,
  payload jsonb NOT NULL,
  attempts int NOT NULL DEFAULT 0,
  next_attempt_at timestamptz NOT NULL DEFAULT now(),
  give_up_at timestamptz NOT NULL,
  delivered_at timestamptz,
  failed_at timestamptz,
  last_status int,
  last_error text,
  created_at timestamptz NOT NULL DEFAULT now()
);
CREATE INDEX partner_outbox_due ON partner_outbox (next_attempt_at)
  WHERE delivered_at IS NULL AND failed_at IS NULL;

-- When a text to a tenant may go out: at once if they texted us in the last ten minutes,
-- otherwise not between 21:00 and 08:00 in Europe/London (it waits for 08:00).
CREATE FUNCTION signpost_reply_at(at timestamptz, last_inbound timestamptz)
RETURNS timestamptz LANGUAGE sql STABLE AS $$
  SELECT CASE
    WHEN last_inbound IS NOT NULL AND at - last_inbound <= interval '10 minutes' THEN at
    WHEN (at AT TIME ZONE 'Europe/London')::time >= time '21:00' THEN
      ((date_trunc('day', at AT TIME ZONE 'Europe/London') + interval '1 day 8 hours')
        AT TIME ZONE 'Europe/London')
    WHEN (at AT TIME ZONE 'Europe/London')::time < time '08:00' THEN
      ((date_trunc('day', at AT TIME ZONE 'Europe/London') + interval '8 hours')
        AT TIME ZONE 'Europe/London')
    ELSE at END
$$;

-- at plus n working days (Monday to Friday) in Europe/London, same time of day.
CREATE FUNCTION signpost_add_working_days(at timestamptz, n int)
RETURNS timestamptz LANGUAGE plpgsql STABLE AS $$
DECLARE
  t timestamp := at AT TIME ZONE 'Europe/London';
  left_ int := n;
BEGIN
  WHILE left_ > 0 LOOP
    t := t + interval '1 day';
    IF extract(isodow FROM t) < 6 THEN
      left_ := left_ - 1;
    END IF;
  END LOOP;
  RETURN t AT TIME ZONE 'Europe/London';
END
$$;

-- The partner for a request: active, covering the category and borough, not one that
-- declined it, with spare capacity; the one with the most spare capacity wins.
CREATE FUNCTION signpost_pick_partner(cat text, borough text, excluded bigint[])
RETURNS bigint LANGUAGE sql STABLE AS $$
  SELECT p.id FROM partners p
  CROSS JOIN LATERAL (SELECT p.capacity - count(*) AS spare FROM help_requests h
    WHERE h.partner_id = p.id AND h.state IN ('assigned', 'accepted', 'contacted')) s
  WHERE p.active AND cat = ANY (p.categories) AND borough IS NOT NULL
    AND lower(borough) IN (SELECT lower(b) FROM unnest(p.boroughs) b)
    AND NOT (p.id = ANY (coalesce(excluded, '{}'))) AND s.spare > 0
  ORDER BY s.spare DESC, p.id LIMIT 1
$$;
