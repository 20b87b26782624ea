-- signpost: the state machines of texts, campaigns and help requests as data.
-- signpostd writes the allowed transitions (gateway/lifecycle.c) into state_transitions
-- each time it migrates; campaigns and help requests refuse any other change of state.

CREATE TABLE state_transitions (
  machine text NOT NULL CHECK (machine IN ('message', 'campaign', 'help_request')),
  from_state text NOT NULL,
  to_state text NOT NULL,
  reason text NOT NULL,
  PRIMARY KEY (machine, from_state, to_state)
);

-- Campaigns and help requests change state a few times a day each: every change is checked.
CREATE FUNCTION signpost_check_transition() RETURNS trigger
LANGUAGE plpgsql AS $$
BEGIN
  IF NOT EXISTS (SELECT 1 FROM state_transitions t WHERE t.machine = TG_ARGV[0]
      AND t.from_state = OLD.state AND t.to_state = NEW.state) THEN
    RAISE EXCEPTION '% % cannot go from % to %', TG_ARGV[0], OLD.id, OLD.state, NEW.state
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NEW;
END
$$;

CREATE TRIGGER campaigns_transition BEFORE UPDATE OF state ON campaigns
FOR EACH ROW WHEN (NEW.state IS DISTINCT FROM OLD.state)
EXECUTE FUNCTION signpost_check_transition('campaign');

CREATE TRIGGER help_requests_transition BEFORE UPDATE OF state ON help_requests
FOR EACH ROW WHEN (NEW.state IS DISTINCT FROM OLD.state)
EXECUTE FUNCTION signpost_check_transition('help_request');

-- Texts change state thousands of times a second, so a check per change would cost more
-- than the change; the statements' own guards keep them to the table. The integration
-- tests attach this check to the messages of every test database
-- (AFTER UPDATE ... REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH
-- STATEMENT), so every change any test makes is held to the table.
CREATE FUNCTION signpost_check_message_transitions() RETURNS trigger
LANGUAGE plpgsql SET enable_nestloop = off AS $$
DECLARE
  bad record;
BEGIN
  SELECT o.id, o.state AS from_state, n.state AS to_state INTO bad
  FROM old_rows o JOIN new_rows n USING (id)
  WHERE o.state <> n.state AND NOT EXISTS (SELECT 1 FROM state_transitions t
    WHERE t.machine = 'message' AND t.from_state = o.state AND t.to_state = n.state)
  LIMIT 1;
  IF FOUND THEN
    RAISE EXCEPTION 'message % cannot go from % to %', bad.id, bad.from_state, bad.to_state
      USING ERRCODE = 'check_violation';
  END IF;
  RETURN NULL;
END
$$;
