"""Hot reload under load: rules and policy are swapped between batches while
an acknowledged stream runs; no event is dropped or decided twice, a broken
rule file is refused with its file and line while the old pack keeps
running, and the new rules are in force afterwards."""
import json
import os
import shutil
import signal
import subprocess
import tempfile
import time
import unittest

import daemon_harness as h
from test_end_to_end import E2ETestCase

N = 3000
MARKER = "zorbleflux"  # a word no rule knows until the reload adds one


class TestHotReload(E2ETestCase):

    def test_reload_under_load(self):
        rules = os.path.join(tempfile.mkdtemp(prefix="reload-"), "rules")
        shutil.copytree(h.RULES, rules)
        d = self.daemon(extra_args=["--rules", rules])
        events = os.path.join(os.path.dirname(rules), "events.jsonl")
        with open(events, "w") as f:
            for i in range(N):
                f.write(json.dumps({"event_id": "rl-%d" % i, "customer_id": "rc-%d" % (i % 97),
                                    "channel": "chat", "lang": "en",
                                    "text": "The kettle broke, I want a refund"}) + "\n")
        producer = subprocess.Popen(
            [h.COMPLAINTCTL, "send", "--acked", events, "--ingest-acked", d.ingest_acked,
             "--rate", "400", "--window", "100", "--timeout", "100000"],
            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(producer.kill)
        time.sleep(0.5)

        # A broken file: refused with file and line; the old pack goes on.
        with open(os.path.join(rules, "broken.en.rules"), "w") as f:
            f.write("rule broken.one\n  label no_such_label\n  match x\n")
        r = h.complaintctl(["reload", "--control", d.control])
        self.assertEqual(r.returncode, 1, r.stdout)
        self.assertIn("broken.en.rules:2", r.stdout)
        self.assertIn("unknown label", r.stdout)
        os.remove(os.path.join(rules, "broken.en.rules"))

        # A good change, by command and by SIGHUP.
        with open(os.path.join(rules, "reload.en.rules"), "w") as f:
            f.write("rule gratitude.en.reload_marker\n  label gratitude\n  match %s\n" % MARKER)
        r = h.complaintctl(["reload", "--control", d.control])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(json.loads(r.stdout)["ok"])
        d.send_signal(signal.SIGHUP)

        out, err = producer.communicate(timeout=100)
        self.assertEqual(producer.returncode, 0, err)
        self.assertIn("%d decided, 0 duplicates, 0 rejected" % N, err)

        # The new rule is in force.
        sub = self.subscriber(d)
        push = self.producer(d)
        push.send(h.event_bytes(event_id="after", customer_id="x", channel="chat", lang="en",
                                text="simply %s, thanks" % MARKER))
        dec = sub.collect(1)[0].msg
        self.assertIn("gratitude.en.reload_marker", [m.rule_id for m in dec.matches])

        # Every event once, no gap, across the swaps.
        last = d.stats()["last_seq"]
        self.assertEqual(last, N + 1)
        r = h.complaintctl(["tail", "--publish", d.publish, "--control", d.control,
                            "--from", "1", "--count", str(last), "--timeout", "5000"])
        logged = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
        self.assertEqual([x["seq"] for x in logged], list(range(1, last + 1)))
        self.assertEqual(len({x["event_id"] for x in logged}), last)
        self.assertIn("reload:", d.log())
        d.stop(signal.SIGTERM)


if __name__ == "__main__":
    unittest.main()
