"""
End-to-end tests of complaintd's Prometheus metrics (GET /metrics over HTTP)
and of `complaintctl stats --watch`.

  TestMetrics   scrape, send a known stream, scrape again: the counters moved
                by exactly the number of events (received, decided, rejected,
                per action and per label, as the published decisions say), the
                histograms' counts moved, the rules that fired have hits;
                404 elsewhere; the exposition is well-formed
  TestMetricsConfig   a malformed address is exit 2 before start-up, a port
                in use is exit 1 naming the address, "off" serves nothing
  TestStatsWatch      complaintctl stats --watch --count N prints N samples
                with rates once events flow

Run: COMPLAINTD_BUILD=build /usr/bin/python3 -m unittest -v test_metrics
(from tests/e2e), or through CTest (tests/e2e/CMakeLists.txt).
"""
import collections
import json
import math
import os
import re
import socket
import sys
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_harness as h  # noqa: E402
from test_end_to_end import E2ETestCase  # noqa: E402

TS0 = 1_700_000_000_000

# Texts chosen to fire rules of several families and give several actions.
TEXTS = [
    ("ru", "chat", "Ты тупая что ли? Я тебе уже третий раз объясняю, дура!"),
    ("ru", "email", "Мой юрист уже подготовил претензию. Если ответа не будет в течение десяти дней, "
                    "встретимся в суде."),
    ("ru", "email", "Купила чайник неделю назад, он протекает и не выключается. Прошу вернуть деньги."),
    ("uk", "email", "Щиро дякую Оксані з відділу видачі, допомогла швидко і ввічливо!"),
    ("pl", "chat", "Jesteś głupia czy tylko udajesz? Ile razy mam ci tłumaczyć, idiotko?"),
    ("en", "chat", "Give me a 50% discount or I will post a review everywhere that you cheat people."),
    ("en", "review", "The kettle broke after a week. I want my money back."),
    ("en", "chat", "Hello, what time do you open on Sunday?"),
]

LINE = re.compile(r'^([a-zA-Z_:][a-zA-Z0-9_:]*)(\{[^}]*\})? (\S+)$')
HISTOGRAMS = ("complaintd_event_scan_seconds", "complaintd_commit_seconds", "complaintd_sync_seconds",
              "complaintd_event_latency_seconds", "complaintd_commit_batch_events")


def parse(text):
    """Exposition text -> ({'name{labels}': value}, {name: type}); raises on a bad line."""
    values, types = {}, {}
    for line in text.splitlines():
        if not line:
            continue
        if line.startswith("# TYPE "):
            _, _, name, typ = line.split(" ", 3)
            types[name] = typ
            continue
        if line.startswith("#"):
            continue
        m = LINE.match(line)
        if not m:
            raise AssertionError("not an exposition line: %r" % line)
        key = m.group(1) + (m.group(2) or "")
        if key in values:
            raise AssertionError("series %s twice" % key)
        values[key] = float(m.group(3))
    return values, types


def scrape(url, timeout=5.0):
    with urllib.request.urlopen(url, timeout=timeout) as r:
        body = r.read().decode("utf-8")
        return r.status, r.headers.get("Content-Type", ""), body


class TestMetrics(E2ETestCase):

    def test_counters_move_by_the_events_sent(self):
        port = h.free_port()
        url = "http://127.0.0.1:%d/metrics" % port
        d = self.daemon(config={"metrics": "127.0.0.1:%d" % port})
        status, ctype, body = scrape(url)
        self.assertEqual(status, 200)
        self.assertTrue(ctype.startswith("text/plain"), ctype)
        before, types = parse(body)
        for name in ("complaintd_events_received_total", "complaintd_events_decided_total",
                     "complaintd_events_rejected_total", "complaintd_decisions_total",
                     "complaintd_labels_total", "complaintd_commits_total",
                     "complaintd_reloads_total"):
            self.assertEqual(types.get(name), "counter", name)
        for name in HISTOGRAMS:
            self.assertEqual(types.get(name), "histogram", name)
        for name in ("complaintd_events_in_flight", "complaintd_lmdb_map_used_bytes",
                     "complaintd_lmdb_map_size_bytes", "complaintd_last_seq"):
            self.assertEqual(types.get(name), "gauge", name)
        self.assertEqual(types.get("complaintd_rule_hits_total"), "counter")
        self.assertGreater(before["complaintd_lmdb_map_size_bytes"], 0)

        sub = h.Subscriber(d)
        self.addCleanup(sub.close)
        push = h.Producer(d)
        self.addCleanup(push.close)
        n_good = 0
        for rep in range(3):
            for i, (lang, channel, text) in enumerate(TEXTS):
                push.send(h.event_bytes(event_id="m-%d-%d" % (rep, i), customer_id="mc-%d-%d" % (rep, i),
                                        text=text, channel=channel, lang=lang, ts_ms=TS0 + i))
                n_good += 1
        push.send(b"\xff\x00 not a protobuf")  # one reject
        n = n_good + 1
        got = sub.collect(n)

        # The stats follow the publication: wait until the last one is counted.
        deadline = time.monotonic() + 10
        while True:
            after, _ = parse(scrape(url)[2])
            moved = (after["complaintd_events_decided_total"] - before["complaintd_events_decided_total"]
                     + after["complaintd_events_rejected_total"] - before["complaintd_events_rejected_total"])
            if moved >= n or time.monotonic() > deadline:
                break
            time.sleep(0.05)

        def delta(key):
            return after.get(key, 0) - before.get(key, 0)

        self.assertEqual(delta("complaintd_events_received_total"), n)
        self.assertEqual(delta("complaintd_events_decided_total"), n_good)
        self.assertEqual(delta("complaintd_events_rejected_total"), 1)
        self.assertEqual(delta("complaintd_published_total"), n)
        self.assertEqual(after["complaintd_events_in_flight"], 0)
        self.assertEqual(after["complaintd_last_seq"], max(dec.msg.seq for dec in got))

        actions = collections.Counter(dec.topic for dec in got if dec.topic != "REJECT")
        labels = collections.Counter(h.label_name(l.label) for dec in got for l in dec.msg.labels)
        self.assertGreater(len(actions), 2, "the stream should give several actions: %r" % actions)
        for action in ("END_RELATIONSHIP", "PROTECT_EMPLOYEE", "ESCALATE_CENTRAL", "HOLD_LINE",
                       "RESOLVE_LOCAL", "ACKNOWLEDGE"):
            self.assertEqual(delta('complaintd_decisions_total{action="%s"}' % action), actions[action],
                             action)
        for label, count in labels.items():
            self.assertEqual(delta('complaintd_labels_total{label="%s"}' % label), count, label)

        commits = delta("complaintd_commits_total")
        self.assertGreaterEqual(commits, 1)
        # Every event is scanned once (rejects too, up to where they fail)
        # and published once; every commit is timed and sized.
        self.assertEqual(delta("complaintd_event_scan_seconds_count"), n)
        self.assertEqual(delta("complaintd_event_latency_seconds_count"), n)
        self.assertEqual(delta("complaintd_commit_seconds_count"), commits)
        self.assertEqual(delta("complaintd_commit_batch_events_count"), commits)
        self.assertEqual(delta("complaintd_commit_batch_events_sum"), n)
        # The publisher flushes before it sends; groups queued behind one
        # flush share it, so there are at most as many flushes as commits.
        self.assertGreaterEqual(delta("complaintd_sync_seconds_count"), 1)
        self.assertLessEqual(delta("complaintd_sync_seconds_count"), commits)
        self.assertGreater(delta("complaintd_event_latency_seconds_sum"), 0)
        # The latency cut at the hand-offs: every event in each stage once,
        # and the stages add up to the whole, event by event.
        stage_sum = 0.0
        for stage in ("labelled", "committed", "published"):
            key = 'complaintd_event_stage_seconds_%%s{stage="%s"}' % stage
            self.assertEqual(delta(key % "count"), n, stage)
            stage_sum += delta(key % "sum")
        self.assertGreater(delta('complaintd_event_stage_seconds_sum{stage="committed"}'), 0)
        self.assertAlmostEqual(stage_sum, delta("complaintd_event_latency_seconds_sum"), delta=1e-5)
        self.assertEqual(types.get("complaintd_event_stage_seconds"), "histogram")
        for name in HISTOGRAMS:
            buckets = sorted(((float(re.search(r'le="([^"]+)"', k).group(1)), v)
                              for k, v in after.items() if k.startswith(name + "_bucket{")))
            self.assertEqual(buckets[-1][0], float("inf"), name)
            self.assertEqual(buckets[-1][1], after[name + "_count"], name)
            counts = [v for _, v in buckets]
            self.assertEqual(counts, sorted(counts), "%s buckets are not cumulative" % name)
        for stage in ("labelled", "committed", "published"):
            prefix = 'complaintd_event_stage_seconds_bucket{stage="%s",le=' % stage
            buckets = sorted((float(re.search(r'le="([^"]+)"', k).group(1)), v)
                             for k, v in after.items() if k.startswith(prefix))
            self.assertEqual(len(buckets), 28, stage)
            self.assertEqual(buckets[-1][1], after['complaintd_event_stage_seconds_count{stage="%s"}' % stage])

        # Every rule that a decision names fired at least that many times.
        named = collections.Counter(m.rule_id for dec in got for m in dec.msg.matches)
        self.assertTrue(named, "no decision names a rule")
        for rule, count in named.items():
            self.assertGreaterEqual(delta('complaintd_rule_hits_total{rule="%s"}' % rule), count, rule)
        self.assertGreaterEqual(
            sum(v for k, v in after.items() if k.startswith("complaintd_rule_hits_total{"))
            - sum(v for k, v in before.items() if k.startswith("complaintd_rule_hits_total{")),
            sum(named.values()))

        # The map holds what was written.
        self.assertGreater(after["complaintd_lmdb_map_used_bytes"], 0)
        self.assertLessEqual(after["complaintd_lmdb_map_used_bytes"], after["complaintd_lmdb_map_size_bytes"])

        # Other paths are not found; the control stats agree.
        with self.assertRaises(urllib.error.HTTPError) as cm:
            scrape("http://127.0.0.1:%d/" % port)
        self.assertEqual(cm.exception.code, 404)
        st = d.stats()
        self.assertEqual(st["decided"], after["complaintd_events_decided_total"])
        # Every fired rule's span was found (span.c and the chain join agree with the scan).
        self.assertEqual((st["span_misses"], after["complaintd_span_misses_total"]), (0, 0))

        # A reload (the same pack: from the cache) counts as ok.
        r = h.complaintctl(["reload", "--control", d.control])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        reloaded, _ = parse(scrape(url)[2])
        self.assertEqual(reloaded['complaintd_reloads_total{outcome="ok"}']
                         - after['complaintd_reloads_total{outcome="ok"}'], 1)
        self.assertEqual(reloaded['complaintd_reloads_total{outcome="refused"}'], 0)
        d.stop()


class TestMetricsConfig(E2ETestCase):

    def test_malformed_address_is_exit_2(self):
        for bad in ("9560", "127.0.0.1:", "127.0.0.1:99999", "nonsense:12"):
            d = h.Daemon(config={"metrics": bad})
            self.addCleanup(d.kill)
            with self.assertRaises(h.DaemonError):
                d.start()
            self.assertEqual(d.proc.returncode, 2, d.log())
            self.assertIn(bad, d.log())

    def test_port_in_use_is_exit_1_naming_the_address(self):
        s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
        s.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        s.bind(("127.0.0.1", 0))
        s.listen(1)
        self.addCleanup(s.close)
        addr = "127.0.0.1:%d" % s.getsockname()[1]
        d = h.Daemon(config={"metrics": addr})
        self.addCleanup(d.kill)
        with self.assertRaises(h.DaemonError):
            d.start()
        self.assertEqual(d.proc.returncode, 1, d.log())
        self.assertIn(addr, d.log())

    def test_off_serves_nothing(self):
        d = self.daemon(config={"metrics": "off"})
        self.assertIn("pong", d.ping().decode())
        self.assertFalse(any("metrics on" in line for line in d.lines), d.log())
        d.stop()


class TestStatsWatch(E2ETestCase):

    def test_watch_prints_rates(self):
        d = self.daemon()
        push = h.Producer(d)
        self.addCleanup(push.close)
        sub = h.Subscriber(d)
        self.addCleanup(sub.close)
        for i, (lang, channel, text) in enumerate(TEXTS):
            push.send(h.event_bytes(event_id="w-%d" % i, customer_id="wc-%d" % i, text=text,
                                    channel=channel, lang=lang, ts_ms=TS0 + i))
        sub.collect(len(TEXTS))
        d.wait_stats(lambda st: st["decided"] == len(TEXTS))
        r = h.complaintctl(["stats", "--watch", "--interval", "100", "--count", "3",
                            "--control", d.control], timeout=30)
        self.assertEqual(r.returncode, 0, r.stderr)
        lines = r.stdout.splitlines()  # not a terminal: one line per sample
        self.assertEqual(len(lines), 3, r.stdout)
        self.assertNotIn("\033[", r.stdout)
        self.assertIn("received=%d " % len(TEXTS), lines[0])
        self.assertIn("decided/s=- ", lines[0])       # no rate before a second sample
        self.assertRegex(lines[-1], r"decided/s=0\.0 ")  # nothing new since
        self.assertRegex(lines[-1], r"ACKNOWLEDGE=\d+ ACKNOWLEDGE/s=")
        # Latency percentiles: the first sample's from the start (the events
        # above), later ones' from what changed since (nothing): bucket
        # bounds, powers of two in microseconds.
        for name in ("latency", "labelled", "committed", "published"):
            m = re.search(r" %s_p99_ms=(\S+) " % name, lines[0])
            self.assertIsNotNone(m, lines[0])
            us = float(m.group(1)) * 1000
            self.assertEqual(us, 2 ** round(math.log2(us)), lines[0])
            self.assertIn(" %s_p99_ms=- " % name, lines[-1])
        # The stats reply carries the histograms' counts: every published
        # event once in the whole and once in each stage.
        st = json.loads(h.complaintctl(["stats", "--control", d.control]).stdout)
        for name, counts in st["latency_us_buckets"].items():
            self.assertEqual(len(counts), 28, name)
            self.assertEqual(sum(counts), st["published"], name)
        self.assertEqual(sorted(st["latency_us_buckets"]), ["all", "committed", "labelled", "published"])
        bad = h.complaintctl(["stats", "--watch", "--interval", "0", "--control", d.control])
        self.assertEqual(bad.returncode, 2)
        d.stop()


if __name__ == "__main__":
    unittest.main()
