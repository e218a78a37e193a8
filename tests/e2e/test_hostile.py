"""Hostile input and a full store: texts of a megabyte, a flood from one
customer, and an LMDB map that fills up. The daemon keeps deciding for
everyone else, and loses nothing it acknowledged."""
import json
import os
import signal
import subprocess
import tempfile
import time
import unittest

import daemon_harness as h
from test_end_to_end import E2ETestCase

TEXT = "The kettle broke after two days, I want a refund"


def ev(event_id, customer, text=TEXT):
    return h.event_bytes(event_id=event_id, customer_id=customer, channel="chat", lang="en", text=text)


class TestHostileInput(E2ETestCase):

    def test_megabyte_texts(self):
        # Within the limit (2 MB): decided; beyond it: rejected; others go on.
        d = self.daemon(config={"max_message_bytes": 2 * 1024 * 1024})
        sub = self.subscriber(d)
        push = self.producer(d)
        big = ("word " * 200_000) + "you are an idiot"  # ~1 MB, the insult at the very end
        push.send(ev("big-1", "c-big", big))
        push.send(ev("huge-1", "c-big", "x" * (3 * 1024 * 1024)))
        push.send(ev("small-1", "c-small"))
        got = {x.msg.event_id or "(over the limit: not decoded)": x for x in sub.collect(3, timeout=30)}
        self.assertEqual(got["big-1"].topic, "PROTECT_EMPLOYEE")
        m = got["big-1"].msg.matches[0]
        self.assertEqual(big.encode()[m.start:m.end].decode().lower(), "idiot")
        huge = got["(over the limit: not decoded)"]
        self.assertEqual(huge.topic, "REJECT")
        self.assertIn("size limit", huge.msg.reject_reason)
        self.assertEqual(got["small-1"].topic, "RESOLVE_LOCAL")

    def test_flood_of_one_customer_does_not_starve_others(self):
        d = self.daemon()
        sub = self.subscriber(d)
        push = self.producer(d)
        flood = 5000
        for i in range(flood):
            push.send(ev("flood-%d" % i, "c-flood"))
            if i % 1000 == 500:
                push.send(ev("other-%d" % i, "c-other-%d" % i))
        others = 5
        got = sub.collect(flood + others, timeout=60)
        self.assertEqual(len(got), flood + others)
        self.assertEqual(sum(1 for x in got if x.msg.event_id.startswith("other-")), others)
        self.assertGreater(sum(1 for x in got if x.topic == "ESCALATE_CENTRAL"), flood / 2,
                           "repeat complaints of one customer should go central")
        d.stop(signal.SIGTERM)
        self.assertEqual(h.history("c-flood", d.data_dir)["events"], flood)


class TestFullStore(E2ETestCase):

    def test_full_map_stops_intake_and_loses_nothing_acknowledged(self):
        d = self.daemon(config={"map_size_mb": 1, "batch_size": 50})
        events = os.path.join(tempfile.mkdtemp(prefix="full-"), "events.jsonl")
        with open(events, "w") as f:
            for i in range(20000):
                f.write(json.dumps({"event_id": "full-%05d" % i, "customer_id": "cust-%05d" % i,
                                    "channel": "chat", "lang": "en", "text": TEXT}) + "\n")
        r = h.complaintctl(["send", "--acked", events, "--ingest-acked", d.ingest_acked,
                            "--window", "500", "--timeout", "8000"], timeout=60)
        self.assertEqual(r.returncode, 1, "a 1 MB map cannot hold 20,000 customers: " + r.stderr)
        decided = int(r.stderr.split(" decided")[0].rsplit(" ", 1)[1])
        self.assertGreater(decided, 0)
        # The error is clear, and the daemon still answers.
        self.assertIn("MDB_MAP_FULL", d.log())
        self.assertIn("intake paused", d.log())
        st = d.stats()
        self.assertEqual(st["last_seq"], decided, "every acknowledged event is committed, nothing more")
        # What was acknowledged is in the log, in order.
        r = h.complaintctl(["tail", "--publish", d.publish, "--control", d.control, "--from", "1",
                            "--count", str(decided), "--timeout", "5000"])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(len(r.stdout.splitlines()), decided)
        d.kill()


if __name__ == "__main__":
    unittest.main()
