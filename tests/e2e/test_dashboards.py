"""
The Grafana dashboard and the Prometheus alerting rules (dashboards/) name
only metrics a real complaintd exports: every complaintd_* name, every
label value matched with = and every label grouped by, checked against the
/metrics of a daemon that has decided an event and reloaded once.

  TestDashboards   the JSON and the YAML load and are well-formed; what
                   they name exists; the pending metrics (the feedback loop
                   of issue 15, not exported yet) are listed, and the test
                   says when one appears so that it leaves the list

Run: COMPLAINTD_BUILD=build /usr/bin/python3 -m unittest -v test_dashboards
(from tests/e2e), or through CTest (tests/e2e/CMakeLists.txt).
"""
import json
import os
import re
import sys
import unittest

import yaml

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_harness as h  # noqa: E402
from test_end_to_end import E2ETestCase  # noqa: E402
from test_metrics import parse, scrape  # noqa: E402

DASHBOARDS = os.path.join(h.ROOT, "dashboards")
# Named by the dashboard and the alerts, not exported yet (feedback and
# retraining, issue 15). When the daemon exports one, move it out of here.
PENDING = set()  # metrics the dashboards may name before the daemon exports them
NOT_OURS = {"up"}  # Prometheus's own series
PROMQL_WORDS = {"sum", "rate", "increase", "by", "le", "histogram_quantile", "topk", "clamp_min",
                "max", "changes", "deriv", "delta", "time", "and", "label_values"}
HIST_SUFFIXES = ("_bucket", "_sum", "_count")
SERIES = re.compile(r"\b(complaintd_[a-z0-9_]+)(\{[^}]*\})?")
MATCHER = re.compile(r'([a-z_]+)\s*=\s*"([^"]*)"')
BY = re.compile(r"\bby\s*\(([^)]*)\)")


def dashboard_exprs(d):
    out = []
    for p in d["panels"]:
        out += [t["expr"] for t in p.get("targets", [])]
    out += [a["expr"] for a in d.get("annotations", {}).get("list", []) if "expr" in a]
    out += [v["definition"] for v in d["templating"]["list"] if v.get("definition")]
    return out


def alert_exprs(rules):
    return [r["expr"] for g in rules["groups"] for r in g["rules"]]


class TestDashboards(E2ETestCase):

    def setUp(self):
        super().setUp()
        with open(os.path.join(DASHBOARDS, "complaintd.json")) as f:
            self.dash = json.load(f)
        with open(os.path.join(DASHBOARDS, "complaintd-alerts.yml")) as f:
            self.rules = yaml.safe_load(f)

    def test_files_are_well_formed(self):
        ids = [p["id"] for p in self.dash["panels"]]
        self.assertEqual(len(ids), len(set(ids)), "panel ids repeat")
        for p in self.dash["panels"]:
            self.assertIn("gridPos", p)
            if p["type"] != "row":
                self.assertTrue(p["targets"], p["title"])
        names = [r["alert"] for g in self.rules["groups"] for r in g["rules"]]
        self.assertEqual(len(names), len(set(names)))
        for g in self.rules["groups"]:
            for r in g["rules"]:
                self.assertIn(r["labels"]["severity"], ("warning", "critical"), r["alert"])
                self.assertTrue(r["annotations"]["summary"], r["alert"])
        # What the issue asks the alerts to cover.
        exprs = " ".join(alert_exprs(self.rules))
        for need in ("complaintd_lmdb_map_used_bytes / complaintd_lmdb_map_size_bytes > 0.8",
                     "complaintd_events_rejected_total", "histogram_quantile(0.99",
                     "complaintd_last_seq"):
            self.assertIn(need, exprs)

    def test_every_metric_named_exists(self):
        port = h.free_port()
        url = "http://127.0.0.1:%d/metrics" % port
        d = self.daemon(config={"metrics": "127.0.0.1:%d" % port})
        sub = self.subscriber(d)
        push = self.producer(d)
        push.send(h.event_bytes(event_id="e1", customer_id="c1",
                                text="The toaster broke after two days, I want a refund", ts_ms=1))
        sub.collect(1)
        self.assertEqual(h.complaintctl(["reload", "--control", d.control]).returncode, 0)
        values, types = parse(scrape(url)[2])
        d.stop()
        series = {}  # name -> list of {label: value}
        for key in values:
            name, _, labels = key.partition("{")
            series.setdefault(name, []).append(dict(MATCHER.findall(labels)))

        def exported(name):
            if name in types:
                return name
            for suf in HIST_SUFFIXES:
                if name.endswith(suf) and types.get(name[:-len(suf)]) == "histogram":
                    return name
            return None

        problems, seen_pending = [], set()
        for source, exprs in (("dashboard", dashboard_exprs(self.dash)),
                              ("alerts", alert_exprs(self.rules))):
            for expr in exprs:
                named = []
                for m in SERIES.finditer(expr):
                    name = m.group(1)
                    if name in PENDING:
                        seen_pending.add(name)
                        continue
                    if not exported(name):
                        problems.append("%s: %s not in /metrics (%s)" % (source, name, expr))
                        continue
                    named.append(name)
                    for label, value in MATCHER.findall(m.group(2) or ""):
                        if label in ("instance", "job"):
                            continue
                        if not any(s.get(label) == value for s in series.get(name, [])):
                            problems.append('%s: no %s{%s="%s"} in /metrics' % (source, name, label, value))
                for group in BY.findall(expr):
                    for label in (x.strip() for x in group.split(",")):
                        if label in ("le", "instance", "job", ""):
                            continue
                        if named and not any(label in s for n in named for s in series.get(n, [])):
                            problems.append("%s: by (%s) but %s have no such label" % (source, label, named))
                if not named and not any(p in expr for p in PENDING) and not any(
                        re.search(r"\b%s\b" % w, expr) for w in NOT_OURS):
                    problems.append("%s: names no metric: %s" % (source, expr))
        self.assertEqual(problems, [])
        self.assertEqual(seen_pending, PENDING, "a pending metric is no longer named: drop it from PENDING")
        appeared = PENDING & set(types)
        self.assertEqual(appeared, set(), "now exported: move %s out of PENDING" % sorted(appeared))


if __name__ == "__main__":
    unittest.main()
