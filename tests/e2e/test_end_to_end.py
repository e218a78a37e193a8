"""
End-to-end tests of complaintd: the real daemon, real sockets, real LMDB.

Each class starts its own daemon(s) on free loopback ports with a temporary
data directory (see daemon_harness.py) and checks the contract of
/work/shared/design.md ("Contract the outside world relies on") and
proto/complaint.proto from the outside:

  TestMixedStream          one decision per event, gap-free seq, topic = action,
                           same decision as `complaintctl classify` for first contacts
  TestBadInput             every kind of bad input is answered on REJECT and counted;
                           the daemon keeps deciding for everyone else
  TestSubscriptionFilter   a SUB on one topic gets only that topic
  TestDeduplication        a re-sent event_id: the original decision, duplicate=true
  TestRestart              history and seq survive SIGTERM + restart
  TestMatchSpans           decisions parse; match spans lie inside the text's bytes
  TestSigintBurst          SIGINT in a burst of 2000: exit 0, nothing lost between
                           the store and the published stream

Run: COMPLAINTD_BUILD=build /usr/bin/python3 -m unittest -v test_end_to_end
(from tests/e2e), or through CTest (tests/e2e/CMakeLists.txt).
"""
import glob
import json
import os
import random
import signal
import sys
import threading
import time
import unittest

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import daemon_harness as h  # noqa: E402

TS0 = 1_700_000_000_000

# ---- the mixed stream ------------------------------------------------------
# (key, lang, channel, text). Keys name the few events some tests pick out.
MIXED = [
    # Russian
    ("ru-insult", "ru", "chat", "Ты тупая что ли? Я тебе уже третий раз объясняю, дура!"),
    ("ru-insult-call", "ru", "call",
     "Клиент: Слышь, ты, идиот, соедини меня с нормальным человеком. Оператор: Я готов помочь. "
     "Клиент: Да ты ничего не можешь, бестолочь."),
    ("ru-legal", "ru", "email",
     "Мой юрист уже подготовил претензию. Если ответа не будет в течение десяти дней, "
     "встретимся в суде. Также пишу жалобу в Роспотребнадзор."),
    ("ru-defect", "ru", "email",
     "Купила чайник неделю назад, он протекает и не выключается. Прошу вернуть деньги "
     "или заменить на исправный."),
    ("ru-promise", "ru", "chat",
     "Заказ 48213 должны были привезти вчера с 10 до 14, курьер так и не приехал. Когда будет доставка?"),
    ("ru-thanks", "ru", "email", "Спасибо большое Марине из отдела выдачи, помогла быстро и вежливо!"),
    ("ru-staff-note", "ru", "staff_note",
     "Клиентка меня не слушала, перебивала и проявила неуважение ко мне как к сотруднику. "
     "Она сама виновата, что не прочитала условия."),
    ("ru-review", "ru", "review",
     "Третий раз покупаю здесь технику, доставка опять задержалась на два дня. Персонал вежливый, но "
     "сроки не соблюдают."),
    ("ru-blackmail", "ru", "chat",
     "Дайте скидку 50%, иначе напишу отзыв на всех площадках, что у вас обманывают."),
    ("ru-shaming", "ru", "social",
     "Это позор, а не магазин! Всем расскажу, как тут обращаются с людьми, пусть все знают!"),
    ("ru-masked", "ru", "chat", "Вы там совсем о*уели? Верните деньги за сломанный пылесос, дебилы."),
    # Ukrainian
    ("uk-insult", "uk", "chat", "Ти що, тупа? Я тобі втретє пояснюю, дурепа!"),
    ("uk-legal", "uk", "email",
     "Я звернуся до Держпродспоживслужби і подам до суду, якщо питання не буде вирішено."),
    ("uk-defect", "uk", "email",
     "Пральна машина зламалася через тиждень після покупки. Прошу повернути гроші або замінити її."),
    ("uk-promise", "uk", "chat",
     "Замовлення мали привезти вчора до обіду, кур'єр так і не з'явився. Коли буде доставка?"),
    ("uk-thanks", "uk", "email", "Щиро дякую Оксані з відділу видачі, допомогла швидко і ввічливо!"),
    ("uk-staff-note", "uk", "staff_note",
     "Клієнт мене не слухав і сам винен, що не прочитав умови акції."),
    ("uk-review", "uk", "review", "Непоганий магазин, але черги на касі дуже довгі."),
    ("uk-shaming", "uk", "social", "Це ганьба, а не магазин! Усім розповім, як тут ставляться до людей!"),
    # Polish
    ("pl-insult", "pl", "chat", "Jesteś głupia czy tylko udajesz? Ile razy mam ci tłumaczyć, idiotko?"),
    ("pl-insult-call", "pl", "call", "Klient: Ty debilu, daj mi kierownika, z tobą nie będę gadał."),
    ("pl-legal", "pl", "email",
     "Sprawę zgłoszę do UOKiK i do rzecznika konsumentów, a jeśli trzeba, złożę pozew."),
    ("pl-defect", "pl", "email",
     "Odkurzacz przestał działać po dwóch dniach. Proszę o zwrot pieniędzy albo wymianę na nowy."),
    ("pl-promise", "pl", "chat",
     "Zamówienie miało przyjść w poniedziałek, dziś czwartek i dalej nic. Gdzie jest moja paczka?"),
    ("pl-thanks", "pl", "email", "Dziękuję pani Annie za cierpliwość i szybkie załatwienie sprawy!"),
    ("pl-staff-note", "pl", "staff_note",
     "Klient mnie nie słuchał, był niegrzeczny i sam jest winny, bo nie przeczytał regulaminu."),
    ("pl-review", "pl", "review", "Sklep w porządku, ale obsługa przy kasie mogłaby być szybsza."),
    ("pl-blackmail", "pl", "chat",
     "Dajcie mi 50% rabatu, bo inaczej opiszę Was na wszystkich forach i na Facebooku."),
    # English
    ("en-insult", "en", "chat",
     "Are you stupid or just pretending? How many times do I have to explain this, you moron?"),
    ("en-insult-call", "en", "call",
     "Customer: Listen, you useless idiot, put me through to someone with a brain."),
    ("en-legal", "en", "email",
     "I will be filing a complaint with the BBB and taking you to small claims court if this is not resolved."),
    ("en-defect", "en", "email",
     "The kettle I bought last week leaks and the switch is broken. I want a refund or a replacement."),
    ("en-promise", "en", "chat",
     "My order was supposed to arrive Monday, it's Thursday and still nothing. Where is my package?"),
    ("en-thanks", "en", "email", "Many thanks to Sarah at the returns desk, she sorted everything out in minutes!"),
    ("en-staff-note", "en", "staff_note",
     "The customer would not listen to me and was disrespectful; it was her own fault for not reading the terms."),
    ("en-review", "en", "review", "Decent prices, but the queue at the tills was twenty minutes long."),
    ("en-blackmail", "en", "chat",
     "Give me 50% off or I'll post one-star reviews everywhere and tell everyone you're scammers."),
    ("en-shaming", "en", "social",
     "Worst store ever. Everyone needs to know how they treat customers here, share this!"),
    ("mixed-emoji", "ru", "chat", "😡😡 Ну вы и клоуны 🤡, верните деньги за брак!"),
    ("ru-separators", "ru", "chat", "Д.у.р.а ты, а не кассир. И-Д-И-О-Т-К-А."),
]

# Events of the unambiguous kind whose action is stated by the taxonomy itself
# (an explicit insult aimed at the employee protects the employee), checked
# literally; everything else is checked against complaintctl classify.
EXPECTED_ACTIONS = {
    "ru-insult": "PROTECT_EMPLOYEE",
    "ru-insult-call": "PROTECT_EMPLOYEE",
}


def corpus_items(limit=40):
    """Extra (key, lang, channel, text) from tests/corpus/*.jsonl, if any."""
    out = []
    for path in sorted(glob.glob(os.path.join(h.ROOT, "tests", "corpus", "*.jsonl"))):
        with open(path, encoding="utf-8") as f:
            for n, line in enumerate(f, 1):
                if not line.strip():
                    continue
                try:
                    d = json.loads(line)
                except ValueError:
                    continue
                if not isinstance(d.get("text"), str) or not d["text"].strip():
                    continue
                ch = d.get("channel") or "chat"
                if ch not in h.CHANNELS:
                    continue
                out.append(("corpus-%s-%d" % (os.path.basename(path), n), d.get("lang") or "",
                            ch, d["text"]))
    random.Random(7).shuffle(out)
    return out[:limit]


def make_events(items, prefix, customer=None):
    """dict events (JSON Lines field names) from (key, lang, channel, text)."""
    evs = []
    for i, (key, lang, ch, text) in enumerate(items):
        evs.append({
            "event_id": "%s-%03d" % (prefix, i),
            "customer_id": customer or "%s-cust-%03d" % (prefix, i),
            "channel": ch, "text": text, "lang": lang,
            "ts_ms": TS0 + i * 1000, "store_id": "store-%d" % (i % 5),
            "employee_id": "emp-%d" % (i % 7), "key": key,
        })
    return evs


def wire(ev):
    return h.event_bytes(**{k: v for k, v in ev.items() if k != "key"})


def ctl_event(ev):
    return {k: v for k, v in ev.items() if k != "key"}


class E2ETestCase(unittest.TestCase):
    """Starts daemons that are always killed; prints their logs on failure."""

    def setUp(self):
        self.daemons = []
        self.sockets = []

    def daemon(self, **kw):
        d = h.Daemon(**kw)
        self.daemons.append(d)
        self.addCleanup(d.kill)
        return d.start()

    def subscriber(self, d, topics=("",)):
        s = h.Subscriber(d, topics)
        self.addCleanup(s.close)
        return s

    def producer(self, d, **kw):
        p = h.Producer(d, **kw)
        self.addCleanup(p.close)
        return p

    def run(self, result=None):
        if result is None:
            return super().run(result)
        before = len(result.failures) + len(result.errors)
        out = super().run(result)
        if len(result.failures) + len(result.errors) > before:
            for d in getattr(self, "daemons", []):
                sys.stderr.write("\n" + d.log() + "\n")
        return out

    def assertGapFree(self, decisions, start=1):
        seqs = [d.msg.seq for d in decisions]
        self.assertEqual(seqs, sorted(seqs), "decisions published out of seq order: %s" % seqs)
        self.assertEqual(len(seqs), len(set(seqs)), "a seq published twice: %s" % seqs)
        self.assertEqual(seqs, list(range(start, start + len(seqs))), "seq has a gap")


# ---- (1) ---------------------------------------------------------------------

class TestMixedStream(E2ETestCase):

    def test_every_event_one_decision_matching_classify(self):
        items = MIXED + corpus_items()
        evs = make_events(items, "mix")
        d = self.daemon()
        sub = self.subscriber(d)
        push = self.producer(d)
        for ev in evs:
            push.send(wire(ev))
        got = sub.collect(len(evs))
        extra = sub.drain(quiet=0.5)
        self.assertEqual(extra, [], "more decisions than events")

        by_id = {}
        for dec in got:
            m = dec.msg
            self.assertNotIn(m.event_id, by_id, "two decisions for %s" % m.event_id)
            by_id[m.event_id] = dec
            self.assertEqual(m.reject_reason, "", "valid event rejected: %r" % dec)
            self.assertFalse(m.duplicate, repr(dec))
            self.assertNotEqual(m.action, 0, "a decided event without an action: %r" % dec)
            self.assertEqual(dec.topic, h.action_name(m.action), "topic is not the action")
        self.assertEqual(set(by_id), {e["event_id"] for e in evs})
        self.assertGapFree(got, 1)

        offline = h.classify([ctl_event(e) for e in evs])
        for ev in evs:
            m = by_id[ev["event_id"]].msg
            with self.subTest(event=ev["event_id"], key=ev["key"]):
                self.assertEqual(m.customer_id, ev["customer_id"])
                self.assertEqual(h.pb().Channel.Name(m.channel).lower(), ev["channel"])
                self.assertEqual(m.store_id, ev["store_id"])
                self.assertEqual(m.employee_id, ev["employee_id"])
                self.assertEqual(m.ts_ms, ev["ts_ms"])
                self.assertGreater(m.decided_ms, 0)
                c = offline[ev["event_id"]]
                # First contact for every customer: the daemon decides exactly as
                # complaintctl classify does without history.
                self.assertEqual(h.action_name(m.action), c["action"], "action differs from classify")
                self.assertEqual(sorted(h.label_name(l.label) for l in m.labels), sorted(c["labels"]))
                self.assertEqual(m.public_response, c["public_response"])
                self.assertEqual(m.manager_review, c["manager_review"])
                self.assertEqual(m.coach_employee, c["coach_employee"])
                self.assertEqual(m.compensation_tier, c["compensation_tier"])
                self.assertEqual(sorted((x.rule_id, x.start, x.end) for x in m.matches),
                                 sorted((x["rule"], x["start"], x["end"]) for x in c["matches"]))
                if ev["key"] in EXPECTED_ACTIONS:
                    self.assertEqual(h.action_name(m.action), EXPECTED_ACTIONS[ev["key"]])

        st = d.wait_stats(lambda s: s["decided"] >= len(evs))
        self.assertEqual(st["decided"], len(evs))
        self.assertEqual(st["rejected"], 0)
        self.assertEqual(st["published"], len(evs))
        self.assertEqual(st["last_seq"], len(evs))
        d.stop(signal.SIGTERM)


# ---- (2) ---------------------------------------------------------------------

def good_event(i, prefix="good"):
    key, lang, ch, text = MIXED[i % len(MIXED)]
    return {"event_id": "%s-%d" % (prefix, i), "customer_id": "%s-cust-%d" % (prefix, i),
            "channel": ch, "text": text, "lang": lang, "ts_ms": TS0 + i}


def malformed_bytes():
    # A length-delimited field 1 announcing 127 bytes, followed by fewer: no
    # protobuf parser can take it, whatever the rest is.
    rnd = random.Random(1234)
    return b"\x0a\x7f" + bytes(rnd.randrange(256) for _ in range(40))


def invalid_utf8_text_bytes():
    head = h.event_bytes(event_id="bad-utf8", customer_id="bad-cust-utf8", channel="chat")
    return head + h.raw_string_field(4, "Кассир ".encode() + b"\xff\xfe\xc3\x28 \xed\xa0\x80")


# (name, payload, event_id echoed in the reject or "" when it cannot be read)
def bad_inputs():
    return [
        ("malformed protobuf", malformed_bytes(), ""),
        ("invalid UTF-8 text", invalid_utf8_text_bytes(), "bad-utf8"),
        ("empty text", h.event_bytes(event_id="bad-empty", customer_id="bad-cust-empty",
                                     channel="chat", text=""), "bad-empty"),
        ("missing customer_id", h.event_bytes(event_id="bad-nocust", channel="chat",
                                              text="Верните деньги за брак."), "bad-nocust"),
        # A time far outside any clock would poison the customer's history
        # (decay, windows); a negative one too.
        ("ts_ms past year 9999", h.event_bytes(event_id="bad-future", customer_id="bad-cust-time",
                                               channel="chat", text="Верните деньги за брак.",
                                               ts_ms=253402300800000), "bad-future"),
        ("negative ts_ms", h.event_bytes(event_id="bad-past", customer_id="bad-cust-time",
                                         channel="chat", text="Верните деньги за брак.",
                                         ts_ms=-5), "bad-past"),
        ("over max_message_bytes", h.event_bytes(event_id="bad-big", customer_id="bad-cust-big",
                                                 channel="email", text="жалоба " * 1500), None),
        # Last of the bad ones: see test_zero_byte_message.
        ("0-byte message", b"", ""),
    ]


class TestBadInput(E2ETestCase):
    CONFIG = {"max_message_bytes": 4096}

    def send_and_get_one(self, d, sub, push, payload, what, timeout=5.0):
        push.send(payload)
        try:
            return sub.collect(1, timeout=timeout)[0]
        except AssertionError as e:
            raise AssertionError("no decision for the %s: %s" % (what, e))

    def assertRejected(self, dec, what, event_id):
        self.assertEqual(dec.topic, "REJECT", "%s: %r" % (what, dec))
        self.assertNotEqual(dec.msg.reject_reason, "", "%s: empty reject_reason" % what)
        self.assertEqual(dec.msg.action, 0, "%s: a reject with an action" % what)
        if event_id is not None:
            self.assertEqual(dec.msg.event_id, event_id, what)

    def test_each_bad_input_rejected_and_good_still_decided(self):
        d = self.daemon(config=self.CONFIG)
        sub = self.subscriber(d)
        push = self.producer(d)
        bad = bad_inputs()
        self.assertGreater(len(h.event_bytes(event_id="bad-big", customer_id="x", text="жалоба " * 1500)),
                           8192)
        seq = 0
        failures = []
        for what, payload, event_id in bad:
            try:
                dec = self.send_and_get_one(d, sub, push, payload, what, 2.0 if failures else 5.0)
                seq += 1
                self.assertRejected(dec, what, event_id)
                self.assertEqual(dec.msg.seq, seq, what)
                if "ts_ms" in what:
                    self.assertIn("ts_ms out of range", dec.msg.reject_reason, what)
            except AssertionError as e:
                failures.append("%s: %s" % (what, e))
        # Several good events afterwards, so that every worker gets one.
        good = [good_event(i) for i in range(6)]
        for ev in good:
            try:
                dec = self.send_and_get_one(d, sub, push, h.event_bytes(**ev), "valid event %s" % ev["event_id"],
                                            1.0 if failures else 5.0)
                seq += 1
                self.assertNotEqual(dec.topic, "REJECT", repr(dec))
                self.assertEqual(dec.msg.event_id, ev["event_id"])
                self.assertEqual(dec.topic, h.action_name(dec.msg.action))
                self.assertEqual(dec.msg.seq, seq)
            except AssertionError as e:
                failures.append("after the bad input, %s" % e)
        st = d.wait_stats(lambda s: s["rejected"] >= len(bad) and s["decided"] >= len(good), timeout=2)
        if st["rejected"] != len(bad) or st["decided"] != len(good):
            failures.append("stats: rejected=%d decided=%d, want %d and %d"
                            % (st["rejected"], st["decided"], len(bad), len(good)))
        try:
            d.stop(signal.SIGTERM, timeout=10.0)
        except AssertionError as e:
            failures.append("stop: %s" % str(e).split("\n")[0])
        if failures:
            self.fail("\n".join(failures))

    def test_zero_byte_message(self):
        """A 0-byte message is bad input like any other: a REJECT, and the
        daemon keeps deciding for everyone and still stops on SIGTERM."""
        d = self.daemon(config=self.CONFIG, threads=2)
        sub = self.subscriber(d)
        push = self.producer(d)
        push.send(b"")
        first = sub.drain(quiet=1.0, timeout=3.0)
        good = [good_event(i, "after-zero") for i in range(8)]
        for ev in good:
            push.send(h.event_bytes(**ev))
        rest = sub.drain(quiet=1.5, timeout=8.0)
        decided = {x.msg.event_id for x in rest if x.topic != "REJECT"}
        missing = sorted({e["event_id"] for e in good} - decided)
        problems = []
        if [x.topic for x in first] != ["REJECT"]:
            problems.append("the 0-byte message got %r, want one REJECT" % first)
        if missing:
            problems.append("after the 0-byte message, %d of %d valid events got no decision: %s"
                            % (len(missing), len(good), missing))
        rc = None
        d.send_signal(signal.SIGTERM)
        rc = d.wait(10.0)
        if rc != 0:
            problems.append("after SIGTERM: %s" % ("no exit within 10 s" if rc is None else "exit %s" % rc))
        if problems:
            self.fail("\n".join(problems))

    def test_reject_with_invalid_utf8_ids_still_parses(self):
        """A reject echoes the event's ids; a proto3 string must be UTF-8, or
        every other language's client fails to parse the decision."""
        d = self.daemon(config=self.CONFIG)
        sub = self.subscriber(d)
        push = self.producer(d)
        payload = (h.event_bytes(event_id="bad-id-utf8", channel="chat", text="Верните деньги")
                   + h.raw_string_field(2, b"cust-\xff\xfe"))
        push.send(payload)
        try:
            dec = sub.collect(1, timeout=5.0)[0]
        except Exception as e:  # DecodeError from protobuf is not an AssertionError
            self.fail("the reject of an event whose customer_id is not UTF-8 does not parse "
                      "as complaint.v1.TriageDecision: %s: %s" % (type(e).__name__, e))
        self.assertRejected(dec, "customer_id not UTF-8", None)
        d.stop()

    def test_invalid_utf8_store_and_employee_id(self):
        """store_id and employee_id are echoed into the decision too: an event
        with such an id must get a REJECT or a decision that parses."""
        d = self.daemon(config=self.CONFIG)
        sub = self.subscriber(d)
        push = self.producer(d)
        base = h.event_bytes(event_id="bad-store-utf8", customer_id="c-store", channel="chat",
                             text="Спасибо, всё отлично!")
        push.send(base + h.raw_string_field(6, b"store-\xc3\x28"))
        push.send(h.event_bytes(event_id="bad-emp-utf8", customer_id="c-emp", channel="chat",
                                text="Спасибо, всё отлично!") + h.raw_string_field(7, b"emp-\xff"))
        raw = []
        deadline = time.time() + 5
        while len(raw) < 2 and time.time() < deadline:
            if sub.poller.poll(200):
                raw.append(sub.sock.recv_multipart())
        self.assertEqual(len(raw), 2, "want one message per event, got %r" % raw)
        problems = []
        for topic, body in raw:
            m = h.pb().TriageDecision()
            try:
                m.ParseFromString(body)
            except Exception as e:
                problems.append("topic %s: %d-byte decision does not parse (%s: %s); raw %r"
                                % (topic.decode(), len(body), type(e).__name__, e, body[:80]))
        if problems:
            self.fail("\n".join(problems))
        d.stop()


# ---- (3) ---------------------------------------------------------------------

class TestSubscriptionFilter(E2ETestCase):

    def test_topic_filter(self):
        evs = make_events(MIXED, "flt")
        d = self.daemon()
        everything = self.subscriber(d)
        protect = self.subscriber(d, ("PROTECT_EMPLOYEE",))
        rejects = self.subscriber(d, ("REJECT",))
        push = self.producer(d)
        for ev in evs:
            push.send(wire(ev))
        push.send(h.event_bytes(event_id="flt-bad", customer_id="flt-bad", text=""))
        alls = everything.collect(len(evs) + 1)
        only = protect.drain(quiet=1.0)
        rej = rejects.drain(quiet=0.3)

        want = sorted(x.msg.event_id for x in alls if x.topic == "PROTECT_EMPLOYEE")
        self.assertGreater(len(want), 0, "no PROTECT_EMPLOYEE decision in the stream")
        self.assertIn("flt-000", want)  # ru-insult
        for x in only:
            self.assertEqual(x.topic, "PROTECT_EMPLOYEE", repr(x))
            self.assertEqual(h.action_name(x.msg.action), "PROTECT_EMPLOYEE", repr(x))
        self.assertEqual(sorted(x.msg.event_id for x in only), want)
        self.assertEqual([(x.topic, x.msg.event_id) for x in rej], [("REJECT", "flt-bad")])
        d.stop()


# ---- (4) ---------------------------------------------------------------------

class TestDeduplication(E2ETestCase):

    def test_resent_event_id(self):
        d = self.daemon()
        sub = self.subscriber(d)
        push = self.producer(d)
        ev = {"event_id": "dup-1", "customer_id": "c-dup", "channel": "chat",
              "text": MIXED[0][3], "lang": "ru", "ts_ms": TS0}
        push.send(h.event_bytes(**ev))
        first = sub.collect(1)[0]
        push.send(h.event_bytes(**ev))
        second = sub.collect(1)[0]
        self.assertFalse(first.msg.duplicate)
        self.assertTrue(second.msg.duplicate, repr(second))
        self.assertEqual(second.msg.seq, first.msg.seq)
        self.assertEqual(second.msg.event_id, "dup-1")
        self.assertEqual(second.msg.customer_id, "c-dup")
        self.assertEqual(second.msg.action, first.msg.action)
        self.assertEqual(second.topic, first.topic)
        # Everything but the flag is the original decision.
        again = h.pb().TriageDecision()
        again.CopyFrom(second.msg)
        again.duplicate = False
        self.assertEqual(again, first.msg)

        # The same id twice in one burst, and a re-send with another text:
        # still one decision's worth of history.
        ev2 = dict(ev, event_id="dup-2", text=MIXED[3][3])
        push.send(h.event_bytes(**ev2))
        push.send(h.event_bytes(**ev2))
        push.send(h.event_bytes(**dict(ev2, text="другой текст, тот же id")))
        burst = sub.collect(3)
        self.assertEqual(sorted(x.msg.duplicate for x in burst), [False, True, True])
        self.assertEqual({x.msg.seq for x in burst}, {first.msg.seq + 1})

        # A new event after the duplicates takes the next seq: duplicates use none.
        push.send(h.event_bytes(**dict(ev, event_id="dup-3")))
        nxt = sub.collect(1)[0]
        self.assertFalse(nxt.msg.duplicate)
        self.assertEqual(nxt.msg.seq, first.msg.seq + 2)

        st = d.wait_stats(lambda s: s["duplicates"] >= 3)
        self.assertEqual(st["duplicates"], 3)
        self.assertEqual(st["last_seq"], 3)
        d.stop()
        hist = h.history("c-dup", d.data_dir)
        self.assertIsNotNone(hist, "no history for c-dup")
        self.assertEqual(hist["events"], 3, hist)  # dup-1, dup-2, dup-3

    def test_history_counts_once(self):
        d = self.daemon()
        sub = self.subscriber(d)
        push = self.producer(d)
        ev = {"event_id": "once-1", "customer_id": "c-once", "channel": "email",
              "text": MIXED[3][3], "lang": "ru", "ts_ms": TS0}
        push.send(h.event_bytes(**ev))
        a = sub.collect(1)[0]
        push.send(h.event_bytes(**ev))
        b = sub.collect(1)[0]
        self.assertTrue(b.msg.duplicate)
        self.assertEqual(a.msg.seq, b.msg.seq)
        d.stop()
        hist = h.history("c-once", d.data_dir)
        self.assertEqual(hist["events"], 1, hist)


# ---- (5) ---------------------------------------------------------------------

class TestRestart(E2ETestCase):

    def test_history_and_seq_survive_restart(self):
        data = h.make_tempdir("restart-")
        evs = [{"event_id": "rs-%d" % i, "customer_id": "c-restart", "channel": ch,
                "text": text, "lang": lang, "ts_ms": TS0 + i * 60_000}
               for i, (_, lang, ch, text) in enumerate(MIXED[:5])]

        d1 = self.daemon(data_dir=data)
        sub = self.subscriber(d1)
        push = self.producer(d1)
        for ev in evs[:3]:
            push.send(h.event_bytes(**ev))
        run1 = sub.collect(3)
        self.assertEqual(sorted(x.msg.seq for x in run1), [1, 2, 3])
        sub.close()
        push.close()
        d1.stop(signal.SIGTERM)
        self.assertEqual(h.history("c-restart", data)["events"], 3)

        d2 = self.daemon(data_dir=data)
        sub2 = self.subscriber(d2)
        push2 = self.producer(d2)
        for ev in evs[3:]:
            push2.send(h.event_bytes(**ev))
        run2 = sub2.collect(2)
        self.assertEqual([x.msg.seq for x in run2], [4, 5], "seq does not continue from the first run")
        self.assertEqual({x.msg.event_id for x in run2}, {"rs-3", "rs-4"})
        self.assertTrue(all(not x.msg.duplicate for x in run2))
        # An event of the first run re-sent after the restart is still known.
        push2.send(h.event_bytes(**evs[0]))
        dup = sub2.collect(1)[0]
        self.assertTrue(dup.msg.duplicate, repr(dup))
        self.assertEqual(dup.msg.seq, [x.msg.seq for x in run1 if x.msg.event_id == "rs-0"][0])
        d2.stop(signal.SIGTERM)
        self.assertEqual(h.history("c-restart", data)["events"], 5)


# ---- (6) ---------------------------------------------------------------------

class TestMatchSpans(E2ETestCase):

    def test_decisions_parse_and_spans_inside_text(self):
        items = MIXED + [
            ("lead-ws", "ru", "chat", "   \t\n  ты   ИДИОТ!!!"),
            ("nbsp", "ru", "chat", "Ты\u00a0дебил\u00a0и\u00a0придурок"),
            ("combining", "ru", "chat", "Вы ду\u0301ра, а не продавец, ты тупая овца"),
            ("latin-mix", "ru", "chat", "ты тупaя oвцa, идиoт"),  # Latin a/o inside Cyrillic
            ("repeats", "ru", "chat", "ИДИИИИОООТ!!! ддддура"),
            ("emoji-tail", "uk", "social", "Ви дебіли 🤬🤬🤬"),
            ("4byte-head", "ru", "chat", "𝔘𝔫𝔦𝔠𝔬𝔡𝔢 дура 𝔘𝔫𝔦𝔠𝔬𝔡𝔢 идиот"),
        ]
        evs = make_events(items, "span")
        d = self.daemon()
        sub = self.subscriber(d)
        push = self.producer(d)
        for ev in evs:
            push.send(wire(ev))
        got = {x.msg.event_id: x for x in sub.collect(len(evs))}
        total = 0
        problems = []
        for ev in evs:
            dec = got[ev["event_id"]]
            # Round trip through Python's runtime: nothing lost or unknown.
            m = h.pb().TriageDecision()
            m.ParseFromString(dec.raw)
            self.assertEqual(m.SerializeToString(deterministic=True),
                             dec.msg.SerializeToString(deterministic=True))
            text = ev["text"].encode("utf-8")
            labels = {l.label for l in m.labels}
            for x in m.matches:
                total += 1
                where = "%s (%s) rule %s [%d,%d) of %d bytes" % (ev["event_id"], ev["key"], x.rule_id,
                                                                  x.start, x.end, len(text))
                if not (0 <= x.start < x.end <= len(text)):
                    problems.append("span outside the text: " + where)
                    continue
                try:
                    text[x.start:x.end].decode("utf-8")
                except UnicodeDecodeError:
                    problems.append("span cuts a UTF-8 character: %s: %r" % (where, text[x.start:x.end]))
                if x.label not in labels:
                    problems.append("match label %s not among the decision's labels: %s"
                                    % (h.label_name(x.label), where))
        self.assertGreater(total, 10, "too few matches to say anything about spans")
        if problems:
            self.fail("\n".join(problems))
        d.stop()


# ---- (7) ---------------------------------------------------------------------

class TestPublishBurst(E2ETestCase):
    """The publisher sends a whole group at once. A subscriber that keeps up
    must not lose decisions to that burst, even with a PUB queue (hwm) far
    smaller than a group."""
    N = 4000

    def test_subscriber_gets_every_decision_of_a_burst(self):
        d = self.daemon(config={"hwm": 10, "batch_size": 1000})
        sub = self.subscriber(d)
        push = self.producer(d)
        payloads = [h.event_bytes(event_id="pb-%05d" % i, customer_id="pb-c%03d" % (i % 101),
                                  channel=MIXED[i % len(MIXED)][2], text=MIXED[i % len(MIXED)][3],
                                  lang=MIXED[i % len(MIXED)][1], ts_ms=TS0 + i)
                    for i in range(self.N)]
        for p in payloads:
            push.send(p)
        got = sub.collect(self.N)
        self.assertEqual(sorted(x.msg.event_id for x in got), ["pb-%05d" % i for i in range(self.N)])
        seqs = sorted(x.msg.seq for x in got)
        self.assertEqual(seqs, list(range(seqs[0], seqs[0] + self.N)), "a gap in the published seqs")


class TestRunsAndOrder(E2ETestCase):
    """Ingest hands events to the workers in runs, and the writer decides the
    runs in the order ingest took them."""

    def test_events_within_the_linger_are_one_run_and_one_commit(self):
        d = self.daemon(config={"ingest_linger_us": 500000})
        sub = self.subscriber(d)
        push = self.producer(d)
        self.assertEqual(d.stats()["commits"], 0)
        for i in range(10):
            push.send(wire(good_event(i, "linger")))
        time.sleep(0.02)  # well inside the linger: the run is still open
        for i in range(10, 20):
            push.send(wire(good_event(i, "linger")))
        got = sub.collect(20)
        self.assertEqual(sorted(x.msg.event_id for x in got), sorted("linger-%d" % i for i in range(20)))
        st = d.wait_stats(lambda s: s["published"] >= 20)
        self.assertEqual(st["commits"], 1, "the 20 events were not held for one run")

    def test_seqs_follow_arrival_order_across_workers(self):
        # Many small runs over four workers: they finish out of order, and
        # the writer must still give seqs in the order the events came.
        n = 3000
        d = self.daemon(threads=4, config={"ingest_linger_us": 0})
        sub = self.subscriber(d)
        push = self.producer(d)
        for i in range(n):
            _, lang, ch, text = MIXED[i % len(MIXED)]
            push.send(h.event_bytes(event_id="ord-%05d" % i, customer_id="ord-c%d" % (i % 5),
                                    channel=ch, text=text, lang=lang, ts_ms=TS0 + i))
        got = sub.collect(n)
        by_seq = sorted(got, key=lambda x: x.msg.seq)
        order = [x.msg.event_id for x in by_seq]
        firsts = [(a, b) for a, b in zip(order, order[1:]) if a > b]
        self.assertEqual(firsts[:5], [], "decided out of arrival order")
        self.assertEqual(order, ["ord-%05d" % i for i in range(n)])


class TestSigintBurst(E2ETestCase):
    N = 2000
    CUSTOMERS = 37

    def test_sigint_during_burst(self):
        d = self.daemon(threads=2)
        sub = self.subscriber(d)
        push = self.producer(d, send_timeout=2.0)
        evs = []
        for i in range(self.N):
            _, lang, ch, text = MIXED[i % len(MIXED)]
            evs.append({"event_id": "burst-%05d" % i, "customer_id": "burst-c%02d" % (i % self.CUSTOMERS),
                        "channel": ch, "text": text, "lang": lang, "ts_ms": TS0 + i})
        payloads = [h.event_bytes(**e) for e in evs]
        sent = [0]

        def produce():
            for i, p in enumerate(payloads):
                if i == self.N // 2:
                    # Mid-burst, once decisions flow (a slow sanitizer build
                    # may not have taken any event yet): SIGINT.
                    deadline = time.monotonic() + 20
                    while not received and time.monotonic() < deadline:
                        time.sleep(0.005)
                    d.send_signal(signal.SIGINT)
                try:
                    push.send(p)
                except Exception:
                    break  # the daemon stopped taking events
                sent[0] += 1

        received = []
        stop_collecting = threading.Event()

        def collect():
            while not stop_collecting.is_set():
                x = sub._recv_one(0.2)
                if x is not None:
                    received.append(x)

        collector = threading.Thread(target=collect, daemon=True)
        collector.start()
        producer = threading.Thread(target=produce, daemon=True)
        producer.start()
        rc = d.wait(30.0)
        producer.join(10)
        if rc is None:
            d.kill()
        # What the daemon published before it exited is on its way: let it come.
        last = -1
        deadline = time.monotonic() + 10
        while len(received) != last and time.monotonic() < deadline:
            last = len(received)
            time.sleep(1.0)
        stop_collecting.set()
        collector.join(5)
        self.assertEqual(rc, 0, "complaintd after SIGINT: %s" % ("no exit in 30 s" if rc is None else rc))

        K = len(received)
        sys.stderr.write("\n[burst: %d sent, %d decided before the daemon stopped] " % (sent[0], K))
        self.assertGreater(K, 0, "nothing was decided before SIGINT")
        self.assertLessEqual(K, sent[0])
        for x in received:
            self.assertEqual(x.msg.reject_reason, "", repr(x))
            self.assertFalse(x.msg.duplicate, repr(x))
            self.assertEqual(x.topic, h.action_name(x.msg.action))
        ids = [x.msg.event_id for x in received]
        self.assertEqual(len(ids), len(set(ids)), "an event decided twice")
        self.assertTrue(set(ids) <= {e["event_id"] for e in evs})
        self.assertGapFree(received, 1)

        per_customer = {}
        for x in received:
            per_customer[x.msg.customer_id] = per_customer.get(x.msg.customer_id, 0) + 1
        for c in range(self.CUSTOMERS):
            cid = "burst-c%02d" % c
            hist = h.history(cid, d.data_dir)
            stored = hist["events"] if hist else 0
            self.assertEqual(stored, per_customer.get(cid, 0),
                             "%s: history has %d events, %d decisions were published"
                             % (cid, stored, per_customer.get(cid, 0)))

        # Nothing was committed without being published: after a restart the
        # next decision takes seq K+1.
        d2 = self.daemon(data_dir=d.data_dir)
        sub2 = self.subscriber(d2)
        push2 = self.producer(d2)
        push2.send(h.event_bytes(event_id="after-burst", customer_id="burst-c00", channel="chat",
                                 text="Спасибо!", ts_ms=TS0 + self.N))
        nxt = sub2.collect(1)[0]
        self.assertEqual(nxt.msg.seq, K + 1, "the store holds decisions that were never published")
        # An event that was decided before SIGINT is known after it.
        push2.send(payloads[0])
        again = sub2.collect(1)[0]
        if "burst-00000" in ids:
            self.assertTrue(again.msg.duplicate)
        d2.stop()


if __name__ == "__main__":
    unittest.main()
