"""Start-up that fails half way: an endpoint another daemon holds. The
daemon must say which endpoint and why, exit 1, free what it had already
set up (ASan's leak check runs at exit), and leave the other daemon alone."""
import unittest

import daemon_harness as h
from test_end_to_end import E2ETestCase


class TestBusyEndpoint(E2ETestCase):
    def start_second(self, first, busy):
        """A daemon on fresh endpoints except `busy`, which first holds."""
        second = h.Daemon()
        self.addCleanup(second.kill)
        free = h.Daemon()
        for name in ("ingest", "ingest_acked", "publish", "control"):
            port = h.free_port()
            setattr(free, name, "tcp://127.0.0.1:%d" % port)
            setattr(second, name, getattr(first, name) if name == busy else getattr(free, name))
        with self.assertRaises(h.DaemonError) as caught:
            second.start(same_ports=True)
        self.assertEqual(second.wait(), 1, second.log())
        return second, str(caught.exception)

    def test_each_busy_endpoint_named(self):
        first = h.Daemon().start()
        self.addCleanup(first.kill)
        # ingest is bound first, then ingest_acked, then publish (with the
        # pipeline's inproc queues after it), then control: every step of
        # the unwinding runs once.
        for busy in ("ingest", "ingest_acked", "publish", "control"):
            with self.subTest(busy=busy):
                second, message = self.start_second(first, busy)
                self.assertIn("cannot bind %s" % getattr(first, busy), message)
                self.assertIn("Address already in use", message)
        self.assertEqual(first.ping(), b"pong")
        first.stop()


if __name__ == "__main__":
    unittest.main()
