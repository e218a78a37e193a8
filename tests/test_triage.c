/* Unit tests: triage in a real LMDB store. A batch folds each customer's and
 * employee's record (decoded once, written once at the commit), so the same
 * stream must give the same decisions, byte for byte, and the same stored
 * histories whether it is committed as one batch, in batches of a few
 * events, or one event per batch. */
#include "testutil.h"

#include "triage.h"

enum { EVENTS = 600, CUSTOMERS = 9, EMPLOYEES = 3 };

typedef struct stream_event {
    char     event_id[32], customer_id[32], employee_id[32];
    uint32_t labels;
    int      channel;
    int64_t  ts_ms;
} stream_event;

/* A fixed pseudo-random stream: few customers, so they repeat within a
 * batch; labels drawn sparsely over the whole set, so every branch of the
 * policy is taken; every 50th event re-sends an earlier id. */
static void make_stream(stream_event *s)
{
    uint64_t x = 88172645463325252ULL;
    for (int i = 0; i < EVENTS; i++) {
        x ^= x << 13, x ^= x >> 7, x ^= x << 17;
        stream_event *e = &s[i];
        memset(e, 0, sizeof *e);
        int id = (i % 50 == 49) ? (int)(x % (uint64_t)i) : i;
        snprintf(e->event_id, sizeof e->event_id, "ev-%d", id);
        snprintf(e->customer_id, sizeof e->customer_id, "cust-%d", (int)((x >> 8) % CUSTOMERS));
        if ((x >> 16) % 3)
            snprintf(e->employee_id, sizeof e->employee_id, "emp-%d",
                     (int)((x >> 20) % EMPLOYEES));
        for (int b = 0; b < 2; b++)
            if ((x >> (24 + 8 * b)) % 3 == 0)
                e->labels |= 1u << (1 + (x >> (28 + 8 * b)) % (LABEL_COUNT - 1));
        e->channel = (int)((x >> 44) % CHANNEL_COUNT);
        e->ts_ms = 1700000000000LL + (int64_t)i * 3600 * 1000;  /* an hour apart: decay moves */
    }
}

typedef struct run_result {
    strbuf   bytes;               /* every decision, each preceded by its length */
    int      status[EVENTS];
    hist_customer customers[CUSTOMERS];
    hist_employee employees[EMPLOYEES];
} run_result;

/* Decide the stream in batches of `batch` events into a fresh store. */
static void run(const stream_event *s, size_t batch, run_result *out)
{
    char *dir = tu_tempdir();
    char err[512];
    hist_env *env = hist_open(dir, 16, HIST_NO_SYNC, 0, err, sizeof err);
    if (!env)
        fail_msg("%s", err);
    policy pol;
    policy_defaults(&pol);
    triage_session ts;
    memset(&ts, 0, sizeof ts);
    memset(out, 0, sizeof *out);
    for (size_t first = 0; first < EVENTS; first += batch) {
        assert_int_equal(triage_begin(&ts, env, &pol, 100000, 0), HIST_OK);
        for (size_t i = first; i < first + batch && i < EVENTS; i++) {
            Complaint__V1__ComplaintEvent ev = COMPLAINT__V1__COMPLAINT_EVENT__INIT;
            ev.event_id = (char *)s[i].event_id;
            ev.customer_id = (char *)s[i].customer_id;
            ev.employee_id = (char *)s[i].employee_id;
            ev.channel = (Complaint__V1__Channel)s[i].channel;
            ev.ts_ms = s[i].ts_ms;
            ev.text = "text";
            classify_result cr;
            memset(&cr, 0, sizeof cr);
            cr.labels = s[i].labels;
            const uint8_t *bytes;
            size_t len;
            int action;
            out->status[i] = triage_event(&ts, &ev, &cr, NULL, s[i].ts_ms, &action, &bytes, &len);
            assert_true(out->status[i] >= 0);
            uint32_t n = (uint32_t)len;
            strbuf_append(&out->bytes, (const char *)&n, sizeof n);
            strbuf_append(&out->bytes, (const char *)bytes, len);
        }
        assert_int_equal(triage_commit(&ts), HIST_OK);
    }
    triage_session_free(&ts);
    hist_txn *t;
    assert_int_equal(hist_begin(env, 0, &t), HIST_OK);
    char id[32];
    for (int c = 0; c < CUSTOMERS; c++) {
        snprintf(id, sizeof id, "cust-%d", c);
        assert_int_equal(hist_get_customer(t, id, strlen(id), &out->customers[c]), HIST_OK);
    }
    for (int e = 0; e < EMPLOYEES; e++) {
        snprintf(id, sizeof id, "emp-%d", e);
        assert_int_equal(hist_get_employee(t, id, strlen(id), &out->employees[e]), HIST_OK);
    }
    hist_abort(t);
    hist_close(env);
    tu_rmdir(dir);
}

static void assert_same(const run_result *a, const run_result *b)
{
    assert_memory_equal(a->status, b->status, sizeof a->status);
    assert_int_equal(a->bytes.len, b->bytes.len);
    assert_memory_equal(a->bytes.buf, b->bytes.buf, a->bytes.len);
    assert_memory_equal(a->customers, b->customers, sizeof a->customers);
    assert_memory_equal(a->employees, b->employees, sizeof a->employees);
}

static void test_batch_size_does_not_change_decisions(void **state)
{
    (void)state;
    static stream_event s[EVENTS];
    static run_result one_by_one, sevens, whole;
    make_stream(s);
    run(s, 1, &one_by_one);
    run(s, 7, &sevens);
    run(s, EVENTS, &whole);

    /* The stream is not trivial: customers came back, some events were
     * duplicates, and histories and employees' records hold what happened. */
    int dups = 0;
    for (int i = 0; i < EVENTS; i++)
        dups += one_by_one.status[i] == TRIAGE_DUPLICATE;
    assert_true(dups >= 5);
    uint32_t events = 0, toxic = 0;
    for (int c = 0; c < CUSTOMERS; c++) {
        events += one_by_one.customers[c].events;
        toxic += one_by_one.customers[c].toxic_incidents;
    }
    assert_int_equal(events, EVENTS - dups);
    assert_true(toxic > 0);
    assert_true(one_by_one.employees[0].events > 0);

    assert_same(&one_by_one, &sevens);
    assert_same(&one_by_one, &whole);
    strbuf_free(&one_by_one.bytes);
    strbuf_free(&sevens.bytes);
    strbuf_free(&whole.bytes);
}

/* A batch that is aborted leaves neither the store nor the next batch's
 * view of a customer changed. */
static void test_aborted_batch_is_forgotten(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    char err[512];
    hist_env *env = hist_open(dir, 16, HIST_NO_SYNC, 0, err, sizeof err);
    assert_non_null(env);
    policy pol;
    policy_defaults(&pol);
    triage_session ts;
    memset(&ts, 0, sizeof ts);
    Complaint__V1__ComplaintEvent ev = COMPLAINT__V1__COMPLAINT_EVENT__INIT;
    ev.customer_id = "c";
    ev.text = "text";
    classify_result cr;
    memset(&cr, 0, sizeof cr);
    const uint8_t *bytes;
    size_t len;
    int action;

    assert_int_equal(triage_begin(&ts, env, &pol, 1000, 0), HIST_OK);
    ev.event_id = "kept";
    assert_int_equal(triage_event(&ts, &ev, &cr, NULL, 1000, &action, &bytes, &len), TRIAGE_NEW);
    assert_int_equal(triage_commit(&ts), HIST_OK);

    assert_int_equal(triage_begin(&ts, env, &pol, 1000, 0), HIST_OK);
    ev.event_id = "dropped";
    assert_int_equal(triage_event(&ts, &ev, &cr, NULL, 2000, &action, &bytes, &len), TRIAGE_NEW);
    triage_abort(&ts);

    assert_int_equal(triage_begin(&ts, env, &pol, 1000, 0), HIST_OK);
    ev.event_id = "next";
    assert_int_equal(triage_event(&ts, &ev, &cr, NULL, 3000, &action, &bytes, &len), TRIAGE_NEW);
    assert_int_equal(ts.last_seq, 2);  /* the aborted one's seq is given again */
    assert_int_equal(triage_commit(&ts), HIST_OK);
    triage_session_free(&ts);

    hist_txn *t;
    hist_customer c;
    assert_int_equal(hist_begin(env, 0, &t), HIST_OK);
    assert_int_equal(hist_get_customer(t, "c", 1, &c), HIST_OK);
    assert_int_equal(c.events, 2);
    assert_int_equal(c.recent[0].seq, 2);
    assert_int_equal(c.recent[1].seq, 1);
    uint64_t seq;
    assert_int_equal(hist_get_event(t, "dropped", 7, &seq), HIST_NOTFOUND);
    hist_abort(t);
    hist_close(env);
    tu_rmdir(dir);
}

/* triage_build, packed, decoded and shown as JSON (codec). */
static void test_decision_roundtrip(void **state)
{
    (void)state;
    event_msg ev;
    complaint__v1__complaint_event__init(&ev);
    ev.event_id = "e-9";
    ev.customer_id = "c-9";
    ev.channel = COMPLAINT__V1__CHANNEL__REVIEW;
    classify_result cr;
    memset(&cr, 0, sizeof cr);
    cr.labels = (1u << 12) | (1u << 14);
    cr.score[12] = 1.0f;
    cr.score[14] = 2.0f;
    decision d;
    memset(&d, 0, sizeof d);
    d.action = 5;
    d.public_response = 1;
    d.tier = 2;
    d.amount = 1500;
    snprintf(d.reasons[0], sizeof d.reasons[0], "constructive");
    d.n_reasons = 1;
    triage t;
    triage_build(&t, &ev, &cr, NULL, &d, 42);
    uint8_t buf[512];
    size_t n = complaint__v1__triage_decision__pack(&t.msg, buf);
    decision_msg *m = complaint__v1__triage_decision__unpack(NULL, n, buf);
    assert_non_null(m);
    assert_int_equal(m->seq, 42);
    assert_int_equal(m->action, COMPLAINT__V1__ACTION__RESOLVE_LOCAL);
    assert_int_equal(m->n_labels, 2);
    assert_int_equal(m->labels[0]->label, COMPLAINT__V1__LABEL__PRODUCT_DEFECT);
    strbuf sb = STRBUF_INIT;
    codec_decision_json(&sb, m);
    assert_non_null(strstr(sb.buf, "\"action\":\"RESOLVE_LOCAL\""));
    assert_non_null(strstr(sb.buf, "\"labels\":[\"product_defect\",\"refund_request\"]"));
    assert_non_null(strstr(sb.buf, "\"public_response\":true"));
    assert_non_null(strstr(sb.buf, "\"compensation_amount\":1500"));
    assert_non_null(strstr(sb.buf, "\"channel\":\"review\""));
    strbuf_free(&sb);
    complaint__v1__triage_decision__free_unpacked(m, NULL);
}

/* With the learned layer: each label says where it came from, the model's
 * n-grams are copied out of the event's text with their spans (only for
 * labels the decision carries), the models are named, and the JSON shows
 * them as complaintctl classify does. Without it the decision is as before. */
static void test_decision_explains_the_model(void **state)
{
    (void)state;
    event_msg ev;
    complaint__v1__complaint_event__init(&ev);
    ev.event_id = "e-1";
    ev.customer_id = "c-1";
    ev.text = "you fool, the glorp broke"; /* "fool" 4..8, "glorp" 14..19 */
    classify_result cr;
    memset(&cr, 0, sizeof cr);
    cr.labels = LABEL_BIT(LABEL_INSULT) | LABEL_BIT(LABEL_PRODUCT_DEFECT);
    cr.score[LABEL_INSULT] = 1.5f;
    model_result mr;
    memset(&mr, 0, sizeof mr);
    mr.covered = LABEL_BIT(LABEL_INSULT) | LABEL_BIT(LABEL_PRODUCT_DEFECT) | LABEL_BIT(LABEL_THREAT);
    mr.add = LABEL_BIT(LABEL_INSULT) | LABEL_BIT(LABEL_PRODUCT_DEFECT);
    mr.prob[LABEL_INSULT] = 0.9f;
    mr.prob[LABEL_PRODUCT_DEFECT] = 0.8f;
    mr.prob[LABEL_THREAT] = 0.2f;
    mr.ev[0] = (model_evidence){.label = LABEL_PRODUCT_DEFECT, .weight = 2.5f, .start = 14, .end = 19};
    mr.ev[1] = (model_evidence){.label = LABEL_THREAT, .weight = 0.5f, .start = 0, .end = 3};
    mr.ev[2] = (model_evidence){.label = LABEL_INSULT, .weight = 1.0f, .start = 4, .end = 8};
    mr.n_ev = 3;
    const char *names[2] = {"models/default.model", "data/models/feedback.model"};
    triage_explain x;
    triage_explain_set(&x, LABEL_BIT(LABEL_INSULT), cr.labels, &mr, names, 2);
    assert_int_equal(x.n_ev, 2); /* threat is not in the decision: its evidence is not kept */
    decision d;
    memset(&d, 0, sizeof d);
    d.action = ACTION_PROTECT_EMPLOYEE;
    triage t;
    triage_build_explained(&t, &ev, &cr, &x, NULL, &d, 7);
    uint8_t buf[1024];
    size_t n = complaint__v1__triage_decision__pack(&t.msg, buf);
    decision_msg *m = complaint__v1__triage_decision__unpack(NULL, n, buf);
    assert_non_null(m);
    assert_int_equal(m->n_labels, 2);
    assert_int_equal(m->labels[0]->label, LABEL_INSULT);
    assert_string_equal(m->labels[0]->source, "both");
    assert_true(m->labels[0]->model_scored);
    assert_true(m->labels[0]->rule_score == 1.5f && m->labels[0]->model_score == 0.9f);
    assert_int_equal(m->labels[1]->label, LABEL_PRODUCT_DEFECT);
    assert_string_equal(m->labels[1]->source, "model");
    assert_int_equal(m->n_model_evidence, 2);
    assert_string_equal(m->model_evidence[0]->ngram, "glorp");
    assert_int_equal(m->model_evidence[0]->start, 14);
    assert_int_equal(m->model_evidence[0]->end, 19);
    assert_string_equal(m->model_evidence[1]->ngram, "fool");
    assert_int_equal(m->n_models, 2);
    assert_string_equal(m->models[1], "data/models/feedback.model");
    strbuf sb = STRBUF_INIT;
    codec_decision_json(&sb, m);
    assert_non_null(strstr(sb.buf, "\"sources\":{\"insult\":{\"rules\":1.50,\"model\":0.900,\"by\":\"both\"},"
                                   "\"product_defect\":{\"rules\":0.00,\"model\":0.800,\"by\":\"model\"}}"));
    assert_non_null(strstr(sb.buf, "\"model_evidence\":[{\"label\":\"product_defect\",\"text\":\"glorp\","
                                   "\"start\":14,\"end\":19,\"weight\":2.500}"));
    assert_non_null(strstr(sb.buf, "\"models\":[\"models/default.model\",\"data/models/feedback.model\"]"));
    /* Every label the models scored at 0.05 or more, on or off. */
    assert_non_null(strstr(sb.buf, "\"model_scores\":{\"insult\":0.900,\"threat\":0.200,"
                                   "\"product_defect\":0.800}"));
    strbuf_free(&sb);
    complaint__v1__triage_decision__free_unpacked(m, NULL);

    /* A rule's label the models vetoed: not among the labels, but in the
     * sources, in label order, as the veto. */
    classify_result vcr = cr;
    vcr.labels = LABEL_BIT(LABEL_PRODUCT_DEFECT);
    vcr.score[LABEL_THREAT] = 0.7f;
    triage_explain vx;
    triage_explain_set(&vx, LABEL_BIT(LABEL_THREAT) | LABEL_BIT(LABEL_PRODUCT_DEFECT), vcr.labels,
                       &mr, names, 1);
    triage vt;
    triage_build_explained(&vt, &ev, &vcr, &vx, NULL, &d, 8);
    assert_int_equal(vt.msg.n_labels, 1);
    assert_int_equal(vt.msg.n_vetoed, 1);
    assert_int_equal(vt.msg.vetoed[0]->label, LABEL_THREAT);
    strbuf_reset(&sb);
    codec_decision_json(&sb, &vt.msg);
    assert_non_null(strstr(sb.buf, "\"sources\":{\"threat\":{\"rules\":0.70,\"model\":0.200,"
                                   "\"by\":\"model_veto\"},\"product_defect\":{"));
    strbuf_free(&sb);

    /* The rules alone: no explanation, and none of its bytes. */
    triage plain;
    triage_build_explained(&plain, &ev, &cr, NULL, NULL, &d, 7);
    assert_int_equal(plain.msg.n_models, 0);
    assert_int_equal(plain.msg.n_model_evidence, 0);
    assert_string_equal(plain.msg.labels[0]->source, "");
    assert_false(plain.msg.labels[0]->model_scored);
    codec_decision_json(&sb, &plain.msg);
    assert_null(strstr(sb.buf, "sources"));
    strbuf_free(&sb);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_batch_size_does_not_change_decisions),
        cmocka_unit_test(test_aborted_batch_is_forgotten),
        cmocka_unit_test(test_decision_roundtrip),
        cmocka_unit_test(test_decision_explains_the_model),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
