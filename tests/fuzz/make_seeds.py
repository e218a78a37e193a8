#!/usr/bin/python3
"""Regenerate the seed corpora under tests/fuzz/corpus/ (run from anywhere).

Needs protoc and Debian's python3 with its protobuf runtime (protobuf-compiler,
python3-protobuf). Serialized events come from scripts/demo-events.jsonl;
the rest is written out here. Files are named by content, so re-running
adds nothing that is already there. Reproducers of bugs found by fuzzing are
added by hand (crash-*) and are not touched.
"""
import hashlib
import json
import os
import subprocess
import sys
import tempfile

HERE = os.path.dirname(os.path.abspath(__file__))
ROOT = os.path.normpath(os.path.join(HERE, "..", ".."))
CORPUS = os.path.join(HERE, "corpus")

CHANNELS = {"": 0, "call": 1, "chat": 2, "email": 3, "review": 4, "social": 5, "staff_note": 6}
LANGS = [None, "", "ru", "uk", "pl", "en", "de", "xx"]  # as in fuzz_classify.c


def put(target, data, name=None):
    if isinstance(data, str):
        data = data.encode()
    d = os.path.join(CORPUS, target)
    os.makedirs(d, exist_ok=True)
    name = name or hashlib.sha1(data).hexdigest()[:16]
    with open(os.path.join(d, name), "wb") as f:
        f.write(data)


def pb2():
    tmp = tempfile.mkdtemp()
    subprocess.check_call(["protoc", "-I", os.path.join(ROOT, "proto"), "--python_out", tmp,
                           os.path.join(ROOT, "proto", "complaint.proto")])
    sys.path.insert(0, tmp)
    import complaint_pb2
    return complaint_pb2


def varint(n):
    out = b""
    while True:
        b = n & 0x7F
        n >>= 7
        if n:
            out += bytes([b | 0x80])
        else:
            return out + bytes([b])


def field(num, data):
    return varint(num << 3 | 2) + varint(len(data)) + data


OBFUSCATED = [
    "Д.У.Р.А", "ты дуууура", "дурa", "п***ц полный", "what the f**k", "k u r w a", "i-d-i-o-t",
    "п'ять хвилин, don't", "дeбuлы", "пиzдец", "3л0й м0нст9р", "1d10t", "@$$hole",
    "Głupia krowa, ZAŻÓŁĆ GĘŚLĄ JAŹŃ", "ґанок ЁЛКА", "бл*ть", "б л я т ь", "с..ка", "По%уй",
    "ВЕРНИТЕ ДЕНЬГИ!!!111", "refund or I write a review", "e\u0301\u0301 cafe\u0301", "😡 идиот 😡",
    "  \t\n  ", "", "a-b_c.d", "100% возврат", "ИдИоТ", "Ａｂｃ", "\u200bд\u200bу\u200bр\u200bа",
]

RULES = {
    "basic.rules": "rule insult.ru.dura\n  label insult\n  match дура | дурак* | идиот*\n",
    "full.rules": (
        "# every keyword\nthreshold excessive_demand 2\n\n"
        "rule blackmail.en.refund_or_review\n  label blackmail\n  weight 1.5\n  lang en pl\n"
        "  channel chat call email\n  match refund* ~~4 review*\n  match or\n"
        "  unless no ~2 review\n\n"
        "rule service.en.called_me\n  label service_failure\n  match called me ~2 idiot*\n"
        "  cancels insult profanity\n\n"
        "rule profanity.en.f\n  label profanity\n  target staff\n  match fuck* | *shit* | bloody ~1 hell\n\n"
        "rule profanity.en.nomask\n  label profanity\n  nomask\n  match shite\n"
    ),
    "errors.rules": "rule x\n  label no_such_label\n  match a\n",
    "gaps.rules": "rule a.b\n  label gratitude\n  lang any\n  match дякую ~3 консультант* | thank* ~~2 you\n",
    "masked.rules": "rule insult.pl.glupia\n  label insult\n  match głupia | g*pia | k u r w a\n",
    "empty_match.rules": "rule a\n  label insult\n  match\n",
    "dup.rules": "rule a\n  label insult\n  match x\nrule a\n  label insult\n  match y\n",
    "bad_gap.rules": "rule a\n  label insult\n  match a ~~2 b ~~3 c | ~5 x | y ~\n",
    "staff.rules": "rule blame.en.x\n  label staff_blame\n  channel staff_note\n  match did not listen\n",
}

CONFIG = [
    "threads = 4\nbatch_size = 500\n",
    "matrix.product_defect.channel:chat.category:tv.repeat:2 = 3\nmatrix.service_failure = 1\n",
    "authority.msk-12 = 10000\nauthority_limit = 5000\ntier.2 = 2000\n",
    "threads = 300\n",
    "threads = 4\nthreads = 5\n",
    "no_such_key = 1\n",
    "just words without equals\n",
    "gesture = an apology # and a comment\ndurable = 0\n",
    "ingest = tcp://127.0.0.1:5560\ndata_dir = " + "d" * 1100 + "\n",
    "matrix.x = 1\nmatrix.insult.bogus:1 = 2\n",
    "half_life_days = -1\nrepeat_window_days = 99999999999999999999\n",
    "\n# only comments\n   \n",
]

JSON_LINES = [
    '{"id":"x1","customer_id":"c","text":"hello","channel":"review","ts_ms":1}',
    '{"event_id":"e","customer_id":"c","text":"t","channel":"pager"}',
    '{"event_id":"e","customer_id":"c","text":"t","ts_ms":"soon"}',
    '{"event_id":"e","event_id":"f"}',
    '[1,2,3]',
    '{"event_id":1}',
    '{"event_id":"e","customer_id":"c","text":"\\ud83d\\ude21 \\u0434","purchase_amount":12.5}',
    '{"event_id":"e", "customer_id":"c", "text":"x", "lang":"uk", "product_category":"tv",'
    ' "purchase_amount": 9223372036854775807, "ts_ms": -1}',
    '{"text":"unterminated',
]


def main():
    pb = pb2()
    events = [json.loads(l) for l in open(os.path.join(ROOT, "scripts", "demo-events.jsonl"))]
    for e in events:
        line = json.dumps(e, ensure_ascii=False)
        put("event_json", line)
        m = pb.ComplaintEvent()
        for k, v in e.items():
            setattr(m, k, CHANNELS[v] if k == "channel" else v)
        m.ts_ms = 1700000000000
        put("event_proto", m.SerializeToString())
        lang = LANGS.index(e.get("lang")) if e.get("lang") in LANGS else 0
        put("classify", bytes([CHANNELS[e["channel"]] + 8 * lang]) + e["text"].encode())
        put("normalise", e["text"])
    # events the daemon must reject, built by hand where protobuf would refuse
    base = field(1, b"e1") + field(2, b"c1")
    put("event_proto", base + field(4, b"\xd0\xb4\xff\xfe"))          # text not UTF-8
    put("event_proto", field(1, b"e1") + field(4, b"text"))            # no customer_id
    put("event_proto", base + field(4, b"hi") + varint(3 << 3) + varint(9))  # unknown channel
    put("event_proto", base + field(4, b"hi") + field(8, b"\xc0\xaf"))      # overlong lang
    put("event_proto", base + field(4, b"x" * 40))
    put("event_proto", b"\x0a\xff\xff\xff\xff\x0f")                    # truncated length
    for t in OBFUSCATED:
        put("normalise", t)
    for i, t in enumerate(OBFUSCATED[:16]):
        put("classify", bytes([(i % 7) + 8 * (2 + i % 4)]) + t.encode())
    put("classify", b"\x12" + b"\xd0\xb4\xd1")                         # truncated UTF-8
    put("classify", b"\x2a" + "ed\udc80".encode("utf-8", "surrogatepass"))  # a surrogate
    put("normalise", b"\xf4\x90\x80\x80")                              # above U+10FFFF
    with open(os.path.join(ROOT, "config", "complaintd.conf.example"), "rb") as f:
        put("config", f.read())
    for c in CONFIG:
        put("config", c)
    for name, text in RULES.items():
        put("rules", text)
    with open(os.path.join(ROOT, "rules", "other.en.rules"), "rb") as f:
        put("rules", f.read()[:4096])
    for j in JSON_LINES:
        put("event_json", j)


if __name__ == "__main__":
    main()
