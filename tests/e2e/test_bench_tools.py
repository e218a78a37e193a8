"""The benchmark's own tools, on real sockets: gen_stream writes a corpus,
loadgen replays it, and bench/echo_limit (the relay the bench reports as the
floor under the targets) hands every event back.

These do not time anything. They check that the floor figures count what
they claim: every event sent comes back once and is matched to its send,
and the durable relay's log holds the events' bytes as loadgen sent them.
"""
import json
import os
import signal
import struct
import subprocess
import unittest

from daemon_harness import BUILD, free_port, make_tempdir

BENCH = os.path.join(BUILD, "bench")
GEN_STREAM = os.path.join(BENCH, "gen_stream")
LOADGEN = os.path.join(BENCH, "loadgen")
ECHO = os.path.join(BENCH, "echo_limit")
LOG_BYTES = 64 << 20  # echo_limit's log size


def corpus_records(path):
    """The serialized events of a gen_stream --format pb file, in order."""
    with open(path, "rb") as f:
        data = f.read()
    out, i = [], 0
    while i < len(data):
        (n,) = struct.unpack_from("<I", data, i)
        out.append(data[i + 4:i + 4 + n])
        i += 4 + n
    return out


@unittest.skipUnless(os.path.exists(ECHO), "the bench tools are not built (bench/ not in this build)")
class TestEchoFloor(unittest.TestCase):
    EVENTS = 3000

    @classmethod
    def setUpClass(cls):
        cls.dir = make_tempdir("bench-tools-")
        cls.corpus = os.path.join(cls.dir, "corpus.pb")
        subprocess.run([GEN_STREAM, "--events", "1000", "--customers", "500", "--seed", "3",
                        "--format", "pb", "--out", cls.corpus], check=True)

    def relay(self, *extra):
        ingest, publish = free_port(), free_port()
        p = subprocess.Popen([ECHO, "--ingest", f"tcp://127.0.0.1:{ingest}",
                              "--publish", f"tcp://127.0.0.1:{publish}", *extra],
                             stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)
        self.addCleanup(p.kill)
        self.assertEqual(p.stderr.readline().strip(), "ready")
        return p, f"tcp://127.0.0.1:{ingest}", f"tcp://127.0.0.1:{publish}"

    def loadgen(self, ingest, publish, run_id, rate=None):
        cmd = [LOADGEN, "--corpus", self.corpus, "--ingest", ingest, "--publish", publish,
               "--events", str(self.EVENTS), "--run-id", str(run_id), "--idle-timeout", "10000", "--quiet"]
        if rate:
            cmd += ["--rate", str(rate)]
        p = subprocess.run(cmd, stdout=subprocess.PIPE, text=True, timeout=120)
        r = json.loads(p.stdout.strip().splitlines()[-1])
        self.assertEqual(p.returncode, 0 if r["missing"] == 0 else 1, r)  # 1: some never came back
        return r

    def stop(self, p):
        p.send_signal(signal.SIGTERM)
        out, _ = p.communicate(timeout=30)
        self.assertEqual(p.returncode, 0)
        return json.loads(out.strip().splitlines()[-1])

    def test_every_event_comes_back_once(self):
        p, ingest, publish = self.relay()
        r = self.loadgen(ingest, publish, run_id=7)
        self.assertEqual(r["events"], self.EVENTS)
        self.assertEqual(r["missing"], 0)
        self.assertEqual(r["decided"], self.EVENTS)  # each echo matched to its own send
        self.assertEqual(r["unknown"], 0)
        self.assertEqual(r["duplicates_seen"], 0)
        self.assertEqual(r["latency_us"]["n"], self.EVENTS)
        s = self.stop(p)
        self.assertEqual(s["echoed"], self.EVENTS)
        self.assertGreaterEqual(s["groups"], 1)
        self.assertEqual(s["flush_ms_mean"], 0)  # nothing to flush without --durable

    def test_durable_relay_logs_the_bytes_it_publishes(self):
        log = os.path.join(self.dir, "echo.log")
        p, ingest, publish = self.relay("--durable", log)
        r = self.loadgen(ingest, publish, run_id=8, rate=20000)
        self.assertEqual(r["decided"], self.EVENTS)
        s = self.stop(p)
        self.assertEqual(s["echoed"], self.EVENTS)
        self.assertGreater(s["flush_ms_mean"], 0)
        self.assertEqual(os.path.getsize(log), LOG_BYTES)  # preallocated, written in place

        # The log is the events in send order: each record as in the corpus,
        # but with the event_id loadgen wrote (run_id * 10^12 + send index).
        recs = corpus_records(self.corpus)
        expected = bytearray()
        for i in range(self.EVENTS):
            rec = bytearray(recs[i % len(recs)])
            rec[2:18] = b"e%015d" % (8 * 10**12 + i)
            expected += rec
        with open(log, "rb") as f:
            got = f.read(len(expected))
        self.assertEqual(got[:200], bytes(expected[:200]))
        self.assertEqual(got, bytes(expected))

    def test_usage_error_exits_2(self):
        p = subprocess.run([ECHO, "--ingest", "tcp://127.0.0.1:1"], stderr=subprocess.PIPE, text=True)
        self.assertEqual(p.returncode, 2)
        self.assertIn("usage: echo_limit", p.stderr)


if __name__ == "__main__":
    unittest.main()
