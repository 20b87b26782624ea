-- signpost: replay ids of signed provider webhooks.
-- MessageBird's signature JWT carries a jti and Standard Webhooks (the "webhook" and
-- "sim" providers) a webhook-id, each signed once. The id is recorded in the same
-- statement that stores what its webhook carried (or alone, when it stores nothing), and
-- kept until the signature would be refused as too old anyway: a second request with the
-- same id breaks the unique key, its statement stores nothing, and it is answered 403.
-- The janitor deletes rows past expires_at.

CREATE TABLE webhook_replays (
  provider text NOT NULL,
  replay_id text NOT NULL,
  expires_at timestamptz NOT NULL,
  received_at timestamptz NOT NULL DEFAULT now(),
  CONSTRAINT webhook_replays_pkey PRIMARY KEY (provider, replay_id)
);

CREATE INDEX webhook_replays_expires ON webhook_replays (expires_at);
