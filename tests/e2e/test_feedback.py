"""End-to-end tests of managers' feedback against the real complaintd and
complaintctl: reviews sent with `complaintctl feedback` (and as raw
FeedbackBatch frames) are checked item by item, stored in the daemon's LMDB,
counted in stats and /metrics, and erased by `complaintctl forget`.

Run: COMPLAINTD_BUILD=build /usr/bin/python3 -m unittest -v test_feedback
"""
import json
import os
import unittest
import urllib.request

import zmq

import daemon_harness as h


def review(event_id, customer, text, labels, action="HOLD_LINE", **extra):
    r = {"event_id": event_id, "customer_id": customer, "text": text, "channel": "chat",
         "lang": "en", "labels": labels, "action": action, "reviewer": "manager-1"}
    r.update(extra)
    return r


def write_jsonl(lines):
    path = os.path.join(h.make_tempdir("fb-"), "reviews.jsonl")
    with open(path, "w") as f:
        for line in lines:
            f.write((line if isinstance(line, str) else json.dumps(line)) + "\n")
    return path


def send_feedback(d, path):
    return h.complaintctl(["feedback", path, "--control", d.control])


def raw_request(d, frames, timeout=5.0):
    """A multi-frame request on the control socket; the reply as JSON."""
    s = zmq.Context.instance().socket(zmq.REQ)
    s.setsockopt(zmq.LINGER, 0)
    s.setsockopt(zmq.RCVTIMEO, int(timeout * 1000))
    try:
        s.connect(d.control)
        s.send_multipart(frames)
        return json.loads(s.recv().decode())
    finally:
        s.close()


class TestFeedback(unittest.TestCase):
    def daemon(self, **kw):
        d = h.Daemon(**kw)
        self.addCleanup(d.kill)
        return d.start()

    def test_reviews_are_checked_stored_and_counted(self):
        port = h.free_port()
        d = self.daemon(config={"metrics": "127.0.0.1:%d" % port, "retrain_every": 0})
        path = write_jsonl([
            review("ev-1", "cust-a", "the courier left the box in the rain", ["service_failure"]),
            "{this is not json",
            review("ev-2", "cust-b", "lovely staff, thank you", ["gratitude"], action="ACKNOWLEDGE"),
            review("ev-3", "cust-a", "whatever", ["no_such_label"]),
            review("ev-4", "cust-c", "nothing to see here", []),
            review("ev-1", "cust-a", "the courier left the box in the rain",
                   ["service_failure", "product_defect"]),
        ])
        r = send_feedback(d, path)
        # Bad lines are named and skipped, the rest is sent; exit 2 at the end.
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("reviews.jsonl:2: invalid JSON", r.stderr)
        self.assertIn("reviews.jsonl:4: unknown label no_such_label", r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out, {"sent": 4, "stored": 4, "rejected": 0}, r.stdout)
        st = d.stats()
        self.assertEqual((st["feedback"], st["feedback_stored"], st["feedback_rejected"]),
                         (4, 4, 0), st)

        # Raw frames: the daemon checks each item and names the bad ones by
        # position and event id; the good one is stored.
        pb = h.pb()
        batch = pb.FeedbackBatch(items=[
            pb.Feedback(event_id="ev-5", customer_id="cust-d", text="", labels=[pb.INSULT]),
            pb.Feedback(event_id="ev-6", customer_id="cust-d", text="you absolute clown",
                        labels=[pb.INSULT], action=pb.PROTECT_EMPLOYEE),
            pb.Feedback(event_id="", customer_id="cust-d", text="no id"),
        ])
        rep = raw_request(d, [b"feedback", batch.SerializeToString()])
        self.assertTrue(rep["ok"], rep)
        self.assertEqual((rep["received"], rep["stored"], rep["rejected"]), (3, 1, 2), rep)
        self.assertEqual(rep["errors"][0], {"item": 0, "event_id": "ev-5", "error": "empty text"})
        self.assertEqual(rep["errors"][1]["item"], 2)
        self.assertIn("event_id missing", rep["errors"][1]["error"])
        # A second review of an event replaces the first.
        rep = raw_request(d, [b"feedback", pb.FeedbackBatch(items=[batch.items[1]]).SerializeToString()])
        self.assertEqual((rep["stored"], rep["replaced"]), (1, 1), rep)
        # No second frame, or one that is not a batch: refused, said why.
        rep = raw_request(d, [b"feedback"])
        self.assertFalse(rep["ok"], rep)
        self.assertIn("second frame", rep["error"])
        rep = raw_request(d, [b"feedback", b"\xff\xff\xff"])
        self.assertFalse(rep["ok"], rep)
        self.assertIn("not a serialized complaint.v1.FeedbackBatch", rep["error"])
        self.assertEqual(d.ping(), b"pong")  # still serving

        st = d.stats()
        self.assertEqual((st["feedback"], st["feedback_stored"], st["feedback_rejected"]),
                         (8, 6, 2), st)
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
        self.assertIn('complaintd_feedback_total{outcome="stored"} 6\n', body)
        self.assertIn('complaintd_feedback_total{outcome="rejected"} 2\n', body)
        d.stop()

        # On disk: five distinct events reviewed (ev-1 twice, ev-6 twice);
        # forget erases a customer's and only theirs.
        f = json.loads(h.complaintctl(["forget", "cust-a", "--data-dir", d.data_dir]).stdout)
        self.assertEqual(f["feedback_erased"], 1, f)
        f = json.loads(h.complaintctl(["forget", "cust-d", "--data-dir", d.data_dir]).stdout)
        self.assertEqual(f["feedback_erased"], 1, f)
        f = json.loads(h.complaintctl(["forget", "cust-a", "--data-dir", d.data_dir]).stdout)
        self.assertEqual(f["feedback_erased"], 0, f)

    def test_full_store_refuses_the_batch_whole(self):
        d = self.daemon(config={"retrain_every": 0, "map_size_mb": 1})
        pb = h.pb()
        big = "the parcel never came. " * 8000  # ~180 KB each: ten overflow a 1 MB map
        batch = pb.FeedbackBatch(items=[pb.Feedback(event_id="big-%d" % i, customer_id="c",
                                                    text=big, labels=[pb.SERVICE_FAILURE])
                                        for i in range(10)])
        rep = raw_request(d, [b"feedback", batch.SerializeToString()], timeout=20)
        self.assertFalse(rep["ok"], rep)
        self.assertEqual(rep["stored"], 0, rep)
        self.assertIn("feedback store: ", rep["error"])
        self.assertIn("MDB_MAP_FULL", rep["error"])
        self.assertEqual(d.stats()["feedback_stored"], 0)
        self.assertEqual(d.ping(), b"pong")  # and the daemon serves on
        rep = raw_request(d, [b"feedback", pb.FeedbackBatch(items=[pb.Feedback(
            event_id="small", customer_id="c", text="a small one")]).SerializeToString()])
        self.assertEqual((rep["ok"], rep["stored"]), (True, 1), rep)

    def test_forget_beside_a_running_daemon(self):
        d = self.daemon(config={"retrain_every": 0})
        path = write_jsonl([review("g-%d" % i, "gone" if i % 2 else "stays",
                                   "a review of event %d" % i, ["refund_request"])
                            for i in range(6)])
        r = send_feedback(d, path)
        self.assertEqual(r.returncode, 0, r.stderr)
        f = h.complaintctl(["forget", "gone", "--data-dir", d.data_dir, "--control", d.control])
        self.assertEqual(f.returncode, 0, f.stderr)
        self.assertEqual(json.loads(f.stdout)["feedback_erased"], 3, f.stdout)
        # The daemon keeps storing after its writer did the forget.
        r = send_feedback(d, write_jsonl([review("g-9", "gone", "back again", [])]))
        self.assertEqual(json.loads(r.stdout)["stored"], 1, r.stdout + r.stderr)
        d.stop()
        f = json.loads(h.complaintctl(["forget", "gone", "--data-dir", d.data_dir]).stdout)
        self.assertEqual(f["feedback_erased"], 1, f)
        f = json.loads(h.complaintctl(["forget", "stays", "--data-dir", d.data_dir]).stdout)
        self.assertEqual(f["feedback_erased"], 3, f)


if __name__ == "__main__":
    unittest.main()
