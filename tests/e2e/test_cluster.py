"""End-to-end: complaintd as a cluster on NATS JetStream (issue 18), with real
nats-server processes and real complaintd nodes on loopback.

Each customer sends ten insults. With its history intact, whichever node
decides them, they give PROTECT_EMPLOYEE twice and END_RELATIONSHIP eight
times; a history lost in a failover shows up as a third PROTECT_EMPLOYEE.
"""
import collections
import hashlib
import signal
import sys
import time
import unittest

import daemon_harness as h
import nats_harness as nh
from test_end_to_end import E2ETestCase

INSULT = "You are a useless idiot, do your job"
TS0 = 1_760_000_000_000
ROUNDS = 10  # insults per customer


def insults(customers, rounds):
    """Round by round: every customer's k-th insult before anyone's k+1-th."""
    return [{"event_id": "%s-%d" % (c, k), "customer_id": c, "channel": "chat", "lang": "en",
             "text": INSULT, "ts_ms": TS0 + k * 60000} for k in rounds for c in customers]


class ClusterCase(E2ETestCase):
    """A NATS cluster and complaintd nodes, all killed at the end; their logs
    are printed when a test fails."""

    SERVERS = 3

    def setUp(self):
        super().setUp()
        self.nats = nh.NatsCluster(self.SERVERS)
        self.addCleanup(self.nats.kill)
        self.nats.start()
        self.urls = self.nats.urls

    def start_node(self, node_id, **kw):
        d = nh.node(self.nats, node_id, **kw)
        self.daemons.append(d)
        self.addCleanup(d.kill)
        return d.start()

    def tearDown(self):
        # A node the cluster could do without would hide a sanitizer's
        # report behind a takeover: look for them in every log.
        for d in self.daemons:
            for what in ("ThreadSanitizer", "AddressSanitizer", "runtime error:"):
                self.assertNotIn(what, d.log(), "a sanitizer report in a node's log")
        super().tearDown()

    def run(self, result=None):
        before = len(result.failures) + len(result.errors) if result else 0
        out = super().run(result)
        if result and len(result.failures) + len(result.errors) > before:
            sys.stderr.write("\n" + self.nats.log() + "\n")
        return out

    def owners(self, node_ids, timeout=30):
        """Wait until the partitions are spread evenly over exactly node_ids."""
        share = 32 // len(node_ids)

        def even(s):
            count = collections.Counter(p["owner"] for p in s["partitions"])
            return set(count) == set(node_ids) and all(share <= n <= share + 1
                                                       for n in count.values())
        # The live nodes listed are exactly these: one that left is not.
        return nh.wait_state(self.urls, lambda s: nh.settled(s, node_ids) and even(s)
                             and s["nodes"] == sorted(node_ids),
                             timeout, "partitions owned evenly by %s" % sorted(node_ids))

    def check_histories(self, decisions, customers, events):
        """Exactly one decision per event, and every history intact."""
        ids = collections.Counter(d["event_id"] for d in decisions)
        self.assertEqual(set(ids), {e["event_id"] for e in events})
        self.assertEqual(max(ids.values()), 1, "an event decided twice: %s"
                         % [i for i, n in ids.items() if n > 1][:5])
        by_customer = collections.defaultdict(dict)
        for d in decisions:
            by_customer[d["customer_id"]][int(d["event_id"].rsplit("-", 1)[1])] = d["action"]
        for c in customers:
            actions = [by_customer[c][k] for k in sorted(by_customer[c])]
            self.assertEqual(actions, ["PROTECT_EMPLOYEE"] * 2 + ["END_RELATIONSHIP"] * 8,
                             "customer %s" % c)


class TestClusterFailover(ClusterCase):

    def test_sigkill_one_node_mid_stream(self):
        nodes = {i: self.start_node(i) for i in ("n1", "n2", "n3")}
        self.owners({"n1", "n2", "n3"})
        for i, d in nodes.items():  # each node's stats name what it holds (10 or 11)
            st = d.wait_stats(lambda st: len(st["cluster"]["partitions"]) >= 10, timeout=20)
            self.assertGreaterEqual(len(st["cluster"]["partitions"]), 10, i)
        customers = ["cust-%02d" % i for i in range(40)]
        first = insults(customers, range(0, 2))  # two warnings each
        self.assertEqual(nh.send(self.urls, first).returncode, 0)
        self.assertEqual(len(nh.tail(self.urls, len(first))), len(first))
        victim = nodes["n2"]
        moved = set(victim.stats()["cluster"]["partitions"])
        # Every partition of the victim snapshotted after the first events:
        # the takeover must restore those histories, not only replay.
        s0 = victim.stats()["cluster"]["snapshots"]
        st = victim.wait_stats(lambda st: st["cluster"]["snapshots"] >= s0 + 2 * len(moved),
                               timeout=20)
        self.assertGreaterEqual(st["cluster"]["snapshots"], s0 + 2 * len(moved))
        # Then a long stream (one-off customers around more insults), and the
        # victim is killed while it flows.
        middle = insults(customers, range(2, 4))
        filler = [{"event_id": "fill-%d" % i, "customer_id": "fill-%d" % i, "channel": "chat",
                   "lang": "en", "text": "Where is my parcel, it is late"} for i in range(6000)]
        stream = filler[:3000] + middle + filler[3000:]
        sender = nh.send_async(self.urls, stream)
        time.sleep(0.3)
        victim.send_signal(signal.SIGKILL)
        victim.wait(10)
        self.assertEqual(sender.wait(150), 0, sender.stderr())
        self.owners({"n1", "n3"}, timeout=60)
        # After the takeover, the histories must be there: the last insults
        # of every customer end the relationship.
        last = insults(customers, range(4, ROUNDS))
        self.assertEqual(nh.send(self.urls, last).returncode, 0)
        events = first + stream + last
        decisions = nh.tail(self.urls, len(events), timeout_ms=60000)
        self.assertEqual(len(decisions), len(events))
        self.check_histories([d for d in decisions if not d["event_id"].startswith("fill-")],
                             customers, first + middle + last)
        self.assertEqual(len({d["event_id"] for d in decisions}), len(events))
        state = nh.wait_state(self.urls, lambda s: nh.settled(s, {"n1", "n3"}), 30, "all acked")
        self.assertEqual(state["streams"]["DECISIONS"]["messages"], len(events))
        self.assertEqual(state["streams"]["COMPLAINTS"]["replicas"], 3)
        held = set(nodes["n1"].stats()["cluster"]["partitions"]) | \
            set(nodes["n3"].stats()["cluster"]["partitions"])
        self.assertEqual(held, set(range(32)))
        self.assertTrue(moved <= held)

    def test_mapping_matches_partition_function(self):
        """The servers' partition(32,1) and complaintd's agree (src/partition.c)."""
        self.start_node("n1")
        self.owners({"n1"})
        customers = ["map-%d" % i for i in range(30)] + ["odd.id@example", "Zo\u00eb"]
        events = insults(customers, range(1))
        self.assertEqual(nh.send(self.urls, events).returncode, 0)
        self.assertEqual(len(nh.tail(self.urls, len(events))), len(events))
        out = h.subprocess.run([nh.NATS_PROBE, self.nats.servers[0].url, "subjects", "COMPLAINTS"],
                               capture_output=True, text=True, timeout=30).stdout
        subjects = [l.split()[1] for l in out.splitlines()]
        self.assertEqual(len(subjects), len(events))
        tokens = set()
        for s in subjects:
            _, _, part, token = s.split(".", 3)
            self.assertEqual(int(part), nh.fnv1a_partition(token), s)
            tokens.add(token)
        self.assertIn("map-7", tokens)
        for odd in ("odd.id@example", "Zo\u00eb"):  # not a plain token: its digest is
            self.assertIn(hashlib.sha256(odd.encode()).hexdigest()[:32], tokens)


class TestClusterChanges(ClusterCase):

    def test_server_killed_node_joins_empty_restart(self):
        nodes = {i: self.start_node(i) for i in ("n1", "n2", "n3")}
        self.owners({"n1", "n2", "n3"})
        customers = ["cust-%02d" % i for i in range(24)]
        part1 = insults(customers, range(0, 3))
        self.assertEqual(nh.send(self.urls, part1).returncode, 0)
        self.assertEqual(len(nh.tail(self.urls, len(part1))), len(part1))
        # A nats-server is killed mid-stream: the streams have three replicas.
        part2 = insults(customers, range(3, 6))
        sender = nh.send_async(self.urls, part2)
        time.sleep(0.2)
        self.nats.servers[2].kill()
        self.assertEqual(sender.wait(150), 0, sender.stderr())
        self.assertEqual(len(nh.tail(self.urls, len(part1 + part2), 60000)), len(part1 + part2))
        # A fourth node joins and takes its share; as few partitions as can be move.
        before = self.owners({"n1", "n2", "n3"}, timeout=60)
        nodes["n4"] = self.start_node("n4")
        after = self.owners({"n1", "n2", "n3", "n4"})
        was = {p["partition"]: p["owner"] for p in before["partitions"]}
        now = {p["partition"]: p["owner"] for p in after["partitions"]}
        changed = [p for p in now if now[p] != was.get(p)]
        self.assertEqual(sorted(set(now[p] for p in changed)), ["n4"])
        self.assertEqual(len(changed), 8)
        self.assertEqual(sorted(nodes["n4"].stats()["cluster"]["partitions"]), sorted(changed))
        # A node restarted with an empty data directory takes partitions
        # back from snapshots and the stream.
        nodes["n1"].stop()
        self.owners({"n2", "n3", "n4"})
        nodes["n1"] = self.start_node("n1")  # a fresh data directory
        self.owners({"n1", "n2", "n3", "n4"})
        part3 = insults(customers, range(6, ROUNDS))
        self.assertEqual(nh.send(self.urls, part3).returncode, 0)
        events = part1 + part2 + part3
        decisions = nh.tail(self.urls, len(events), 60000)
        self.check_histories(decisions, customers, events)
        state = nh.wait_state(self.urls, lambda s: nh.settled(s, {"n1", "n2", "n3", "n4"}), 30,
                              "all acked")
        self.assertEqual(state["streams"]["DECISIONS"]["messages"], len(events))


class TestClusterBadInput(ClusterCase):
    SERVERS = 1

    def test_bad_input_rejected_node_keeps_serving(self):
        self.start_node("n1")
        self.owners({"n1"})
        r = h.complaintctl(["send", "--nats", self.urls, "--raw", "garbage-1"],
                           input_text="this is not a protobuf message\n")
        self.assertEqual(r.returncode, 0, r.stderr)
        good = insults(["after-bad"], range(2))
        no_customer = [{"event_id": "no-customer-1", "channel": "chat", "text": INSULT}]
        self.assertEqual(nh.send(self.urls, good + no_customer).returncode, 0)
        decisions = nh.tail(self.urls, 4)
        self.assertEqual(len(decisions), 4)
        rejects = [d for d in decisions if d["action"] == "REJECT"]
        self.assertEqual(len(rejects), 2, decisions)
        self.assertEqual([d["action"] for d in decisions if d["customer_id"] == "after-bad"],
                         ["PROTECT_EMPLOYEE", "PROTECT_EMPLOYEE"])
        state = nh.wait_state(self.urls, lambda s: nh.settled(s, {"n1"}), 20, "all acked")
        self.assertEqual(state["streams"]["DECISIONS"]["messages"], 4)


class TestClusterConfig(ClusterCase):
    SERVERS = 1

    def test_refuses_streams_that_cannot_hold_a_replay(self):
        d = self.start_node("n1")  # creates the streams for a 2 s lease
        d.stop()
        bad = nh.node(self.nats, "n2", snapshot_interval_s=86400)
        self.daemons.append(bad)
        self.addCleanup(bad.kill)
        bad.config["lease_ttl_ms"] = 600000  # needs a duplicate window of 40 min
        with self.assertRaises(h.DaemonError) as e:
            bad.start(timeout=60)
        self.assertIn("duplicate window", str(e.exception))
        self.assertEqual(bad.proc.returncode, 2)


if __name__ == "__main__":
    unittest.main()
