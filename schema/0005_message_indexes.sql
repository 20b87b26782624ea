-- signpost: fewer index entries per message state change.
-- A state change rewrites the message row and adds an entry to every index whose predicate
-- the new row matches, so indexes on messages are kept to what queries need, and partial
-- where most rows cannot match.

-- Receipts look messages up by the provider's id, which a message only has once sent.
DROP INDEX messages_provider_id;
CREATE INDEX messages_provider_id ON messages (provider, provider_msg_id)
  WHERE provider_msg_id IS NOT NULL;

-- Replies are attributed to the campaign text a tenant received most recently.
DROP INDEX messages_tenant_recent;
CREATE INDEX messages_tenant_recent ON messages (tenant_id, submitted_at)
  WHERE kind = 'campaign' AND submitted_at IS NOT NULL;

-- Per-campaign questions go through messages_campaign_tenant (campaign_id first); whether a
-- campaign still has work is answered by the due and in-flight indexes below and above.
DROP INDEX messages_campaign_state;

-- Claims take due messages in (next_attempt_at, id) order: with id in the index that order
-- is read straight off it instead of sorting every due message of a campaign per claim.
DROP INDEX messages_due_campaign;
CREATE INDEX messages_due_campaign ON messages (campaign_id, next_attempt_at, id)
  WHERE state IN ('queued', 'retry') AND kind = 'campaign';
DROP INDEX messages_due_other;
CREATE INDEX messages_due_other ON messages (provider, next_attempt_at, id)
  WHERE state IN ('queued', 'retry') AND kind <> 'campaign';

-- Campaign expansion writes one message per recipient, up to a million at a time, and a
-- foreign-key check per row doubled its cost. Messages are written only by the daemon, from
-- tenants and campaigns that exist and are never deleted (erasing a tenant clears its
-- personal fields and keeps the row), so these two references are kept by the code.
ALTER TABLE messages DROP CONSTRAINT messages_tenant_id_fkey,
  DROP CONSTRAINT messages_campaign_id_fkey;
