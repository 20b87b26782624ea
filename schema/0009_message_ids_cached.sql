-- signpost: message ids handed out a thousand at a time.
-- Expansion inserts a million messages from two backends at once, and each row's id came
-- from one sequence both of them locked in turn (with a WAL record every 32 ids). With a
-- cache, each connection takes a block of ids and numbers its rows from it: ids stay
-- unique but no longer follow the order rows were written in across connections, and a
-- connection that closes leaves the rest of its block unused. Nothing orders messages by
-- id to mean "most recent".
ALTER SEQUENCE messages_id_seq CACHE 1000;
