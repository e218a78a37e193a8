"""
End-to-end tests of complaintd as a service: what an ops team runs it with.

  TestVersion       --version on both binaries: the project version of
                    CMakeLists.txt and the git commit of the tree
  TestCheckConfig   --check-config: 0 with what was checked for a good
                    config; 2 naming the file and line of a bad one, the
                    rule file of a broken pack, a malformed metrics address
  TestDataDirLock   a second daemon on the same data directory exits 1
                    naming the directory and the first one's pid; the lock
                    goes with its holder, even a SIGKILLed one
  TestProbes        GET /healthz and /readyz answer 200 with every pipeline
                    thread listed; complaintd_build_info names the version,
                    the commit and a rules_hash that follows a reload of a
                    pack whose only change is a weight
  TestReadyzFullMap a full LMDB map pauses intake: /readyz 503 with the
                    reason, /healthz still 200 (alive, retrying)
  TestSystemdNotify with NOTIFY_SOCKET and WATCHDOG_USEC set, as systemd
                    does: READY=1 once it accepts events, WATCHDOG=1 pings,
                    STOPPING=1 on SIGTERM
  TestUnit          systemd-analyze verify passes on packaging/complaintd.service
                    and the unit keeps its notify, reload and hardening lines

Run: COMPLAINTD_BUILD=build /usr/bin/python3 -m unittest -v test_service
(from tests/e2e), or through CTest (tests/e2e/CMakeLists.txt).
"""
import json
import os
import re
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import time
import unittest
import urllib.error
import urllib.request

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_harness as h  # noqa: E402
from test_end_to_end import E2ETestCase  # noqa: E402

COMPLAINTD = h.COMPLAINTD
UNIT = os.path.join(h.ROOT, "packaging", "complaintd.service")


def project_version():
    with open(os.path.join(h.ROOT, "CMakeLists.txt")) as f:
        m = re.search(r"project\(complaintd VERSION (\S+)", f.read())
    return m.group(1)


def git_commit():
    r = subprocess.run(["git", "-C", h.ROOT, "rev-parse", "--short=12", "HEAD"],
                       capture_output=True, text=True, timeout=30)
    return r.stdout.strip() if r.returncode == 0 else None


def get(url, timeout=5.0):
    """(status, body) of a GET, 4xx and 5xx included."""
    try:
        with urllib.request.urlopen(url, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def build_info(metrics_text):
    m = re.search(r'^complaintd_build_info\{version="([^"]*)",commit="([^"]*)",'
                  r'rules_hash="([^"]*)",model_hash="([^"]*)"\} 1$', metrics_text, re.M)
    return m.groups() if m else None


def run_daemon(args, cwd=None, timeout=120):
    return subprocess.run([COMPLAINTD] + args, cwd=cwd or h.ROOT, capture_output=True,
                          text=True, timeout=timeout, stdin=subprocess.DEVNULL)


def write_conf(lines):
    path = os.path.join(h.make_tempdir("conf-"), "complaintd.conf")
    with open(path, "w") as f:
        f.write("".join(line + "\n" for line in lines))
    return path


class TestVersion(unittest.TestCase):

    def test_both_binaries_name_version_and_commit(self):
        want = project_version()
        commit = git_commit()
        for exe, name in ((COMPLAINTD, "complaintd"), (h.COMPLAINTCTL, "complaintctl")):
            r = subprocess.run([exe, "--version"], capture_output=True, text=True, timeout=30)
            self.assertEqual(r.returncode, 0, r.stderr)
            m = re.fullmatch(r"(\S+) (\S+) \(git (\S+)\)\n", r.stdout)
            self.assertIsNotNone(m, r.stdout)
            self.assertEqual(m.group(1), name)
            self.assertEqual(m.group(2), want)
            if commit:  # a tree without git says "unknown"
                self.assertTrue(m.group(3).startswith(commit), (m.group(3), commit))


class TestCheckConfig(unittest.TestCase):

    def check(self, conf_lines=None, extra=(), cwd=None):
        args = ["--check-config"]
        if conf_lines is not None:
            args += ["--config", write_conf(["cache_dir = " + h.RULE_CACHE] + conf_lines)]
        return run_daemon(args + list(extra), cwd=cwd)

    def test_good_config_exits_0_saying_what_was_checked(self):
        data = h.make_tempdir("data-")
        r = self.check(["threads = 2", "data_dir = " + data, "rules = " + h.RULES])
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertIn("syntax ok", r.stdout)
        self.assertRegex(r.stdout, r"rules %s: \d+ rules, \d+ patterns" % re.escape(h.RULES))
        # The repository's default model, or none where there is none.
        self.assertRegex(r.stdout, r"model(: none| \S*default\.model: \d+ weights: ok)")
        self.assertIn("configuration ok", r.stdout)
        self.assertEqual(os.listdir(data), [], "a check opens no store")

    def test_bad_value_exits_2_naming_file_and_line(self):
        r = self.check(["threads = 2", "batch_size = 0"])
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"complaintd\.conf:3: batch_size")
        self.assertIn("configuration check failed", r.stderr)

    def test_unknown_key_exits_2(self):
        r = self.check(["threds = 2"])
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertRegex(r.stderr, r"complaintd\.conf:2: .*threds")

    def test_broken_rule_pack_exits_2_naming_the_rule_file(self):
        rules = os.path.join(h.make_tempdir("rules-"), "rules")
        shutil.copytree(h.RULES, rules)
        with open(os.path.join(rules, "zz_broken.en.rules"), "w") as f:
            f.write("rule broken.en.one\n  label   no_such_label\n  match   kettle\n")
        r = self.check(["rules = " + rules])
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("zz_broken.en.rules:2", r.stderr)
        self.assertIn("configuration check failed", r.stderr)

    def test_bad_metrics_address_exits_2(self):
        r = self.check(["metrics = localhost"])
        self.assertEqual(r.returncode, 2, r.stdout + r.stderr)
        self.assertIn("complaintd.conf:2: metrics = localhost: want HOST:PORT", r.stderr)

    def test_default_rules_found_from_another_directory(self):
        """No --rules, started elsewhere: the pack beside the binary's
        directory (the installed one, /usr/share/complaintd, is the next
        fallback: scripts/package-test)."""
        elsewhere = h.make_tempdir("cwd-")
        r = self.check([], cwd=elsewhere)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        m = re.search(r"rules (\S+): \d+ rules", r.stdout)
        self.assertIsNotNone(m, r.stdout)
        self.assertEqual(os.path.realpath(m.group(1)), os.path.realpath(h.RULES))


class TestDataDirLock(E2ETestCase):

    def test_second_daemon_on_the_same_directory_is_refused(self):
        first = self.daemon()
        second = h.Daemon(data_dir=first.data_dir)
        self.addCleanup(second.kill)
        with self.assertRaises(h.DaemonError) as cm:
            second.start()
        self.assertEqual(second.proc.returncode, 1, second.log())
        msg = str(cm.exception)
        self.assertIn("data_dir %s is in use" % first.data_dir, msg)
        self.assertIn("pid %d" % first.proc.pid, msg)
        # The first keeps serving.
        self.assertEqual(first.ping(), b"pong")
        first.stop()
        # Its lock went with it: the directory is free again.
        second.start()
        self.assertEqual(second.ping(), b"pong")
        second.stop()

    def test_lock_of_a_killed_daemon_does_not_block_a_restart(self):
        d = self.daemon()
        d.proc.send_signal(signal.SIGKILL)
        d.wait()
        d.start()  # same directory: the kernel dropped the flock
        self.assertEqual(d.ping(), b"pong")
        d.stop()


class ProbeCase(E2ETestCase):

    def metrics_daemon(self, **kw):
        port = h.free_port()
        cfg = dict(kw.pop("config", {}))
        cfg["metrics"] = "127.0.0.1:%d" % port
        d = self.daemon(config=cfg, **kw)
        d.base = "http://127.0.0.1:%d" % port
        return d


class TestProbes(ProbeCase):

    def test_healthz_and_readyz_answer_200_listing_every_thread(self):
        d = self.metrics_daemon(threads=2)
        status, body = get(d.base + "/healthz")
        self.assertEqual(status, 200, body)
        self.assertEqual(body.splitlines()[0], "alive")
        for thread in ("ingest", "worker-0", "worker-1", "writer", "publisher"):
            self.assertRegex(body, r"(?m)^%s (waiting for input|busy for)" % thread)
        status, body = get(d.base + "/readyz")
        self.assertEqual((status, body), (200, "ready\n"))
        # Still alive after work went through every thread.
        p = self.producer(d)
        sub = self.subscriber(d)
        for i in range(20):
            p.send(h.event_bytes(event_id="probe-%d" % i, customer_id="probe-c%d" % i,
                                 text="The kettle broke after a week.", lang="en"))
        self.assertEqual(len(sub.collect(20)), 20)
        # Idle again, every thread says so: it marks itself waiting before
        # it blocks (an idle daemon must never look stuck to the watchdog).
        threads = ("ingest", "worker-0", "worker-1", "writer", "publisher")
        idle = lambda body: all("%s waiting for input" % t in body for t in threads)  # noqa: E731
        status, body = h.poll_until(lambda: get(d.base + "/healthz"), lambda r: idle(r[1]), 10.0)
        self.assertEqual(status, 200, body)
        self.assertTrue(idle(body), body)
        self.assertEqual(get(d.base + "/nothing")[0], 404)
        d.stop()

    def test_build_info_follows_the_running_pack(self):
        rules = os.path.join(h.make_tempdir("rules-"), "rules")
        shutil.copytree(h.RULES, rules)
        d = self.metrics_daemon(extra_args=["--rules", rules])
        info = build_info(get(d.base + "/metrics")[1])
        self.assertIsNotNone(info, "no complaintd_build_info line")
        version, commit, rules_hash, model_hash = info
        self.assertEqual(version, project_version())
        if git_commit():
            self.assertTrue(commit.startswith(git_commit()))
        self.assertRegex(rules_hash, r"^[0-9a-f]{16}$")
        self.assertEqual(model_hash, "none")
        # A weight changes nothing the compile cache keys on, and still
        # changes what the pack decides: the fingerprint must move.
        path = os.path.join(rules, "other.en.rules")
        with open(path) as f:
            text = f.read()
        self.assertIn("  weight  0.5\n", text)
        with open(path, "w") as f:
            f.write(text.replace("  weight  0.5\n", "  weight  0.6\n", 1))
        reply = json.loads(d.request("reload", timeout=120).decode())
        self.assertTrue(reply["ok"], reply)
        after = build_info(get(d.base + "/metrics")[1])
        self.assertNotEqual(after[2], rules_hash, "rules_hash did not follow the reload")
        # The same pack again gives the same fingerprint.
        with open(path, "w") as f:
            f.write(text)
        reply = json.loads(d.request("reload", timeout=120).decode())
        self.assertTrue(reply["ok"], reply)
        self.assertEqual(build_info(get(d.base + "/metrics")[1])[2], rules_hash)
        d.stop()


TEXT = "The kettle broke after a week and the shop refused to take it back."


class TestReadyzFullMap(ProbeCase):

    def test_full_map_is_not_ready_but_alive(self):
        d = self.metrics_daemon(config={"map_size_mb": 1, "batch_size": 50})
        events = os.path.join(tempfile.mkdtemp(prefix="full-"), "events.jsonl")
        with open(events, "w") as f:
            for i in range(20000):
                f.write(json.dumps({"event_id": "rz-%05d" % i, "customer_id": "rz-%05d" % i,
                                    "channel": "chat", "lang": "en", "text": TEXT}) + "\n")
        r = h.complaintctl(["send", "--acked", events, "--ingest-acked", d.ingest_acked,
                            "--window", "500", "--timeout", "8000"], timeout=60)
        self.assertEqual(r.returncode, 1, "a 1 MB map cannot hold 20,000 customers: " + r.stderr)
        self.assertIn("intake paused", d.wait_log(lambda log: "intake paused" in log))
        status, body = get(d.base + "/readyz")
        self.assertEqual(status, 503, body)
        self.assertIn("LMDB map is full", body)
        status, body = get(d.base + "/healthz")
        self.assertEqual(status, 200, "a writer retrying a full map is alive: " + body)
        self.assertRegex(body, r"(?m)^writer retrying: intake paused: the LMDB map is full$")
        d.kill()


class TestSystemdNotify(E2ETestCase):

    def test_ready_watchdog_and_stopping(self):
        sock_path = os.path.join(h.make_tempdir("notify-"), "notify.sock")
        s = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
        s.bind(sock_path)
        self.addCleanup(s.close)
        s.settimeout(0.2)
        env = dict(os.environ, NOTIFY_SOCKET=sock_path, WATCHDOG_USEC="200000")
        env.pop("WATCHDOG_PID", None)
        d = self.daemon(env=env)
        messages = []

        def read_until(pred, timeout=20.0):
            deadline = time.monotonic() + timeout
            while time.monotonic() < deadline and not pred():
                try:
                    messages.append(s.recv(4096).decode())
                except socket.timeout:
                    pass
            return pred()

        got = lambda word: [m for m in messages if word in m.split("\n")]  # noqa: E731
        self.assertTrue(read_until(lambda: got("READY=1")), messages)
        self.assertIn("STATUS=accepting events on %s" % d.ingest, got("READY=1")[0])
        self.assertTrue(read_until(lambda: len(got("WATCHDOG=1")) >= 3), messages)
        self.assertFalse(got("STOPPING=1"))
        d.send_signal(signal.SIGTERM)
        self.assertTrue(read_until(lambda: got("STOPPING=1")), messages)
        self.assertEqual(d.wait(), 0, d.log())
        first = lambda word: next(i for i, m in enumerate(messages)  # noqa: E731
                                  if word in m.split("\n"))
        self.assertLess(first("READY=1"), first("WATCHDOG=1"), "READY=1 comes first")
        self.assertLess(first("WATCHDOG=1"), first("STOPPING=1"))


class TestUnit(unittest.TestCase):

    def test_systemd_analyze_verify(self):
        with open(UNIT) as f:
            text = f.read()
        for line in ("Type=notify", "ExecReload=/bin/kill -HUP $MAINPID", "User=complaintd",
                     "StateDirectory=complaintd", "ProtectSystem=strict", "NoNewPrivileges=yes",
                     "PrivateTmp=yes", "CapabilityBoundingSet=",
                     "ExecStart=/usr/bin/complaintd --config /etc/complaintd/complaintd.conf"):
            self.assertIn("\n" + line + "\n", text)
        self.assertRegex(text, r"\nWatchdogSec=\d+")
        # verify also checks that ExecStart's binary exists: point it at
        # the build's until the package installs /usr/bin/complaintd.
        unit = os.path.join(h.make_tempdir("unit-"), "complaintd.service")
        with open(unit, "w") as f:
            f.write(text.replace("ExecStart=/usr/bin/complaintd", "ExecStart=" + COMPLAINTD))
        r = subprocess.run(["systemd-analyze", "verify", unit], capture_output=True, text=True,
                           timeout=60)
        self.assertEqual(r.returncode, 0, r.stdout + r.stderr)
        self.assertEqual(r.stderr.strip(), "", "systemd-analyze warns: " + r.stderr)


if __name__ == "__main__":
    unittest.main()
