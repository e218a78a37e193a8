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
import uuid

import daemon_harness as h
from test_end_to_end import E2ETestCase

N = 3000
MARKER = "zorbleflux"  # a word no rule knows until the reload adds one


class TestHotReload(E2ETestCase):

    def assert_marker_rule_fires(self, d, marker):
        """The rule a reload added is in force: an event with its word matches it."""
        sub = self.subscriber(d)
        push = self.producer(d)
        push.send(h.event_bytes(event_id="after", customer_id="x", channel="chat", lang="en",
                                text="simply %s, thanks" % marker))
        dec = sub.collect(1)[0].msg
        self.assertIn("gratitude.en.reload_marker", [m.rule_id for m in dec.matches])

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
        st = d.stats()
        self.assertEqual((st["reloads"], st["reload_failures"]), (0, 1))
        os.remove(os.path.join(rules, "broken.en.rules"))

        # A good change, by command and by SIGHUP.
        with open(os.path.join(rules, "reload.en.rules"), "w") as f:
            f.write("rule gratitude.en.reload_marker\n  label gratitude\n  match %s\n" % MARKER)
        r = h.complaintctl(["reload", "--control", d.control])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertTrue(json.loads(r.stdout)["ok"])
        d.send_signal(signal.SIGHUP)

        # The command's reload and SIGHUP's, both swapped in.
        st = d.wait_stats(lambda s: s["reloads"] == 2, timeout=120)
        self.assertEqual((st["reloads"], st["reload_failures"]), (2, 1))
        out, err = producer.communicate(timeout=100)
        self.assertEqual(producer.returncode, 0, err)
        self.assertIn("%d decided, 0 duplicates, 0 rejected" % N, err)

        self.assert_marker_rule_fires(d, MARKER)

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

    def test_control_answers_during_reload(self):
        """A reload that compiles runs beside the control endpoint: ping and
        stats are answered before it ends, and a second reload asked for
        meanwhile is served by one more reload after it."""
        rules = os.path.join(tempfile.mkdtemp(prefix="reload-"), "rules")
        shutil.copytree(h.RULES, rules)
        d = self.daemon(extra_args=["--rules", rules])
        # A word never seen before, so that no cached database fits the pack.
        marker = "zq" + uuid.uuid4().hex[:12]
        with open(os.path.join(rules, "reload.en.rules"), "w") as f:
            f.write("rule gratitude.en.reload_marker\n  label gratitude\n  match %s\n" % marker)
        reload_cmd = [h.COMPLAINTCTL, "reload", "--control", d.control]
        first = subprocess.Popen(reload_cmd, stdout=subprocess.PIPE, stderr=subprocess.PIPE,
                                 text=True)
        self.addCleanup(first.kill)
        # The daemon logs "reloading" when a reload starts and "reload:" once
        # it has swapped the pack in. In between, ping and stats must be
        # answered, again and again. (Before the reloader thread, the first
        # ping after "reloading" waited for the whole compile, so at most one
        # could be counted: the log's reader thread may trail by a moment.)
        d.wait_log(lambda text: "reloading" in text, timeout=10)
        answered_during, second = 0, None
        deadline = time.monotonic() + 120
        while "reload:" not in d.log() and time.monotonic() < deadline:
            self.assertEqual(d.ping(), b"pong")
            self.assertIn("last_seq", d.stats())
            if "reload:" in d.log():
                break
            answered_during += 1
            if second is None:  # asked during the first reload
                second = subprocess.Popen(reload_cmd, stdout=subprocess.PIPE,
                                          stderr=subprocess.PIPE, text=True)
                self.addCleanup(second.kill)
            time.sleep(0.05)
        self.assertGreaterEqual(answered_during, 3, "too few pings answered while the reload compiled")
        out, err = first.communicate(timeout=120)
        out2, err2 = second.communicate(timeout=120)
        for r, o, e in ((first, out, err), (second, out2, err2)):
            self.assertEqual(r.returncode, 0, o + e)
            self.assertTrue(json.loads(o)["ok"], o)
        self.assertFalse(json.loads(out)["from_cache"], out)
        # The second was asked after the first had read the files: it got a
        # reload of its own (from the cache the first one wrote).
        log = d.wait_log(lambda text: text.count("reload:") >= 2)
        self.assertEqual(log.count("reload:"), 2, log)
        self.assertTrue(json.loads(out2)["from_cache"], out2)
        self.assert_marker_rule_fires(d, marker)
        d.stop(signal.SIGTERM)


if __name__ == "__main__":
    unittest.main()
