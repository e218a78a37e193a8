/* Unit tests: the decision log in a real LMDB store in a temporary
 * directory. Trimming reads what it needs from each entry's header, never
 * the decision; a store written before the header existed (bare decisions,
 * written here with LMDB directly, as the previous version wrote them)
 * still opens, reads, trims and forgets; hist_forget erases a customer and
 * redacts their decisions without opening a gap in the log. */
#include "testutil.h"

#include <lmdb.h>

#include "complaint.pb-c.h"
#include "history.h"

static hist_env *open_env(const char *dir)
{
    char err[512];
    hist_env *env = hist_open(dir, 16, HIST_NO_SYNC, 0, err, sizeof err);
    if (!env)
        fail_msg("%s", err);
    return env;
}

/* A packed decision for customer, with one match and one reason. */
static size_t pack_decision(uint8_t *buf, uint64_t seq, const char *event_id,
                            const char *customer, int64_t decided_ms)
{
    Complaint__V1__TriageDecision d = COMPLAINT__V1__TRIAGE_DECISION__INIT;
    Complaint__V1__RuleMatch rm = COMPLAINT__V1__RULE_MATCH__INIT, *rmp = &rm;
    char *reason = "a reason that names the customer";
    rm.rule_id = "rule.one";
    rm.start = 3;
    rm.end = 9;
    d.event_id = (char *)event_id;
    d.customer_id = (char *)customer;
    d.seq = seq;
    d.decided_ms = decided_ms;
    d.action = COMPLAINT__V1__ACTION__RESOLVE_LOCAL;
    d.matches = &rmp;
    d.n_matches = 1;
    d.reasons = &reason;
    d.n_reasons = 1;
    return complaint__v1__triage_decision__pack(&d, buf);
}

static void seq_key(uint64_t seq, unsigned char k[8])
{
    for (int i = 7; i >= 0; i--, seq >>= 8)
        k[i] = (unsigned char)(seq & 0xff);
}

/* Seqs from..to as the previous version stored them: the bare decision
 * under the big-endian seq, the event id -> seq in "events". */
static void write_old_layout(const char *dir, uint64_t from, uint64_t to)
{
    MDB_env *e;
    MDB_txn *t;
    MDB_dbi decisions, events;
    assert_int_equal(mdb_env_create(&e), 0);
    assert_int_equal(mdb_env_set_maxdbs(e, 8), 0);
    assert_int_equal(mdb_env_set_mapsize(e, (size_t)16 << 20), 0);
    assert_int_equal(mdb_env_open(e, dir, MDB_NOTLS, 0600), 0);
    assert_int_equal(mdb_txn_begin(e, NULL, 0, &t), 0);
    assert_int_equal(mdb_dbi_open(t, "decisions", MDB_CREATE, &decisions), 0);
    assert_int_equal(mdb_dbi_open(t, "events", MDB_CREATE, &events), 0);
    for (uint64_t s = from; s <= to; s++) {
        char id[16];
        uint8_t buf[256];
        unsigned char k[8];
        snprintf(id, sizeof id, "ev-%llu", (unsigned long long)s);
        size_t n = pack_decision(buf, s, id, s % 2 ? "odd" : "even", (int64_t)s * 1000);
        seq_key(s, k);
        MDB_val key = {8, k}, val = {n, buf}, ek = {strlen(id), id}, ev = {8, &s};
        assert_int_equal(mdb_put(t, decisions, &key, &val, 0), 0);
        assert_int_equal(mdb_put(t, events, &ek, &ev, 0), 0);
    }
    assert_int_equal(mdb_txn_commit(t), 0);
    mdb_env_close(e);
}

static void put_new(hist_txn *t, uint64_t s, const char *customer)
{
    char id[16];
    uint8_t buf[256];
    snprintf(id, sizeof id, "ev-%llu", (unsigned long long)s);
    size_t n = pack_decision(buf, s, id, customer, (int64_t)s * 1000);
    assert_int_equal(hist_log_put(t, s, (int64_t)s * 1000, id, buf, n), HIST_OK);
    assert_int_equal(hist_put_event(t, id, strlen(id), s), HIST_OK);
}

static int has_event(hist_txn *t, uint64_t s)
{
    char id[16];
    uint64_t seq;
    snprintf(id, sizeof id, "ev-%llu", (unsigned long long)s);
    int rc = hist_get_event(t, id, strlen(id), &seq);
    assert_true(rc == HIST_OK || rc == HIST_NOTFOUND);
    return rc == HIST_OK;
}

static Complaint__V1__TriageDecision *logged(hist_txn *t, uint64_t seq)
{
    const void *bytes;
    size_t len;
    assert_int_equal(hist_log_get(t, seq, &bytes, &len), HIST_OK);
    Complaint__V1__TriageDecision *m = complaint__v1__triage_decision__unpack(NULL, len, bytes);
    assert_non_null(m);
    return m;
}

static int count_each(uint64_t seq, const void *bytes, size_t len, void *ctx)
{
    Complaint__V1__TriageDecision *m = complaint__v1__triage_decision__unpack(NULL, len, bytes);
    assert_non_null(m);
    assert_int_equal(m->seq, seq);
    complaint__v1__triage_decision__free_unpacked(m, NULL);
    ++*(int *)ctx;
    return 0;
}

/* The header carries the age and the event id: trimming by age must not
 * need a decision that decodes (these do not), and must drop exactly the
 * event ids it was told. */
static void test_trim_reads_the_header_not_the_decision(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    hist_env *env = open_env(dir);
    hist_txn *t;
    assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
    for (uint64_t s = 1; s <= 10; s++) {
        char id[16];
        snprintf(id, sizeof id, "ev-%llu", (unsigned long long)s);
        /* \xff: not a protobuf message */
        assert_int_equal(hist_log_put(t, s, (int64_t)s * 1000, s == 3 ? NULL : id, "\xff junk", 6),
                         HIST_OK);
        assert_int_equal(hist_put_event(t, id, strlen(id), s), HIST_OK);
    }
    uint64_t removed = 0;
    assert_int_equal(hist_log_trim(t, 0, 5500, &removed), HIST_OK); /* decided before 5.5 s */
    assert_int_equal(removed, 5);
    for (uint64_t s = 1; s <= 10; s++)
        assert_int_equal(has_event(t, s), s == 3 || s > 5); /* 3 named no event id */
    const void *bytes;
    size_t len;
    assert_int_equal(hist_log_get(t, 5, &bytes, &len), HIST_NOTFOUND);
    assert_int_equal(hist_log_get(t, 6, &bytes, &len), HIST_OK);
    assert_int_equal(len, 6);
    assert_memory_equal(bytes, "\xff junk", 6); /* the decision only, no header */
    assert_int_equal(hist_commit(t), HIST_OK);
    hist_close(env);
    tu_rmdir(dir);
}

/* A store of the previous version's layout, then new entries after it: the
 * whole log reads, and trims by age and count through both layouts. */
static void test_old_layout_store_opens_reads_and_trims(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    hist_close(open_env(dir)); /* create the store as hist_open does */
    write_old_layout(dir, 1, 10);
    hist_env *env = open_env(dir);
    hist_txn *t;
    assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
    for (uint64_t s = 11; s <= 14; s++)
        put_new(t, s, "new");
    Complaint__V1__TriageDecision *m = logged(t, 7);
    assert_string_equal(m->event_id, "ev-7");
    assert_string_equal(m->customer_id, "odd");
    complaint__v1__triage_decision__free_unpacked(m, NULL);
    int n = 0;
    assert_int_equal(hist_log_each(t, 1, count_each, &n), HIST_OK);
    assert_int_equal(n, 14);

    uint64_t removed = 0;
    assert_int_equal(hist_log_trim(t, 4, 6000, &removed), HIST_OK); /* old entries: decoded */
    assert_int_equal(removed, 5);
    for (uint64_t s = 1; s <= 14; s++)
        assert_int_equal(has_event(t, s), s > 5);
    assert_int_equal(hist_log_trim(t, 13, 0, &removed), HIST_OK); /* across the layouts */
    assert_int_equal(removed, 7);
    for (uint64_t s = 1; s <= 14; s++)
        assert_int_equal(has_event(t, s), s >= 13);
    n = 0;
    assert_int_equal(hist_log_each(t, 1, count_each, &n), HIST_OK);
    assert_int_equal(n, 2);
    assert_int_equal(hist_commit(t), HIST_OK);
    hist_close(env);
    tu_rmdir(dir);
}

/* Forget erases the record and redacts the decisions, old layout and new,
 * keeping every seq and every entry's place in trimming. */
static void test_forget_erases_and_redacts(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    hist_close(open_env(dir));
    write_old_layout(dir, 1, 4); /* odd: 1, 3; even: 2, 4 */
    hist_env *env = open_env(dir);
    hist_txn *t;
    hist_customer c = {.events = 3, .first_ms = 1000};
    assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
    put_new(t, 5, "odd");
    put_new(t, 6, "even");
    assert_int_equal(hist_put_customer(t, "odd", 3, &c), HIST_OK);
    assert_int_equal(hist_put_customer(t, "even", 4, &c), HIST_OK);
    assert_int_equal(hist_commit(t), HIST_OK);

    hist_forgotten f;
    assert_int_equal(hist_forget(env, "odd", 3, &f), HIST_OK);
    assert_int_equal(f.history_erased, 1);
    assert_int_equal(f.decisions_redacted, 3);

    assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
    hist_customer got;
    assert_int_equal(hist_get_customer(t, "odd", 3, &got), HIST_NOTFOUND);
    assert_int_equal(hist_get_customer(t, "even", 4, &got), HIST_OK);
    assert_int_equal(got.events, 3);
    for (uint64_t s = 1; s <= 6; s++) {
        Complaint__V1__TriageDecision *m = logged(t, s);
        char id[16];
        snprintf(id, sizeof id, "ev-%llu", (unsigned long long)s);
        assert_int_equal(m->seq, s);
        assert_string_equal(m->event_id, id);
        assert_int_equal(m->decided_ms, (int64_t)s * 1000);
        int odd = s == 1 || s == 3 || s == 5;
        assert_string_equal(m->customer_id, odd ? "" : "even");
        assert_int_equal(m->n_matches, odd ? 0 : 1);
        assert_int_equal(m->n_reasons, odd ? 0 : 1);
        assert_int_equal(m->action, COMPLAINT__V1__ACTION__RESOLVE_LOCAL);
        complaint__v1__triage_decision__free_unpacked(m, NULL);
    }
    /* The redacted entries keep their age and event id for trimming. */
    uint64_t removed = 0;
    assert_int_equal(hist_log_trim(t, 0, 5500, &removed), HIST_OK);
    assert_int_equal(removed, 5);
    for (uint64_t s = 1; s <= 6; s++)
        assert_int_equal(has_event(t, s), s == 6);
    assert_int_equal(hist_commit(t), HIST_OK);

    /* Nothing left to forget: said so, nothing changed. */
    assert_int_equal(hist_forget(env, "odd", 3, &f), HIST_OK);
    assert_int_equal(f.history_erased, 0);
    assert_int_equal(f.decisions_redacted, 0);
    assert_int_equal(hist_forget(env, "nobody", 6, &f), HIST_OK);
    assert_int_equal(f.history_erased, 0);
    assert_int_equal(f.decisions_redacted, 0);
    hist_close(env);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_trim_reads_the_header_not_the_decision),
        cmocka_unit_test(test_old_layout_store_opens_reads_and_trims),
        cmocka_unit_test(test_forget_erases_and_redacts),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
