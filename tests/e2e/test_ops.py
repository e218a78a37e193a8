"""
End-to-end tests of what an operator meets (issue 16): logs, rate-limited
reject summaries, acked ingest from a REQ socket, send --acked with bad
lines, forget through the running daemon, reload naming the keys that need
a restart, and the example config being --print-config's output.

  TestRejectSummary   500 bad events give one summary with counts by reason
                      (not 500 lines) while good events keep being decided;
                      a short window flushes while the daemon runs
  TestJsonLog         log_format = json: every stderr line is an object with
                      ts, level and msg
  TestAckedReq        a real REQ socket on the acked endpoint gets an Ack per
                      event (DECIDED, REJECTED), nothing is lost
  TestSendAckedBadLines   send --acked sends the good lines, names the bad
                      one (file:line), exits 2
  TestForgetThroughDaemon forget via --control and via --config: the writer
                      thread does it; history shows nothing; no seq gap
  TestReloadRestartKeys   a reload names the changed keys that need a restart
  TestConfigExample   config/complaintd.conf.example is --print-config output

Run: COMPLAINTD_BUILD=build /usr/bin/python3 -m unittest -v test_ops
(from tests/e2e), or through CTest (tests/e2e/CMakeLists.txt).
"""
import json
import os
import re
import signal
import subprocess
import sys
import tempfile
import unittest

import zmq

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_harness as h  # noqa: E402
from test_end_to_end import E2ETestCase  # noqa: E402

TS0 = 1_700_000_000_000
DEFECT = "The blender stopped working after three days, I want a refund"
SERVICE = "The cashier ignored me for ten minutes and then walked away"
RFC3339 = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z (error|warn|info|debug) ")


def good(i, customer="c-%d", text=DEFECT):
    return h.event_bytes(event_id="ok-%d" % i, customer_id=customer % i if "%" in customer else customer,
                         text=text, channel="chat", ts_ms=TS0 + i)


def summaries(d):
    return [l for l in d.lines if re.search(r" rejected \d+ events? in \d+ s:", l)]


def counts(line):
    """{'empty text': 312, ...} from a summary line."""
    body = re.search(r"in \d+ s: (.*?)( \(first: .*\))?( events=.*)?$", line).group(1)
    out = {}
    for part in body.split(", "):
        name, n = part.rsplit(" ", 1)
        out[name] = int(n)
    return out


class TestRejectSummary(E2ETestCase):

    def test_500_bad_events_give_one_summary_and_good_ones_are_decided(self):
        d = self.daemon(config={"reject_log_interval_s": 3600})
        sub = self.subscriber(d)
        push = self.producer(d)
        n_good = 0
        for i in range(500):
            if i % 5 < 3:   # 300: a well-formed event with no text
                push.send(h.event_bytes(event_id="bad-%d" % i, customer_id="c", text=""))
            else:           # 200: bytes that are no ComplaintEvent
                push.send(b"\xff\xfe not a protobuf %d" % i)
            if i % 50 == 0:
                push.send(good(i))
                n_good += 1
        for i in range(900, 903):  # multi-part: the first frame is the event
            push.sock.send_multipart([good(i), b"extra", b"frames"])
        got = sub.collect(500 + n_good + 3)
        decided = [x for x in got if x.msg.action != 0]
        self.assertEqual(sorted(x.msg.event_id for x in decided),
                         sorted(["ok-%d" % i for i in range(0, 500, 50)] + ["ok-900", "ok-901", "ok-902"]))
        # No line per reject: nothing was logged yet (the window is an hour).
        self.assertEqual(summaries(d), [], d.log())
        self.assertFalse(any("bad-1" in l for l in d.lines), "a reject logged on its own line")
        d.stop()  # flushes the open window
        lines = summaries(d)
        self.assertEqual(len(lines), 1, d.log())
        self.assertIn("rejected 500 events in", lines[0])
        self.assertEqual(counts(lines[0]), {"empty text": 300, "malformed protobuf": 200})
        self.assertRegex(lines[0], RFC3339)
        multi = [l for l in d.lines if "ignored the extra frames of" in l]
        self.assertEqual(len(multi), 1, d.log())
        self.assertIn("ignored the extra frames of 3 events in", multi[0])

    def test_a_short_window_flushes_while_running(self):
        d = self.daemon(config={"reject_log_interval_s": 1})
        sub = self.subscriber(d)
        push = self.producer(d)
        for i in range(7):
            push.send(h.event_bytes(event_id="bad-%d" % i, customer_id="", text="x"))
        sub.collect(7)
        d.wait_log(lambda text: sum(sum(counts(l).values()) for l in summaries(d)) == 7, timeout=30)
        total = sum(sum(counts(l).values()) for l in summaries(d))
        self.assertEqual(total, 7, d.log())
        self.assertTrue(all(set(counts(l)) == {"missing customer_id"} for l in summaries(d)), d.log())
        self.assertTrue(d.alive())
        push.send(good(1))
        self.assertNotEqual(sub.collect(1)[0].msg.action, 0)
        d.stop()


class TestJsonLog(E2ETestCase):

    def test_every_line_is_an_object_with_ts_level_msg(self):
        d = self.daemon(config={"log_format": "json", "reject_log_interval_s": 3600})
        sub = self.subscriber(d)
        push = self.producer(d)
        push.send(h.event_bytes(event_id="e1", customer_id="c", text=""))
        sub.collect(1)
        d.stop()
        objs = [json.loads(l) for l in d.lines]  # raises on a line that is not JSON
        self.assertGreater(len(objs), 3)
        for o in objs:
            self.assertRegex(o["ts"], r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\d\.\d{3}Z$")
            self.assertIn(o["level"], ("error", "warn", "info", "debug"))
            self.assertIsInstance(o["msg"], str)
        self.assertIn("ready", [o["msg"] for o in objs])
        summary = [o for o in objs if o["msg"].startswith("rejected ")]
        self.assertEqual(len(summary), 1, d.log())
        self.assertEqual(summary[0]["events"], 1)
        self.assertEqual(summary[0]["level"], "warn")

    def test_text_lines_carry_time_and_level_and_verbose_shows_debug(self):
        d = self.daemon(extra_args=["--verbose"])
        d.ping()
        d.stop()
        lines = [l for l in d.lines if l != "ready"]
        bad = [l for l in lines if not RFC3339.match(l)]
        self.assertEqual(bad, [], d.log())
        self.assertTrue(any(" debug control: ping" in l for l in lines), d.log())


class TestAckedReq(E2ETestCase):

    def test_req_client_gets_an_ack_per_event(self):
        d = self.daemon()
        sub = self.subscriber(d)
        s = zmq.Context.instance().socket(zmq.REQ)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, 10000)
        s.connect(d.ingest_acked)
        self.addCleanup(s.close)
        pb = h.pb()
        acks = []
        for payload in (good(1), h.event_bytes(event_id="r-2", customer_id="c", text=""), good(3)):
            s.send(payload)
            ack = pb.Ack()
            ack.ParseFromString(s.recv())
            acks.append(ack)
        self.assertEqual([a.event_id for a in acks], ["ok-1", "r-2", "ok-3"])
        self.assertEqual([pb.Ack.Status.Name(a.status) for a in acks], ["DECIDED", "REJECTED", "DECIDED"])
        self.assertEqual(acks[1].reason, "empty text")
        self.assertEqual([a.seq for a in acks], [1, 2, 3])
        got = sub.collect(3)
        self.assertEqual([x.msg.event_id for x in got], ["ok-1", "r-2", "ok-3"])
        # The DEALER path still answers without a delimiter.
        dealer = zmq.Context.instance().socket(zmq.DEALER)
        dealer.setsockopt(zmq.LINGER, 0)
        dealer.setsockopt(zmq.RCVTIMEO, 10000)
        dealer.connect(d.ingest_acked)
        self.addCleanup(dealer.close)
        dealer.send(good(4))
        frames = dealer.recv_multipart()
        self.assertEqual(len(frames), 1)
        ack = pb.Ack()
        ack.ParseFromString(frames[0])
        self.assertEqual((ack.event_id, ack.seq), ("ok-4", 4))
        d.stop()


class TestSendAckedBadLines(E2ETestCase):

    def test_good_lines_are_sent_and_the_bad_one_is_named(self):
        d = self.daemon()
        sub = self.subscriber(d)
        path = os.path.join(h.make_tempdir("input-"), "events.jsonl")
        with open(path, "w") as f:
            f.write(json.dumps({"event_id": "a1", "customer_id": "c1", "text": DEFECT}) + "\n")
            f.write("{this is not json\n")
            f.write(json.dumps({"event_id": "a3", "customer_id": "c3", "text": SERVICE}) + "\n")
            f.write(json.dumps({"event_id": "a1", "customer_id": "c9", "text": SERVICE}) + "\n")
        r = h.complaintctl(["send", "--acked", "--ingest-acked", d.ingest_acked, path])
        self.assertEqual(r.returncode, 2, r.stderr)
        self.assertIn("%s:2:" % path, r.stderr)
        self.assertIn("%s:4: event_id 'a1' repeats line 1; not sent" % path, r.stderr)
        self.assertIn("2 events: 2 decided", r.stderr)
        got = sub.collect(2)
        self.assertEqual(sorted(x.msg.event_id for x in got), ["a1", "a3"])
        self.assertEqual(d.stats()["decided"], 2)
        d.stop()


def tail_seqs(d, n):
    r = h.complaintctl(["tail", "--control", d.control, "--publish", d.publish, "--from", "1",
                        "--count", str(n), "--timeout", "4000"])
    return [json.loads(l) for l in r.stdout.splitlines() if l.strip()]


class TestForgetThroughDaemon(E2ETestCase):

    def test_forget_goes_through_the_writer(self):
        d = self.daemon()
        sub = self.subscriber(d)
        push = self.producer(d)
        for i, cust in enumerate(["forget-me-7781", "stays", "forget-me-7781", "other"]):
            push.send(h.event_bytes(event_id="f-%d" % i, customer_id=cust, text=DEFECT, ts_ms=TS0 + i))
        sub.collect(4)
        r = h.complaintctl(["forget", "forget-me-7781", "--data-dir", d.data_dir, "--control", d.control])
        self.assertEqual(r.returncode, 0, r.stderr)
        out = json.loads(r.stdout)
        self.assertEqual(out, {"customer_id": "forget-me-7781", "history_erased": True,
                               "decisions_redacted": 2, "feedback_erased": 0})
        self.assertIsNone(h.history("forget-me-7781", d.data_dir))
        self.assertEqual(h.history("stays", d.data_dir)["events"], 1)
        self.assertTrue(d.wait_log(lambda t: "forget: a customer's history erased, 2 decision(s)" in t))
        self.assertNotIn("forget-me-7781", d.log(), "the log must not keep the forgotten id")
        logged = tail_seqs(d, 4)
        self.assertEqual([x["seq"] for x in logged], [1, 2, 3, 4])
        self.assertEqual([x["customer_id"] for x in logged], ["", "stays", "", "other"])
        # Found by --config (its control endpoint and the daemon's data_dir):
        conf = os.path.join(h.make_tempdir("ctl-"), "c.conf")
        with open(conf, "w") as f:
            f.write("control = %s\n" % d.control)
        r = h.complaintctl(["forget", "stays", "--data-dir", d.data_dir, "--config", conf])
        self.assertEqual(r.returncode, 0, r.stderr)
        self.assertEqual(json.loads(r.stdout)["decisions_redacted"], 1)
        self.assertTrue(d.wait_log(lambda t: t.count("forget: a customer's history erased") == 2))
        self.assertIsNone(h.history("stays", d.data_dir))
        # The daemon keeps deciding, with no gap in seq.
        push.send(h.event_bytes(event_id="f-9", customer_id="forget-me-7781", text=DEFECT, ts_ms=TS0 + 9))
        self.assertEqual(sub.collect(1)[0].msg.seq, 5)
        # A daemon that does not answer is an error when --control names it.
        r = h.complaintctl(["forget", "x", "--data-dir", d.data_dir, "--control", "tcp://127.0.0.1:1"])
        self.assertEqual(r.returncode, 1)
        self.assertIn("no answer", r.stderr)
        d.stop()
        self.assertEqual(h.history("forget-me-7781", d.data_dir)["events"], 1)

    def test_direct_write_beside_a_daemon_is_refused(self):
        """No --control and no config naming the daemon: the store's lock
        says a daemon holds it, so complaintctl refuses to be a second writer."""
        d = self.daemon()
        sub = self.subscriber(d)
        push = self.producer(d)
        push.send(h.event_bytes(event_id="g-1", customer_id="kept-4410", text=DEFECT, ts_ms=TS0))
        sub.collect(1)
        r = h.complaintctl(["forget", "kept-4410", "--data-dir", d.data_dir])
        self.assertEqual(r.returncode, 1, r.stdout + r.stderr)
        self.assertIn("held by a running complaintd (pid %d)" % d.proc.pid, r.stderr)
        d.stop()
        self.assertEqual(h.history("kept-4410", d.data_dir)["events"], 1)

    def test_bad_request_is_an_error_reply(self):
        d = self.daemon()
        self.assertIn(b"usage: forget CUSTOMER_ID", d.request("forget "))
        info = json.loads(d.request("info"))
        self.assertEqual(info["data_dir"], os.path.realpath(d.data_dir))
        self.assertEqual(info["pid"], d.proc.pid)
        d.stop()


class TestReloadRestartKeys(E2ETestCase):

    def test_reload_names_keys_that_need_a_restart(self):
        d = self.daemon(config={"toxicity_limit": 3})
        with open(d.config_path, "a") as f:
            f.write("log_format = json\nbatch_size = 500\n")
        with open(d.config_path) as f:
            text = f.read().replace("toxicity_limit = 3", "toxicity_limit = 4")
        with open(d.config_path, "w") as f:
            f.write(text)
        r = h.complaintctl(["reload", "--control", d.control])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        reply = json.loads(r.stdout)
        self.assertTrue(reply["ok"])
        self.assertEqual(reply["restart_needed"], ["batch_size", "log_format"])
        self.assertIn("need a restart: batch_size log_format\n", r.stderr)
        self.assertTrue(d.wait_log(lambda t: "batch_size log_format changed in" in t), d.log())
        # A clean file: nothing to report.
        with open(d.config_path, "w") as f:
            f.write(text.replace("log_format = json\nbatch_size = 500\n", ""))
        reply = json.loads(h.complaintctl(["reload", "--control", d.control]).stdout)
        self.assertEqual(reply["restart_needed"], [])
        d.stop()

    def test_duplicate_table_key_is_exit_2_naming_the_line(self):
        d = h.Daemon(config={"matrix.refund_request": 1, "matrix.refund_request.channel:chat.repeat:2": 2,
                             "tier.2": 1600})
        self.addCleanup(d.kill)
        # The same cell, its conditions in another order, on line 6 (the
        # harness adds cache_dir and metrics on lines 4 and 5).
        d.config["matrix.refund_request.repeat:2.channel:chat"] = 3
        with self.assertRaises(h.DaemonError):
            d.start()
        self.assertEqual(d.proc.returncode, 2, d.log())
        self.assertIn("complaintd.conf:6: matrix.refund_request.repeat:2.channel:chat is duplicate "
                      "(first set on line 2)", d.log())

    def test_bad_endpoint_and_metrics_address_name_the_line(self):
        for key, bad, want in (("publish", "tcp://127.0.0.1", "want tcp://HOST:PORT"),
                               ("metrics", "localhost:http", "want HOST:PORT")):
            d = h.Daemon(config={"durable": 1, key: bad})
            self.addCleanup(d.kill)
            with self.assertRaises(h.DaemonError):
                d.start()
            self.assertEqual(d.proc.returncode, 2, d.log())
            self.assertIn("complaintd.conf:2: %s = %s: %s" % (key, bad, want), d.log())


class TestConfigExample(unittest.TestCase):

    def test_example_is_print_config_output(self):
        example = os.path.join(h.ROOT, "config", "complaintd.conf.example")
        with open(example) as f:
            text = f.read()
        header, _, body = text.partition("\n\n")
        self.assertIn("complaintd --print-config", header)
        self.assertTrue(all(l.startswith("#") for l in header.splitlines()), header)
        out = subprocess.run([h.COMPLAINTD, "--print-config"], capture_output=True, text=True,
                             check=True, timeout=30).stdout
        self.maxDiff = None
        self.assertEqual(body, out, "regenerate with scripts/gen-config-example")
        # And it is a config the daemon accepts as it is.
        r = subprocess.run([h.COMPLAINTD, "--config", example, "--print-config"], capture_output=True,
                           text=True, timeout=30)
        self.assertEqual((r.returncode, r.stdout), (0, out), r.stderr)


EXAMPLES = os.path.join(h.ROOT, "scripts", "examples")


class TestExamples(E2ETestCase):
    """scripts/examples/producer.py and consumer.py against the real daemon;
    the consumer starts late, so the first decisions reach it only by
    replay: a gap it must find and fill."""

    def write_events(self, path, ids, bad_line=None):
        with open(path, "w") as f:
            for n, i in enumerate(ids):
                if bad_line is not None and n == bad_line:
                    f.write('{"event_id": "no-text", "customer_id": "c"}\n')
                f.write(json.dumps({"event_id": "x-%d" % i, "customer_id": "c-%d" % (i % 4),
                                    "text": DEFECT if i % 2 else SERVICE, "channel": "chat",
                                    "ts_ms": TS0 + i}) + "\n")

    def produce(self, d, path):
        return subprocess.run([sys.executable, os.path.join(EXAMPLES, "producer.py"),
                               "--endpoint", d.ingest_acked, path],
                              capture_output=True, text=True, timeout=120)

    def test_producer_and_consumer_fill_the_gap(self):
        d = self.daemon()
        tmp = h.make_tempdir("examples-")
        first = os.path.join(tmp, "first.jsonl")
        self.write_events(first, range(20), bad_line=5)
        r = self.produce(d, first)
        self.assertEqual(r.returncode, 2, r.stderr)  # the bad line
        self.assertIn("%s:6: text: want a non-empty string" % first, r.stderr)
        acks = [json.loads(l) for l in r.stdout.splitlines()]
        self.assertEqual(sorted(a["seq"] for a in acks), list(range(1, 21)))
        self.assertEqual({a["status"] for a in acks}, {"DECIDED"})
        # The consumer starts now, wanting seq 1: 1..20 were published before
        # it subscribed.
        consumer = subprocess.Popen([sys.executable, os.path.join(EXAMPLES, "consumer.py"),
                                     "--publish", d.publish, "--control", d.control,
                                     "--from", "1", "--count", "30"],
                                    stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(consumer.kill)
        second = os.path.join(tmp, "second.jsonl")
        self.write_events(second, range(20, 30))
        r = self.produce(d, second)
        self.assertEqual(r.returncode, 0, r.stderr)
        out, err = consumer.communicate(timeout=60)
        self.assertEqual(consumer.returncode, 0, err)
        got = [json.loads(l) for l in out.splitlines()]
        self.assertEqual([g["seq"] for g in got], list(range(1, 31)), err)
        self.assertEqual([g["event_id"] for g in got], ["x-%d" % i for i in range(30)])
        self.assertRegex(err, r"consumer: gap 1\.\.\d+ filled by replay")
        d.stop()


if __name__ == "__main__":
    unittest.main()
