"""The database pool's C test (tests/unit/test_db.c) against a real PostgreSQL."""
import os
import subprocess
import unittest

from harness import BUILD, Database, SANITIZER_MARKS


class DbPoolTest(unittest.TestCase):
    def test_grouped_statements(self):
        db = Database("dbpool")
        try:
            env = dict(os.environ, SIGNPOST_TEST_PG=db.conninfo)
            r = subprocess.run([os.path.join(BUILD, "tests", "test_db")], env=env,
                               capture_output=True, text=True, timeout=120)
            for mark in SANITIZER_MARKS:
                self.assertNotIn(mark, r.stderr)
            self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
            self.assertRegex(r.stdout, r"test_db: [1-9][0-9]* checks, 0 failed")
        finally:
            db.drop()


if __name__ == "__main__":
    unittest.main()
