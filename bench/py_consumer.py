#!/usr/bin/python3
"""The Python peer: what a team would write first with pyzmq and re.

    py_consumer.py --patterns RG.txt --ids PATTERNS.tsv --pb2 DIR
                   [--ingest EP] [--publish EP] [--events N]

PULLs ComplaintEvents, lower-cases the text and joins its \\w+ words with
single spaces (a rough stand-in for the canonical form: no look-alike
folding, no de-obfuscation), runs one combined `re` alternation per label
built from the pack's exported patterns, keeps a per-customer event count in a
dict (no durability), and PUBlishes a TriageDecision (event_id, customer_id,
labels, a crude action) as the daemon does: topic frame + protobuf frame.
Exits after N events (default: never). loadgen measures it from outside, the
same way as complaintd.
"""
import argparse
import collections
import re
import sys

import zmq


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument('--patterns', required=True)  # rg.txt from peer_patterns.py (Python re accepts it)
    ap.add_argument('--ids', required=True)       # the export, for each pattern's rule id
    ap.add_argument('--pb2', required=True)       # directory holding complaint_pb2.py
    ap.add_argument('--ingest', default='tcp://127.0.0.1:5580')
    ap.add_argument('--publish', default='tcp://127.0.0.1:5581')
    ap.add_argument('--events', type=int, default=0)
    a = ap.parse_args()
    sys.path.insert(0, a.pb2)
    import complaint_pb2 as pb

    with open(a.ids, encoding='utf-8', errors='replace') as f:
        ids = [line.split('\t', 1)[0] for line in f if line.strip()]
    with open(a.patterns, encoding='utf-8') as f:
        pats = [line.rstrip('\n') for line in f if line.strip()]
    by_label = collections.defaultdict(list)
    for rid, p in zip(ids, pats):
        by_label[rid.split('.', 1)[0]].append(p)
    regexes = {}
    for label, ps in by_label.items():
        regexes[pb.Label.Value(label.upper())] = re.compile('|'.join('(?:%s)' % p for p in ps))
    toxic = {pb.INSULT, pb.PROFANITY, pb.THREAT, pb.HARASSMENT, pb.HUMILIATION}
    extremism = {pb.BLACKMAIL, pb.EXCESSIVE_DEMAND, pb.PROMO_ABUSE}
    constructive = {pb.BROKEN_PROMISE, pb.PRODUCT_DEFECT, pb.SERVICE_FAILURE, pb.REFUND_REQUEST}

    ctx = zmq.Context()
    pull = ctx.socket(zmq.PULL)
    pull.bind(a.ingest)
    pub = ctx.socket(zmq.PUB)
    pub.bind(a.publish)
    print('ready', file=sys.stderr, flush=True)
    history = collections.Counter()
    word = re.compile(r'\w+')
    seq = 0
    while a.events == 0 or seq < a.events:
        ev = pb.ComplaintEvent.FromString(pull.recv())
        canon = ' ' + ' '.join(word.findall(ev.text.lower())) + ' '
        labels = [lab for lab, rx in regexes.items() if rx.search(canon)]
        history[ev.customer_id] += 1
        ls = set(labels)
        if ls & toxic:
            action = pb.PROTECT_EMPLOYEE
        elif pb.LEGAL_THREAT in ls:
            action = pb.ESCALATE_CENTRAL
        elif ls & extremism:
            action = pb.HOLD_LINE
        elif ls & constructive:
            action = pb.RESOLVE_LOCAL
        else:
            action = pb.ACKNOWLEDGE
        seq += 1
        d = pb.TriageDecision(event_id=ev.event_id, customer_id=ev.customer_id, seq=seq, action=action,
                              labels=[pb.LabelScore(label=lab, score=1.0) for lab in labels],
                              channel=ev.channel, ts_ms=ev.ts_ms)
        pub.send_multipart([pb.Action.Name(action).encode(), d.SerializeToString()])
    pub.close(linger=2000)
    pull.close(linger=0)
    ctx.term()


if __name__ == '__main__':
    main()
