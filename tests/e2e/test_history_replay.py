"""End-to-end: customer history over time, replay of the decision log, and
forgetting a customer, against the real complaintd and complaintctl."""
import json
import signal
import sys
import unittest

import daemon_harness as h
from test_end_to_end import E2ETestCase

TS0 = 1_760_000_000_000
DAY = 24 * 3600 * 1000

INSULT = "You are a useless idiot, do your job"
HARASS = "Listen sweetheart, send me your photo, you are so hot"
DEFECT = "The kettle stopped working after two days, I want a refund"


def ev(i, customer, text, ts, employee="", channel="chat"):
    return {"event_id": "%s-%d" % (customer, i), "customer_id": customer, "channel": channel,
            "lang": "en", "text": text, "ts_ms": ts, "employee_id": employee}


def tail_from(d, seq, count, timeout_ms=4000):
    r = h.complaintctl(["tail", "--publish", d.publish, "--control", d.control,
                        "--from", str(seq), "--count", str(count), "--timeout", str(timeout_ms)])
    out = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    return r.returncode, out, r.stderr


class TestPolicyOverTime(E2ETestCase):

    def test_harassment_after_warning_ends_relationship(self):
        d = self.daemon()
        sub = self.subscriber(d)
        push = self.producer(d)
        events = [ev(1, "serial", INSULT, TS0, "emp-9"),
                  ev(2, "serial", HARASS, TS0 + DAY, "emp-9"),
                  ev(1, "first-timer", HARASS, TS0, "emp-9")]
        for e in events:
            push.send(h.event_bytes(**e))
            sub.collect(1)  # one at a time: the second must see the first in history
        decided = {x["event_id"]: x for x in
                   (json.loads(l) for l in h.complaintctl(
                       ["tail", "--publish", d.publish, "--control", d.control, "--from", "1",
                        "--count", "3", "--timeout", "3000"]).stdout.splitlines())}
        self.assertEqual(decided["serial-1"]["action"], "PROTECT_EMPLOYEE")
        self.assertEqual(decided["serial-2"]["action"], "END_RELATIONSHIP")
        self.assertIn("warned", decided["serial-2"]["customer_flags"])
        # A first offence never ends the relationship.
        self.assertEqual(decided["first-timer-1"]["action"], "PROTECT_EMPLOYEE")
        d.stop(signal.SIGTERM)
        emp = json.loads(h.complaintctl(["employee", "emp-9", "--data-dir", d.data_dir]).stdout)
        self.assertEqual(emp["events"], 3)
        self.assertEqual(emp["toxic_received"], 3)
        hist = h.history("serial", d.data_dir)
        self.assertEqual(hist["toxic_incidents"], 2)
        self.assertEqual([r["event_id"] for r in hist["recent"]], ["serial-2", "serial-1"])
        # The ring keeps seqs; the ids come from the decision log.
        self.assertEqual([r["seq"] for r in hist["recent"]],
                         [decided["serial-2"]["seq"], decided["serial-1"]["seq"]])


class TestReplayAcrossRestart(E2ETestCase):

    def test_tail_from_replays_without_gap_or_duplicate(self):
        data = h.make_tempdir("replay-")
        d1 = self.daemon(data_dir=data)
        sub = self.subscriber(d1)
        push = self.producer(d1)
        for i in range(5):
            push.send(h.event_bytes(**ev(i, "c%d" % (i % 2), DEFECT, TS0 + i)))
        live1 = sub.collect(5)
        sub.close()
        push.close()
        d1.stop(signal.SIGTERM)

        d2 = self.daemon(data_dir=data)
        sub2 = self.subscriber(d2)
        push2 = self.producer(d2)
        for i in range(5, 8):
            push2.send(h.event_bytes(**ev(i, "c%d" % (i % 2), INSULT, TS0 + i)))
        live2 = sub2.collect(3)
        live = {x.msg.event_id: x.msg.seq for x in live1 + live2}

        rc, out, err = tail_from(d2, 1, 8)
        self.assertEqual(rc, 0, err)
        self.assertEqual([x["seq"] for x in out], list(range(1, 9)), "replay has a gap or a duplicate")
        self.assertEqual({x["event_id"]: x["seq"] for x in out}, live,
                         "replayed decisions differ from the ones published live")
        # From the middle, and the raw protocol: a header, then the frames.
        rc, out, err = tail_from(d2, 6, 3)
        self.assertEqual([x["seq"] for x in out], [6, 7, 8])
        head = json.loads(d2.request("replay 9").decode())
        self.assertEqual((head["count"], head["last_seq"]), (0, 8))

    def test_live_after_replay_continues_in_order(self):
        d = self.daemon()
        push = self.producer(d)
        sub = self.subscriber(d)
        for i in range(3):
            push.send(h.event_bytes(**ev(i, "early", DEFECT, TS0 + i)))
        sub.collect(3)
        # tail --from 1 wants 6: 3 from the log, 3 that arrive while it runs.
        import subprocess
        proc = subprocess.Popen([h.COMPLAINTCTL, "tail", "--publish", d.publish, "--control",
                                 d.control, "--from", "1", "--count", "6", "--timeout", "5000"],
                                stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(proc.kill)
        import time
        time.sleep(0.7)
        for i in range(3, 6):
            push.send(h.event_bytes(**ev(i, "late", DEFECT, TS0 + i)))
        out, err = proc.communicate(timeout=15)
        seqs = [json.loads(l)["seq"] for l in out.splitlines() if l.strip()]
        self.assertEqual(proc.returncode, 0, err)
        self.assertEqual(seqs, [1, 2, 3, 4, 5, 6])


class TestReplayDuringStream(E2ETestCase):

    def test_replay_never_serves_past_the_last_published_seq(self):
        """A group is committed to the log before the publisher has flushed and
        published it. A replay in that window must stop at the last published
        seq (the header's last_seq): what it served beyond could still be lost
        in a crash, and a subscriber would get it again, live, after."""
        import threading
        import zmq
        d = self.daemon()
        push = self.producer(d)
        sub = self.subscriber(d)
        n = 20000
        texts = [DEFECT, INSULT, HARASS]

        def produce():
            for i in range(n):
                push.send(h.event_bytes(**ev(i, "s%d" % (i % 500), texts[i % 3], TS0 + i)))

        producer = threading.Thread(target=produce)
        producer.start()
        req = zmq.Context.instance().socket(zmq.REQ)
        req.setsockopt(zmq.LINGER, 0)
        req.setsockopt(zmq.RCVTIMEO, 5000)
        req.connect(d.control)
        self.addCleanup(req.close)
        pb = h.pb()
        ahead, replies, served, last = [], 0, 0, 0
        while last < n:
            # From just behind the tail, where the unpublished window is.
            req.send(("replay %d 500" % max(1, last - 20)).encode())
            frames = req.recv_multipart()
            head = json.loads(frames[0].decode())
            self.assertNotIn("error", head)
            self.assertGreaterEqual(head["last_seq"], last, "last_seq went backwards")
            last = head["last_seq"]
            replies += 1
            for raw in frames[1:]:
                seq = pb.TriageDecision.FromString(raw).seq
                served += 1
                if seq > last:
                    ahead.append((seq, last))
        producer.join()
        self.assertEqual(len(ahead), 0, "replay served %d decisions not yet published, e.g. "
                         "(seq, last_seq) %r" % (len(ahead), ahead[:5]))
        # The loop did watch the tail while the stream ran.
        self.assertGreater(replies, 20)
        self.assertGreater(served, 0)
        self.assertEqual(len(sub.collect(n, timeout=30)), n)


class TestForget(E2ETestCase):

    def test_forget_erases_history_and_redacts_decisions(self):
        d = self.daemon()
        sub = self.subscriber(d)
        push = self.producer(d)
        for i, (cust, text) in enumerate([("gone", INSULT), ("stays", DEFECT), ("gone", DEFECT)]):
            push.send(h.event_bytes(**ev(i, cust, text, TS0 + i)))
        sub.collect(3)
        # While the daemon runs: through it, so LMDB keeps one writer (a
        # direct write beside it is refused: test_ops.TestForgetThroughDaemon).
        r = h.complaintctl(["forget", "gone", "--data-dir", d.data_dir, "--control", d.control])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["decisions_redacted"], 2)
        self.assertIsNone(h.history("gone", d.data_dir))
        self.assertEqual(h.history("stays", d.data_dir)["events"], 1)
        rc, out, err = tail_from(d, 1, 3)
        self.assertEqual([x["seq"] for x in out], [1, 2, 3], "forget must not open a gap")
        self.assertEqual(sorted(x["customer_id"] for x in out), ["", "", "stays"])
        # The daemon goes on deciding, and the forgotten customer starts afresh.
        push.send(h.event_bytes(**ev(9, "gone", DEFECT, TS0 + 9)))
        self.assertEqual(sub.collect(1)[0].msg.seq, 4)
        d.stop(signal.SIGTERM)
        self.assertEqual(h.history("gone", d.data_dir)["events"], 1)


if __name__ == "__main__":
    unittest.main()
