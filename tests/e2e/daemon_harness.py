"""
daemon_harness — run the real complaintd and talk to it over ZeroMQ, for the
end-to-end tests (test_end_to_end.py).

What it does:
- generates Python protobuf code from proto/complaint.proto with
  `protoc --python_out` into a temporary directory, once per process, and
  imports it from there (nothing generated is committed);
- picks free loopback TCP ports and starts build/complaintd with a temporary
  data directory, the repository's rules/ and a small config file;
- waits for the "ready" line on stderr (stderr is read by a thread and kept, so
  a failing test can print the daemon's log);
- subscribes SUB sockets before anything is sent, sends events with PUSH,
  collects decisions, asks the control socket for stats, and stops the daemon
  with a signal, checking the exit code.

Every wait is bounded; the daemon is killed in teardown whatever happened.

Environment:
  COMPLAINTD_ROOT   the repository (default: two levels above this file)
  COMPLAINTD_BUILD  the build directory holding complaintd and complaintctl
                    (default: $ROOT/build, else $ROOT/build-e2e)
  COMPLAINTD_E2E_CACHE  compiled-rule cache shared by the daemons (default:
                    a temporary directory of this process)
"""
import atexit
import json
import os
import shutil
import signal
import socket
import subprocess
import sys
import tempfile
import threading
import time

import zmq

ROOT = os.path.abspath(os.environ.get("COMPLAINTD_ROOT")
                       or os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", ".."))


def _default_build():
    for cand in ("build", "build-e2e"):
        d = os.path.join(ROOT, cand)
        if os.path.exists(os.path.join(d, "complaintd")):
            return d
    return os.path.join(ROOT, "build")


BUILD = os.path.abspath(os.environ.get("COMPLAINTD_BUILD") or _default_build())
COMPLAINTD = os.path.join(BUILD, "complaintd")
COMPLAINTCTL = os.path.join(BUILD, "complaintctl")
RULES = os.path.join(ROOT, "rules")
PROTO_DIR = os.path.join(ROOT, "proto")

READY_TIMEOUT = 90.0    # a start without a cache compiles the rule pack (15-50 s on 2 busy cores)
STOP_TIMEOUT = 20.0     # SIGTERM -> exit, including the final commit
RECV_TIMEOUT = 10.0     # collecting an expected set of decisions
SUB_SETTLE = 0.3        # PUB/SUB: let the subscription reach the publisher

_tmp_root = tempfile.mkdtemp(prefix="complaintd-e2e-")
atexit.register(shutil.rmtree, _tmp_root, True)
# One compiled-rule cache for every daemon this process starts: only the
# first start pays for the Hyperscan compile.
# COMPLAINTD_E2E_CACHE shares it between test processes (CTest sets it to a
# directory of the build tree; the daemon writes the cache atomically).
RULE_CACHE = os.environ.get("COMPLAINTD_E2E_CACHE") or os.path.join(_tmp_root, "rule-cache")
os.makedirs(RULE_CACHE, exist_ok=True)

_pb2 = None


def pb():
    """The generated complaint_pb2 module (generated on first use)."""
    global _pb2
    if _pb2 is None:
        out = os.path.join(_tmp_root, "pb")
        os.makedirs(out, exist_ok=True)
        subprocess.run(["protoc", "--python_out=" + out, "-I", PROTO_DIR,
                        os.path.join(PROTO_DIR, "complaint.proto")],
                       check=True, timeout=60)
        sys.path.insert(0, out)
        import complaint_pb2  # noqa: E402  (generated just above)
        _pb2 = complaint_pb2
    return _pb2


def free_port():
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def make_tempdir(prefix):
    return tempfile.mkdtemp(prefix=prefix, dir=_tmp_root)


# ---- events ----------------------------------------------------------------

CHANNELS = ("call", "chat", "email", "review", "social", "staff_note")


def event_bytes(event_id="", customer_id="", text="", channel="chat", lang="",
                ts_ms=0, store_id="", employee_id="", **extra):
    """A serialized complaint.v1.ComplaintEvent. channel: a lower-case name."""
    m = pb().ComplaintEvent(event_id=event_id, customer_id=customer_id, text=text,
                            channel=pb().Channel.Value(channel.upper()) if channel else 0,
                            lang=lang, ts_ms=ts_ms, store_id=store_id,
                            employee_id=employee_id, **extra)
    return m.SerializeToString()


def raw_string_field(field_no, raw):
    """A length-delimited field with arbitrary bytes (e.g. invalid UTF-8),
    which Python's protobuf refuses to build for a string field."""
    tag = bytes([(field_no << 3) | 2])
    n, var = len(raw), bytearray()
    while True:
        b = n & 0x7F
        n >>= 7
        var.append(b | (0x80 if n else 0))
        if not n:
            break
    return tag + bytes(var) + raw


def action_name(value):
    return pb().Action.Name(value)


def label_name(value):
    return pb().Label.Name(value).lower()


# ---- the daemon ------------------------------------------------------------

def poll_until(get, pred, timeout, interval=0.05):
    """Call get() until pred(value) holds or timeout seconds pass; the last
    value either way."""
    deadline = time.monotonic() + timeout
    while True:
        value = get()
        if pred(value) or time.monotonic() > deadline:
            return value
        time.sleep(interval)


class DaemonError(AssertionError):
    pass


def _is_json_ready(line):
    """With log_format = json the handshake is {"msg":"ready",...}."""
    if not line.startswith("{"):
        return False
    try:
        return json.loads(line).get("msg") == "ready"
    except ValueError:
        return False


class Daemon:
    """One complaintd process. Use as a context manager, or call start() and
    make sure kill() runs (tests add it with addCleanup)."""

    def __init__(self, data_dir=None, config=None, threads=2, extra_args=(), env=None):
        self.data_dir = data_dir or make_tempdir("data-")
        self.config = dict(config or {})
        self.config.setdefault("cache_dir", RULE_CACHE)
        # Tests run in parallel: no daemon takes the default metrics port
        # unless a test asks for one (metrics = 127.0.0.1:PORT).
        self.config.setdefault("metrics", "off")
        self.threads = threads
        self.extra_args = list(extra_args)
        self.env = env  # the daemon's environment; None = this process's
        self.proc = None
        self.lines = []
        self._lock = threading.Lock()
        self._ready = threading.Event()
        self._reader = None
        self.ingest = self.publish = self.control = self.ingest_acked = None
        self.returncode = None

    # -- lifecycle

    def start(self, timeout=READY_TIMEOUT, same_ports=False):
        """Start the process; same_ports=True restarts it on the endpoints of
        the previous start, so connected clients reconnect by themselves."""
        if not os.path.exists(COMPLAINTD):
            raise DaemonError("no daemon at %s (build first, or set COMPLAINTD_BUILD)" % COMPLAINTD)
        if not (same_ports and self.ingest):
            ports = set()
            while len(ports) < 4:
                ports.add(free_port())
            p_in, p_pub, p_ctl, p_ack = sorted(ports)
            self.ingest_acked = "tcp://127.0.0.1:%d" % p_ack
            self.ingest = "tcp://127.0.0.1:%d" % p_in
            self.publish = "tcp://127.0.0.1:%d" % p_pub
            self.control = "tcp://127.0.0.1:%d" % p_ctl
        self.config_path = os.path.join(make_tempdir("conf-"), "complaintd.conf")
        with open(self.config_path, "w") as f:
            for k, v in self.config.items():
                f.write("%s = %s\n" % (k, v))
        self.argv = [COMPLAINTD, "--config", self.config_path,
                     "--ingest", self.ingest, "--publish", self.publish,
                     "--control", self.control, "--ingest-acked", self.ingest_acked,
                     "--data-dir", self.data_dir,
                     "--rules", RULES, "--threads", str(self.threads)] + self.extra_args
        self.lines = []
        self._ready.clear()
        self.returncode = None
        self.proc = subprocess.Popen(self.argv, cwd=ROOT, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.DEVNULL, stderr=subprocess.PIPE,
                                     start_new_session=True, env=self.env)
        self._reader = threading.Thread(target=self._read_stderr, args=(self.proc,), daemon=True)
        self._reader.start()
        deadline = time.monotonic() + timeout
        while not self._ready.wait(0.05):
            if self.proc.poll() is not None:
                self._reader.join(2)
                raise DaemonError("complaintd exited with %s before 'ready'\n%s"
                                  % (self.proc.returncode, self.log()))
            if time.monotonic() > deadline:
                self.kill()
                raise DaemonError("complaintd not ready within %.0f s\n%s" % (timeout, self.log()))
        return self

    def _read_stderr(self, proc):
        for raw in iter(proc.stderr.readline, b""):
            line = raw.decode("utf-8", "replace").rstrip("\n")
            with self._lock:
                self.lines.append(line)
            if line.strip() == "ready" or _is_json_ready(line):
                self._ready.set()
        proc.stderr.close()

    def log(self):
        with self._lock:
            return "---- complaintd log (%s) ----\n%s\n---- end of log ----" % (
                " ".join(self.argv) if self.proc else "", "\n".join(self.lines))

    def wait_log(self, pred, timeout=5.0):
        """Wait until pred(log text) holds; stderr is read by a thread, so a
        line the daemon wrote before answering may still be on its way.
        The log either way."""
        return poll_until(self.log, pred, timeout)

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def send_signal(self, sig):
        if self.alive():
            self.proc.send_signal(sig)

    def wait(self, timeout=STOP_TIMEOUT):
        """Wait for the exit; the exit code, or None on timeout."""
        try:
            self.returncode = self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        if self._reader:
            self._reader.join(2)
        return self.returncode

    def stop(self, sig=signal.SIGTERM, timeout=STOP_TIMEOUT):
        """Signal and wait; raises unless the daemon exits 0 in time."""
        self.send_signal(sig)
        rc = self.wait(timeout)
        if rc is None:
            self.kill()
            raise DaemonError("complaintd did not exit within %.0f s of %s\n%s"
                              % (timeout, signal.Signals(sig).name, self.log()))
        if rc != 0:
            raise DaemonError("complaintd exited %s after %s (want 0)\n%s"
                              % (rc, signal.Signals(sig).name, self.log()))
        return rc

    def kill(self):
        if self.proc is not None and self.proc.poll() is None:
            self.proc.kill()
            try:
                self.proc.wait(5)
            except subprocess.TimeoutExpired:
                pass
        if self._reader:
            self._reader.join(2)

    def __enter__(self):
        return self.start()

    def __exit__(self, *exc):
        self.kill()
        return False

    # -- control socket

    def request(self, word, timeout=3.0):
        """One REQ/REP exchange on the control socket (a fresh REQ each time,
        so a lost reply cannot wedge the next request)."""
        ctx = zmq.Context.instance()
        s = ctx.socket(zmq.REQ)
        s.setsockopt(zmq.LINGER, 0)
        s.setsockopt(zmq.RCVTIMEO, int(timeout * 1000))
        s.setsockopt(zmq.SNDTIMEO, int(timeout * 1000))
        try:
            s.connect(self.control)
            s.send(word.encode() if isinstance(word, str) else word)
            try:
                return s.recv()
            except zmq.Again:
                raise DaemonError("no reply to %r on %s within %.1f s\n%s"
                                  % (word, self.control, timeout, self.log()))
        finally:
            s.close()

    def ping(self):
        return self.request("ping")

    def stats(self):
        return json.loads(self.request("stats").decode())

    def wait_stats(self, pred, timeout=5.0):
        """Poll stats until pred(stats) holds; the last stats either way."""
        return poll_until(self.stats, pred, timeout)


# ---- clients ---------------------------------------------------------------

class Decision:
    """One PUB message: topic and decoded TriageDecision."""
    __slots__ = ("topic", "msg", "raw")

    def __init__(self, topic, msg, raw):
        self.topic, self.msg, self.raw = topic, msg, raw

    def __repr__(self):
        m = self.msg
        return ("Decision(topic=%s seq=%d event_id=%r customer_id=%r action=%s dup=%s reject=%r)"
                % (self.topic, m.seq, m.event_id, m.customer_id, action_name(m.action),
                   m.duplicate, m.reject_reason))


class Subscriber:
    """A SUB socket on the daemon's PUB, subscribed before anything is sent."""

    def __init__(self, daemon, topics=("",), settle=SUB_SETTLE):
        self.ctx = zmq.Context.instance()
        self.sock = self.ctx.socket(zmq.SUB)
        self.sock.setsockopt(zmq.LINGER, 0)
        self.sock.setsockopt(zmq.RCVHWM, 0)  # never drop on our side
        for t in topics:
            self.sock.setsockopt(zmq.SUBSCRIBE, t.encode())
        self.sock.connect(daemon.publish)
        self.poller = zmq.Poller()
        self.poller.register(self.sock, zmq.POLLIN)
        self.undecodable = []
        # The subscription travels to the publisher asynchronously: give it
        # time, and make sure the daemon answers meanwhile.
        time.sleep(settle)
        daemon.ping()

    def _recv_one(self, timeout):
        if not self.poller.poll(int(max(timeout, 0) * 1000)):
            return None
        frames = self.sock.recv_multipart()
        if len(frames) != 2:
            raise AssertionError("a PUB message of %d frames (want 2): %r" % (len(frames), frames))
        topic, body = frames[0].decode("utf-8", "replace"), frames[1]
        m = pb().TriageDecision()
        m.ParseFromString(body)  # raises DecodeError if it does not parse
        return Decision(topic, m, body)

    def collect(self, n, timeout=RECV_TIMEOUT):
        """Exactly n decisions, or an AssertionError naming how many came."""
        got = []
        deadline = time.monotonic() + timeout
        while len(got) < n:
            d = self._recv_one(deadline - time.monotonic())
            if d is None:
                raise AssertionError("got %d of %d decisions within %.1f s: %r"
                                     % (len(got), n, timeout, got[-5:]))
            got.append(d)
        return got

    def drain(self, quiet=1.0, timeout=RECV_TIMEOUT):
        """Everything that arrives until nothing has for `quiet` seconds."""
        got = []
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            d = self._recv_one(min(quiet, deadline - time.monotonic()))
            if d is None:
                break
            got.append(d)
        return got

    def close(self):
        self.sock.close()


class Producer:
    """A PUSH socket on the daemon's ingest."""

    def __init__(self, daemon, send_timeout=5.0):
        self.sock = zmq.Context.instance().socket(zmq.PUSH)
        self.sock.setsockopt(zmq.LINGER, 1000)
        self.sock.setsockopt(zmq.SNDTIMEO, int(send_timeout * 1000))
        self.sock.connect(daemon.ingest)

    def send(self, payload):
        self.sock.send(payload)

    def close(self):
        self.sock.close()


# ---- complaintctl ----------------------------------------------------------

def complaintctl(args, input_text=None, timeout=60):
    if not os.path.exists(COMPLAINTCTL):
        raise DaemonError("no complaintctl at %s" % COMPLAINTCTL)
    return subprocess.run([COMPLAINTCTL] + list(args), cwd=ROOT, input=input_text,
                          capture_output=True, text=True, timeout=timeout)


def history(customer, data_dir):
    """complaintctl history as a dict, or None if the customer has none."""
    r = complaintctl(["history", customer, "--data-dir", data_dir])
    if r.returncode != 0:
        if "no history" in r.stderr:
            return None
        raise AssertionError("complaintctl history %s exited %d: %s"
                             % (customer, r.returncode, r.stderr))
    return json.loads(r.stdout)


def jsonl(events):
    """Dict events as JSON Lines text, as complaintctl reads them."""
    return "".join(json.dumps(e, ensure_ascii=False) + "\n" for e in events)


def classify(events):
    """complaintctl classify (no history) of dict events; a dict per event_id."""
    lines = jsonl(events)
    # With the default model, as the daemon decides (config key `model`).
    r = complaintctl(["classify", "--rules", RULES], input_text=lines)
    if r.returncode != 0:
        raise AssertionError("complaintctl classify exited %d: %s" % (r.returncode, r.stderr))
    out = [json.loads(l) for l in r.stdout.splitlines() if l.strip()]
    return {d["event_id"]: d for d in out}


def warm_rule_cache():
    """Start and stop one daemon so that RULE_CACHE holds the compiled pack
    (CTest runs this first, as a fixture, when COMPLAINTD_E2E_CACHE is set)."""
    d = Daemon()
    try:
        t0 = time.monotonic()
        d.start(timeout=600)  # a cold compile under the sanitizers is slow
        d.stop()
        print("rule cache %s ready in %.1f s" % (RULE_CACHE, time.monotonic() - t0))
    finally:
        d.kill()


if __name__ == "__main__":
    if sys.argv[1:] != ["warm"]:
        sys.exit("usage: daemon_harness.py warm")
    warm_rule_cache()
