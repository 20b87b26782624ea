-- signpost: what replies were read as, so that those not understood can be grouped and
-- taught (GET /v1/replies/unrecognised).

-- The text's core (courtesy words set aside, normalised: "HELP WITH MY LAPTOP") and the
-- keyword rule that decided ("none" when nothing matched).
ALTER TABLE inbound_messages ADD COLUMN core text, ADD COLUMN rule text;

-- The replies that got the general answer, newest first.
CREATE INDEX inbound_messages_unrecognised ON inbound_messages (received_at)
  WHERE action = 'none';
