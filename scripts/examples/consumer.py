#!/usr/bin/env python3
"""A decision consumer in Python that misses nothing: a SUB on complaintd's
PUB, and the control endpoint's "replay FROM" to fill every gap.

    scripts/examples/consumer.py --publish tcp://127.0.0.1:5561 \\
        --control tcp://127.0.0.1:5562 --from 1

seq is gap-free over everything the daemon publishes (rejects included), so
the consumer knows the next seq it wants. PUB/SUB drops messages when a
subscriber is slow or not yet connected; when a decision arrives with a
higher seq than wanted, or the stream is quiet, the consumer asks for the
missing ones by replay (a JSON header frame, then the decisions) and hands
everything on in seq order, each seq once. A real consumer stores the next
seq it wants after handling each decision and passes it as --from after a
restart.

Prints one JSON line per decision (seq, event_id, action) on stdout, and
each gap it filled on stderr. --count N stops after N decisions.
Needs Debian's python3-zmq and python3-protobuf (and protoc)."""
import argparse
import json
import sys

import zmq

import complaint_proto

pb = complaint_proto.load()
REPLAY_MAX = 1000  # the daemon's cap per request


class Consumer:
    def __init__(self, publish, control, want, topics=("",), rcvhwm=1000):
        self.ctx = zmq.Context.instance()
        self.sub = self.ctx.socket(zmq.SUB)
        self.sub.setsockopt(zmq.RCVHWM, rcvhwm)
        for t in topics:
            self.sub.setsockopt(zmq.SUBSCRIBE, t.encode())
        self.sub.connect(publish)
        self.control = control
        self.want = want  # the next seq to hand on
        self.gaps = 0

    def replay(self, start, upto=None):
        """Decisions from start on (at most REPLAY_MAX, and below upto), by
        "replay FROM MAX" over a fresh REQ socket."""
        req = self.ctx.socket(zmq.REQ)
        req.setsockopt(zmq.LINGER, 0)
        req.setsockopt(zmq.RCVTIMEO, 5000)
        req.connect(self.control)
        try:
            n = REPLAY_MAX if upto is None else min(REPLAY_MAX, upto - start)
            req.send_string("replay %d %d" % (start, n))
            frames = req.recv_multipart()
        finally:
            req.close()
        head = json.loads(frames[0])
        if "error" in head:
            raise RuntimeError("replay: %s" % head["error"])
        return head, [pb.TriageDecision.FromString(f) for f in frames[1:]]

    def fill(self, upto, out):
        """Replay [want, upto) (upto None: all there is) into out."""
        first = self.want
        while upto is None or self.want < upto:
            head, got = self.replay(self.want, upto)
            if head["from"] > self.want:  # older than the log keeps: say so, go on
                print("consumer: seq %d..%d left the decision log" % (self.want, head["from"] - 1),
                      file=sys.stderr)
                self.want = head["from"]
            for d in got:
                if d.seq >= self.want and (upto is None or d.seq < upto):
                    out(d)
                    self.want = d.seq + 1
            if not got:
                break
        if self.want > first:
            self.gaps += 1
            print("consumer: gap %d..%d filled by replay" % (first, self.want - 1), file=sys.stderr)

    def run(self, out, count=0, idle_ms=1000):
        handed = [0]

        def hand(d):
            out(d)
            handed[0] += 1

        while not count or handed[0] < count:
            if not self.sub.poll(idle_ms):
                if self.want:
                    self.fill(None, hand)  # quiet: anything published that we never saw?
                continue
            topic, body = self.sub.recv_multipart()
            d = pb.TriageDecision.FromString(body)
            if not self.want:  # live only: start at the first that comes
                self.want = d.seq
            if d.seq < self.want:
                continue  # already handed on (by a replay)
            if d.seq > self.want:
                self.fill(d.seq, hand)
            hand(d)
            self.want = d.seq + 1
        return handed[0]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("--publish", default="tcp://127.0.0.1:5561")
    ap.add_argument("--control", default="tcp://127.0.0.1:5562")
    ap.add_argument("--from", dest="start", type=int, default=0,
                    help="the next seq wanted (0: whatever comes next live)")
    ap.add_argument("--count", type=int, default=0)
    ap.add_argument("--rcvhwm", type=int, default=1000)
    args = ap.parse_args()
    c = Consumer(args.publish, args.control, args.start, rcvhwm=args.rcvhwm)

    def out(d):
        print(json.dumps({"seq": d.seq, "event_id": d.event_id, "action": pb.Action.Name(d.action)}),
              flush=True)

    try:
        c.run(out, args.count)
    except KeyboardInterrupt:
        pass


if __name__ == "__main__":
    main()
