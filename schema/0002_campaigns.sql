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
-- Paging a campaign's messages by id.
CREATE INDEX messages_campaign_id ON messages (campaign_id, id) WHERE campaign_id IS NOT NULL;
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
