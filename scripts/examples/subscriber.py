#!/usr/bin/env python3
"""An example subscriber in Python: decisions of the actions you care about,
decoded with the protobuf runtime from proto/complaint.proto.

    protoc --python_out=/tmp/pb -Iproto proto/complaint.proto
    PYTHONPATH=/tmp/pb scripts/examples/subscriber.py tcp://127.0.0.1:5561 ESCALATE_CENTRAL

Needs Debian's python3-zmq and python3-protobuf. A real consumer also keeps
the last seq it handled and, on a gap or at start, asks the control endpoint
for "replay FROM" (see README, "Delivery guarantee")."""
import sys

import zmq

import complaint_pb2

endpoint = sys.argv[1] if len(sys.argv) > 1 else "tcp://127.0.0.1:5561"
topics = sys.argv[2:] or [""]
sub = zmq.Context.instance().socket(zmq.SUB)
for t in topics:
    sub.setsockopt_string(zmq.SUBSCRIBE, t)
sub.connect(endpoint)
while True:
    topic, body = sub.recv_multipart()
    d = complaint_pb2.TriageDecision.FromString(body)
    labels = ",".join(complaint_pb2.Label.Name(l.label).lower() for l in d.labels)
    print("#%d %s %s [%s] %s" % (d.seq, topic.decode(), d.event_id, labels, "; ".join(d.reasons)))
