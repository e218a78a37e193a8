"""End-to-end tests of the learned layer in the daemon: managers' feedback
sent to a running complaintd retrains its local model off the hot path and
changes its later decisions on similar text; the models hot-reload with the
rule pack, and a bad model file is refused by name with the old one kept.

Real parts only: the complaintd process, ZeroMQ sockets, LMDB in a temporary
directory, the repository's rule pack and default model (models/).

Run: COMPLAINTD_BUILD=build /usr/bin/python3 -m unittest -v test_learn
"""
import json
import os
import random
import shutil
import unittest
import urllib.request

import daemon_harness as h
from test_feedback import review, send_feedback, write_jsonl

# A word no rule and no training text knows: only feedback can teach it.
WORD = "glorpfest"
SUBJECTS = ["the parcel", "my order", "the delivery", "your courier", "the manager",
            "this shop", "the refund desk", "your app"]


def teaching_reviews(n_pos, n_neg, seed=7):
    """n_pos reviews that call the new word a threat, and n_neg ordinary
    messages that say nothing of the kind (both needed to learn a weight)."""
    rnd = random.Random(seed)
    out = []
    for i in range(n_pos):
        text = "%s is a total %s, %s" % (rnd.choice(SUBJECTS), WORD,
                                         rnd.choice(["again", "honestly", "as usual", "today"]))
        out.append(review("teach-p%d" % i, "rev-c%d" % i, text, ["threat"],
                          action="PROTECT_EMPLOYEE"))
    for i in range(n_neg):
        text = "%s arrived %s, thanks" % (rnd.choice(SUBJECTS),
                                          rnd.choice(["late", "on time", "yesterday", "today"]))
        out.append(review("teach-n%d" % i, "rev-d%d" % i, text, [], action="ACKNOWLEDGE"))
    return out


class Learning(unittest.TestCase):
    def daemon(self, **kw):
        d = h.Daemon(**kw)
        self.addCleanup(d.kill)
        return d.start()

    def decide(self, d, sub, prod, event_id, customer, text):
        prod.send(h.event_bytes(event_id=event_id, customer_id=customer, text=text,
                                channel="chat", lang="en"))
        (dec,) = sub.collect(1)
        self.assertEqual(dec.msg.event_id, event_id)
        return dec.msg


class TestLearnFromFeedback(Learning):
    def test_feedback_changes_later_decisions(self):
        port = h.free_port()
        d = self.daemon(config={"retrain_every": 40, "metrics": "127.0.0.1:%d" % port})
        sub, prod = h.Subscriber(d), h.Producer(d)
        self.addCleanup(sub.close)
        self.addCleanup(prod.close)
        probe = "honestly, your store is a %s and I am done" % WORD
        before = self.decide(d, sub, prod, "probe-1", "fresh-1", probe)
        labels_before = {h.label_name(l.label) for l in before.labels}
        self.assertNotIn("threat", labels_before, before)
        # The default model ran beside the rules, and says so.
        self.assertEqual(list(before.models), ["models/default.model"], before)

        r = send_feedback(d, write_jsonl(teaching_reviews(20, 20)))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["stored"], 40, r.stdout)
        st = d.wait_stats(lambda s: s["retrains"] + s["retrain_failures"] >= 1, timeout=120)
        self.assertEqual((st["retrains"], st["retrain_failures"]), (1, 0), d.log())
        model_path = os.path.join(d.data_dir, "models", "feedback.model")
        self.assertTrue(os.path.isfile(model_path), d.log())

        # The same text from another fresh customer: now a threat, by the
        # model, with the word as its evidence, and the action follows.
        after = self.decide(d, sub, prod, "probe-2", "fresh-2", probe)
        by_label = {h.label_name(l.label): l for l in after.labels}
        self.assertIn("threat", by_label, after)
        self.assertEqual(by_label["threat"].source, "model", after)
        self.assertTrue(by_label["threat"].model_scored, after)
        self.assertGreater(by_label["threat"].model_score, 0.5, after)
        ev = [e for e in after.model_evidence if h.label_name(e.label) == "threat"]
        self.assertTrue(any(WORD in e.ngram for e in ev), after)
        for e in ev:  # spans index the original text
            self.assertEqual(probe.encode()[e.start:e.end].decode(), e.ngram)
        self.assertEqual(list(after.models), ["models/default.model", model_path], after)
        self.assertNotEqual(after.action, before.action, (before, after))
        self.assertEqual(h.action_name(after.action), "PROTECT_EMPLOYEE", after)
        # A similar phrase it has not seen whole.
        other = self.decide(d, sub, prod, "probe-3", "fresh-3",
                            "what a %s that delivery was" % WORD)
        self.assertIn("threat", {h.label_name(l.label) for l in other.labels}, other)
        # Unrelated text keeps its decision.
        calm = self.decide(d, sub, prod, "probe-4", "fresh-4", "the order arrived on time, thanks")
        self.assertNotIn("threat", {h.label_name(l.label) for l in calm.labels}, calm)

        # complaintctl retrain: answered when it ends, with what it used.
        r = h.complaintctl(["retrain", "--control", d.control])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual((out["ok"], out["feedback"]), (True, 40), out)
        self.assertEqual(d.stats()["retrains"], 2)
        body = urllib.request.urlopen("http://127.0.0.1:%d/metrics" % port, timeout=5).read().decode()
        self.assertIn('complaintd_retrains_total{outcome="ok"} 2\n', body)
        self.assertIn('complaintd_retrains_total{outcome="failed"} 0\n', body)

        # A restart takes the feedback model up from the data directory.
        d.stop()
        d.config["metrics"] = "off"
        d.start(same_ports=True)
        sub2 = h.Subscriber(d)
        self.addCleanup(sub2.close)
        again = self.decide(d, sub2, prod, "probe-5", "fresh-5", probe)
        self.assertIn("threat", {h.label_name(l.label) for l in again.labels}, again)
        self.assertIn("feedback model", d.log())

    def test_too_little_feedback_is_skipped_and_forget_erases_it(self):
        d = self.daemon(config={"retrain_every": 0})
        r = send_feedback(d, write_jsonl(teaching_reviews(3, 3)))
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(d.stats()["feedback_stored"], 6)  # retrain_every 0: no retrain by itself
        r = h.complaintctl(["retrain", "--control", d.control])
        out = json.loads(r.stdout)
        self.assertTrue(out["ok"] and out["skipped"], out)
        st = d.stats()
        self.assertEqual((st["retrains"], st["retrain_skipped"]), (0, 1), st)
        self.assertFalse(os.path.exists(os.path.join(d.data_dir, "models", "feedback.model")))
        for n, c in enumerate(("rev-c0", "rev-d0")):
            f = json.loads(h.complaintctl(["forget", c, "--data-dir", d.data_dir,
                                           "--control", d.control]).stdout)
            self.assertEqual(f["feedback_erased"], 1, f)
            # A forget that erased reviews retrains without them, by itself.
            st = d.wait_stats(lambda s: s["retrain_skipped"] == 2 + n, timeout=60)
            self.assertEqual(st["retrain_skipped"], 2 + n, st)
        out = json.loads(h.complaintctl(["retrain", "--control", d.control]).stdout)
        self.assertEqual(out["feedback"], 4, out)  # the retrain reads what forget left


    def test_retrain_reads_every_review(self):
        """More reviews than one read transaction takes (512): all are used."""
        d = self.daemon(config={"retrain_every": 0})
        r = send_feedback(d, write_jsonl(teaching_reviews(600, 600)))
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(h.complaintctl(["retrain", "--control", d.control]).stdout)
        self.assertEqual((out["ok"], out["feedback"], out["labels"]), (True, 1200, 1), out)


class TestModelReload(Learning):
    def test_bad_model_refused_by_name_old_kept(self):
        tmp = h.make_tempdir("models-")
        good = os.path.join(tmp, "good.model")
        shutil.copy(os.path.join(h.ROOT, "models", "default.model"), good)
        d = self.daemon(config={"model": good})
        sub, prod = h.Subscriber(d), h.Producer(d)
        self.addCleanup(sub.close)
        self.addCleanup(prod.close)
        m = self.decide(d, sub, prod, "r-1", "c-1", "you idiot, where is my parcel")
        self.assertEqual(list(m.models), [good])

        bad = os.path.join(tmp, "broken.model")
        with open(bad, "wb") as f:
            f.write(b"CPLMODEL\x07\x00\x00\x00 not a model at all")
        with open(d.config_path, "a") as f:
            f.write("model = %s\n" % bad)
        r = h.complaintctl(["reload", "--control", d.control])
        self.assertEqual(r.returncode, 1, r.stdout)
        out = json.loads(r.stdout)
        self.assertFalse(out["ok"])
        self.assertIn("broken.model", out["error"])
        self.assertEqual(d.stats()["reload_failures"], 1)
        m = self.decide(d, sub, prod, "r-2", "c-2", "you idiot, where is my parcel")
        self.assertEqual(list(m.models), [good], "the running model must stay")

        # model = none: the rules alone, after a reload.
        with open(d.config_path, "w") as f:
            f.write("cache_dir = %s\nmetrics = off\nmodel = none\n" % h.RULE_CACHE)
        r = h.complaintctl(["reload", "--control", d.control])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(json.loads(r.stdout)["models"], 0)
        m = self.decide(d, sub, prod, "r-3", "c-3", "you idiot, where is my parcel")
        self.assertEqual(list(m.models), [])
        self.assertEqual(len(m.model_evidence), 0)

    def test_bad_model_at_start_is_a_config_error(self):
        bad = os.path.join(h.make_tempdir("models-"), "truncated.model")
        with open(os.path.join(h.ROOT, "models", "default.model"), "rb") as f:
            data = f.read()
        with open(bad, "wb") as f:
            f.write(data[: len(data) // 2])
        d = h.Daemon(config={"model": bad})
        self.addCleanup(d.kill)
        with self.assertRaises(h.DaemonError):
            d.start()
        self.assertEqual(d.proc.returncode, 2, d.log())
        self.assertIn("truncated.model", d.log())
        # --check-config says the same without starting.
        conf = os.path.join(h.make_tempdir("conf-"), "c.conf")
        with open(conf, "w") as f:
            f.write("cache_dir = %s\nmodel = %s\n" % (h.RULE_CACHE, bad))
        r = h.subprocess.run([h.COMPLAINTD, "--check-config", "--config", conf, "--rules", h.RULES],
                             cwd=h.ROOT, capture_output=True, text=True, timeout=120)
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("truncated.model", r.stderr)


if __name__ == "__main__":
    unittest.main()
