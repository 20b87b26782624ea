"""The state machines' C test (tests/unit/test_lifecycle.c) against a migrated database:
PostgreSQL's state names, text ranks and stored transitions agree with the C tables. And
the triggers that hold campaigns and help requests to their transitions."""
import os
import subprocess

import psycopg2

from harness import BUILD, Daemon, IntegrationCase, SANITIZER_MARKS


class LifecycleTest(IntegrationCase):
    @classmethod
    def setUpClass(cls):
        super().setUpClass()
        Daemon(cls.db).run("migrate")

    def test_c_and_sql_agree(self):
        env = dict(os.environ, SIGNPOST_TEST_PG=self.db.conninfo)
        r = subprocess.run([os.path.join(BUILD, "tests", "test_lifecycle")], env=env,
                           capture_output=True, text=True, timeout=120)
        for mark in SANITIZER_MARKS:
            self.assertNotIn(mark, r.stderr)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertRegex(r.stdout, r"test_lifecycle: [1-9][0-9]* checks, 0 failed")
        self.assertNotIn("needs SIGNPOST_TEST_PG", r.stdout)

    def test_a_move_outside_the_table_is_refused(self):
        cid = self.db.value("INSERT INTO campaigns (name, body, audience, send_window, state) "
                            "VALUES ('x', 'y', '{\"all\": true}', '{}', 'completed') RETURNING id")
        with self.assertRaisesRegex(psycopg2.Error, "campaign %d cannot go from completed "
                                    "to running" % cid):
            self.db.query("UPDATE campaigns SET state = 'running' WHERE id = %s", cid)
        hid = self.db.value("INSERT INTO help_requests (category, state) VALUES ('money', 'new') "
                            "RETURNING id")
        self.db.query("UPDATE help_requests SET state = 'assigned' WHERE id = %s", hid)
        with self.assertRaisesRegex(psycopg2.Error, "cannot go from assigned to resolved"):
            self.db.query("UPDATE help_requests SET state = 'resolved' WHERE id = %s", hid)
        # Texts: held to the table where the tests attach the check (harness.Daemon.start).
        self.db.query("CREATE OR REPLACE TRIGGER messages_transitions_checked AFTER UPDATE ON "
                      "messages REFERENCING OLD TABLE AS old_rows NEW TABLE AS new_rows FOR EACH "
                      "STATEMENT EXECUTE FUNCTION signpost_check_message_transitions()")
        mid = self.db.value("INSERT INTO messages (kind, provider, state) "
                            "VALUES ('reply', 'sim', 'delivered') RETURNING id")
        with self.assertRaisesRegex(psycopg2.Error, "message %d cannot go from delivered to "
                                    "sending" % mid):
            self.db.query("UPDATE messages SET state = 'sending' WHERE id = %s", mid)
        self.db.query("UPDATE messages SET state = 'queued', body = 'x' WHERE id = %s AND false",
                      mid)
