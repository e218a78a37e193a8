#!/usr/bin/env python3
"""An acknowledged producer in Python (a DEALER on complaintd's acked ingest,
ROUTER): each event waits for its Ack, which the daemon sends only once the
decision is committed; an event with no Ack after --retry-s is sent again
(the daemon de-duplicates by event_id, so a re-send is answered DUPLICATE).

    scripts/examples/producer.py --endpoint tcp://127.0.0.1:5563 events.jsonl

Input: JSON Lines, one event per line, with the fields of
complaint.v1.ComplaintEvent (event_id and customer_id and text required;
channel as a name: "chat"). A line that is not such an event is reported as
FILE:LINE and skipped; the others are sent all the same, and the exit code
is 2 at the end. Prints one line per Ack on stdout (JSON), a summary on
stderr. Exit 1 if some event was never acknowledged within --timeout-s.

Needs Debian's python3-zmq and python3-protobuf (and protoc, see
complaint_proto.py); nothing else."""
import argparse
import json
import sys
import time

import zmq

import complaint_proto

pb = complaint_proto.load()


def parse_event(line):
    """A ComplaintEvent from one JSON line; ValueError says what is wrong."""
    try:
        o = json.loads(line)
    except ValueError as e:
        raise ValueError("not JSON: %s" % e)
    if not isinstance(o, dict):
        raise ValueError("not a JSON object")
    for k in ("event_id", "customer_id", "text"):
        if not isinstance(o.get(k), str) or not o[k]:
            raise ValueError("%s: want a non-empty string" % k)
    ev = pb.ComplaintEvent()
    for k, v in o.items():
        if k == "channel":
            try:
                ev.channel = pb.Channel.Value(str(v).upper())
            except ValueError:
                raise ValueError("channel: %r is not a channel" % v)
        elif k in ("ts_ms", "purchase_amount"):
            if not isinstance(v, int):
                raise ValueError("%s: want an integer" % k)
            setattr(ev, k, v)
        elif k in ev.DESCRIPTOR.fields_by_name:
            setattr(ev, k, str(v))
        else:
            raise ValueError("unknown field %r" % k)
    return ev


def read_events(path):
    events, bad = [], 0
    f = sys.stdin if path == "-" else open(path, encoding="utf-8")
    with f:
        for lineno, line in enumerate(f, 1):
            if not line.strip():
                continue
            try:
                events.append(parse_event(line))
            except ValueError as e:
                print("producer: %s:%d: %s" % (path, lineno, e), file=sys.stderr)
                bad += 1
    return events, bad


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    ap.add_argument("input", nargs="?", default="-")
    ap.add_argument("--endpoint", default="tcp://127.0.0.1:5563")
    ap.add_argument("--window", type=int, default=100, help="events in flight at most")
    ap.add_argument("--retry-s", type=float, default=2.0)
    ap.add_argument("--timeout-s", type=float, default=30.0)
    args = ap.parse_args()

    events, bad = read_events(args.input)
    sock = zmq.Context.instance().socket(zmq.DEALER)
    sock.setsockopt(zmq.LINGER, 0)
    sock.connect(args.endpoint)
    pending = {}  # event_id -> (bytes, last sent)
    queue = list(reversed(events))
    counts = {"DECIDED": 0, "DUPLICATE": 0, "REJECTED": 0}
    deadline = time.monotonic() + args.timeout_s
    while (queue or pending) and time.monotonic() < deadline:
        now = time.monotonic()
        while queue and len(pending) < args.window:
            ev = queue.pop()
            body = ev.SerializeToString()
            sock.send(body)
            pending[ev.event_id] = (body, now)
        for eid, (body, sent) in list(pending.items()):
            if now - sent > args.retry_s:
                sock.send(body)  # no Ack yet: again (de-duplicated by event_id)
                pending[eid] = (body, now)
        if not sock.poll(100):
            continue
        while sock.poll(0):
            ack = pb.Ack.FromString(sock.recv())
            if ack.event_id not in pending:
                continue  # the Ack of a re-send we already had
            del pending[ack.event_id]
            status = pb.Ack.Status.Name(ack.status)
            counts[status] = counts.get(status, 0) + 1
            print(json.dumps({"event_id": ack.event_id, "seq": ack.seq, "status": status,
                              "action": pb.Action.Name(ack.action), "reason": ack.reason}))
    print("producer: %d events: %d decided, %d duplicates, %d rejected, %d unacknowledged; %d bad lines"
          % (len(events), counts["DECIDED"], counts["DUPLICATE"], counts["REJECTED"], len(pending), bad),
          file=sys.stderr)
    sys.exit(1 if pending else 2 if bad else 0)


if __name__ == "__main__":
    main()
