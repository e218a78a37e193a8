"""End-to-end: what a new user found when trying complaintd (issue 15), against
the real daemon, its real rule pack and real sockets.

  - a lang hint never hides what the text says (a wrong hint, code-switching);
  - an event without a channel (the proto default) is still labelled, as a
    customer channel, and staff_note-only rules do not fire on it;
  - staff notes that blame the customer, in en, pl, uk and ru, go central
    with coaching; a note where the customer admits it does not;
  - Polish blackmail threatening to "write everywhere" holds the line;
  - a customer who swears at staff about a real problem protects the
    employee and still carries the complaint's labels and compensation;
  - a customer reporting poor service by a named employee coaches them.

Example sentences are our own.
"""
import unittest

import daemon_harness as h
from test_end_to_end import E2ETestCase

TS0 = 1_765_000_000_000

# (key, lang, channel, employee_id, text); channel None = not set on the wire.
EVENTS = [
    ("ru-hinted-en", "en", "chat", "", "Ну ты и дурак, честное слово."),
    ("en-in-pl", "pl", "chat", "",
     "Fuck this, paczka miała być w piątek, a dziś jest wtorek i nadal nic."),
    ("no-channel", "en", None, "",
     "You clown, give me 40% off or I will post reviews about you everywhere."),
    ("no-channel-note-words", "en", None, "", "It was his own fault, he did not listen."),
    ("note-en", "en", "staff_note", "emp-1",
     "The shopper is clearly lying, he spilled coffee on the laptop himself."),
    ("note-pl", "pl", "staff_note", "emp-2",
     "Klient sam zgubił kartę gwarancyjną, a teraz zrzuca winę na nas."),
    ("note-uk", "uk", "staff_note", "emp-3",
     "Клієнт сам пошкодив коробку, а тепер звинувачує кур'єра."),
    ("note-ru", "ru", "staff_note", "emp-4",
     "Покупательница сама разбила вазу, а теперь перекладывает вину на продавца."),
    ("note-admitted", "en", "staff_note", "emp-5",
     "The customer admitted she lost the charger herself; I sold her a new one at a discount."),
    ("pl-blackmail", "pl", "chat", "",
     "Chcę bon na 300 zł, bo inaczej napiszę wszędzie, jacy z was oszuści."),
    ("swear-and-complaint", "ru", "chat", "",
     "Вы что, ох*ели? Опять прислали не тот цвет, я заказывала чёрный."),
    ("reported-employee", "en", "chat", "emp-6",
     "The cashier was rude to me and refused to call a manager."),
]


def labels_of(m):
    return sorted(h.label_name(l.label) for l in m.labels)


class TestNewUser(E2ETestCase):

    def test_what_a_new_user_found(self):
        d = self.daemon()
        sub = self.subscriber(d)
        push = self.producer(d)
        for i, (key, lang, ch, emp, text) in enumerate(EVENTS):
            push.send(h.event_bytes(event_id=key, customer_id="nu-%d" % i, text=text,
                                    channel=ch, lang=lang, ts_ms=TS0 + i, employee_id=emp))
        got = {x.msg.event_id: x.msg for x in sub.collect(len(EVENTS))}
        self.assertEqual(set(got), {e[0] for e in EVENTS})
        act = {k: h.action_name(m.action) for k, m in got.items()}

        with self.subTest("lang hint"):
            self.assertEqual(labels_of(got["ru-hinted-en"]), ["insult"])
            self.assertEqual(act["ru-hinted-en"], "PROTECT_EMPLOYEE")
            self.assertEqual(labels_of(got["en-in-pl"]), ["broken_promise", "profanity"])
            self.assertEqual(act["en-in-pl"], "RESOLVE_LOCAL")

        with self.subTest("no channel"):
            m = got["no-channel"]
            self.assertEqual(m.channel, 0)
            self.assertEqual(m.reject_reason, "")
            self.assertEqual(labels_of(m), ["blackmail", "insult", "public_shaming_threat"])
            self.assertEqual(act["no-channel"], "PROTECT_EMPLOYEE")
            self.assertTrue(m.public_response)  # the shaming threat
            # Not known to be a staff note: no staff_blame, no escalation.
            self.assertNotIn("staff_blame", labels_of(got["no-channel-note-words"]))
            self.assertFalse(got["no-channel-note-words"].coach_employee)

        with self.subTest("staff notes"):
            for key in ("note-en", "note-pl", "note-uk", "note-ru"):
                m = got[key]
                self.assertEqual(labels_of(m), ["staff_blame"], key)
                self.assertEqual(act[key], "ESCALATE_CENTRAL", key)
                self.assertTrue(m.coach_employee, key)
            self.assertEqual(labels_of(got["note-admitted"]), [])
            self.assertEqual(act["note-admitted"], "ACKNOWLEDGE")

        with self.subTest("polish blackmail"):
            m = got["pl-blackmail"]
            self.assertEqual(labels_of(m), ["blackmail", "public_shaming_threat"])
            self.assertEqual(act["pl-blackmail"], "HOLD_LINE")
            self.assertTrue(m.public_response)
            self.assertEqual(m.compensation_amount, 0)  # no constructive label: nothing owed

        with self.subTest("swearing does not hide the complaint"):
            m = got["swear-and-complaint"]
            self.assertEqual(act["swear-and-complaint"], "PROTECT_EMPLOYEE")
            self.assertEqual(labels_of(m), ["profanity", "service_failure"])
            self.assertGreater(m.compensation_tier, 0)
            self.assertGreater(m.compensation_amount, 0)
            self.assertTrue(any("profanity aimed at staff" in r for r in m.reasons), m.reasons)
            self.assertTrue(any("complaint still stands (service_failure)" in r for r in m.reasons),
                            m.reasons)
            self.assertTrue(m.manager_review)

        with self.subTest("reported employee"):
            m = got["reported-employee"]
            self.assertIn("service_failure", labels_of(m))
            self.assertTrue(m.coach_employee)
            self.assertTrue(any("employee emp-6" in r for r in m.reasons), m.reasons)
        d.stop()


if __name__ == "__main__":
    unittest.main()
