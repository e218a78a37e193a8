/* Unit tests: managers' reviews in a real LMDB store in a temporary
 * directory (feedback.h): stored by event, a second review of an event
 * replaces the first, read back whole, counted, refused when invalid with
 * the problem named, erased by hist_forget with the rest of a customer's
 * data (and only theirs), and a store made before reviews existed still
 * opens read-only and holds none. The control command's checking and reply
 * are tested through a real daemon (tests/e2e/test_feedback.py). */
#include "testutil.h"

#include <lmdb.h>

#include "feedback.h"
#include "history.h"
#include "labels.h"

static hist_env *open_env(const char *dir, int readonly)
{
    char err[512];
    hist_env *env = hist_open(dir, 16, HIST_NO_SYNC, readonly, err, sizeof err);
    if (!env)
        fail_msg("%s", err);
    return env;
}

/* A review with its own storage, for building test input. */
typedef struct review {
    feedback_msg        fb;
    Complaint__V1__Label labels[4];
} review;

static void review_init(review *r, const char *event, const char *customer, const char *text,
                        int label)
{
    complaint__v1__feedback__init(&r->fb);
    r->fb.event_id = (char *)event;
    r->fb.customer_id = (char *)customer;
    r->fb.text = (char *)text;
    r->fb.channel = COMPLAINT__V1__CHANNEL__CHAT;
    r->fb.lang = (char *)"en";
    r->fb.reviewer = (char *)"manager-7";
    r->fb.action = COMPLAINT__V1__ACTION__HOLD_LINE;
    r->fb.labels = r->labels;
    if (label) {
        r->labels[0] = (Complaint__V1__Label)label;
        r->fb.n_labels = 1;
    }
}

static void put(hist_env *env, const feedback_msg *fb, int expect_replaced)
{
    hist_txn *t;
    int replaced = -1;
    assert_int_equal(hist_begin(env, 1, &t), HIST_OK);
    assert_null(feedback_invalid(fb, 1 << 16));
    assert_int_equal(feedback_put(t, fb, &replaced), HIST_OK);
    assert_int_equal(replaced, expect_replaced);
    assert_int_equal(hist_commit(t), HIST_OK);
}

static uint64_t count(hist_env *env)
{
    hist_txn *t;
    uint64_t n = 99;
    assert_int_equal(hist_begin(env, 0, &t), HIST_OK);
    assert_int_equal(feedback_count(t, &n), HIST_OK);
    hist_abort(t);
    return n;
}

typedef struct seen {
    char events[8][32];
    int  n;
} seen;

static int collect(const feedback_msg *fb, void *arg)
{
    seen *s = arg;
    snprintf(s->events[s->n++], sizeof s->events[0], "%s", fb->event_id);
    return 0;
}

static void test_store_replace_and_read(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    hist_env *env = open_env(dir, 0);
    review a, b, a2;
    review_init(&a, "e-1", "cust-a", "the parcel came crushed", LABEL_PRODUCT_DEFECT);
    review_init(&b, "e-2", "cust-b", "thank you for the quick help", LABEL_GRATITUDE);
    review_init(&a2, "e-1", "cust-a", "the parcel came crushed", LABEL_SERVICE_FAILURE);
    put(env, &a.fb, 0);
    put(env, &b.fb, 0);
    assert_int_equal(count(env), 2);
    put(env, &a2.fb, 1); /* the second review of e-1 replaces the first */
    assert_int_equal(count(env), 2);

    hist_txn *t;
    feedback_msg *got;
    assert_int_equal(hist_begin(env, 0, &t), HIST_OK);
    assert_int_equal(feedback_get(t, "e-1", 3, &got), HIST_OK);
    assert_string_equal(got->customer_id, "cust-a");
    assert_string_equal(got->text, "the parcel came crushed");
    assert_string_equal(got->reviewer, "manager-7");
    assert_int_equal(got->n_labels, 1);
    assert_int_equal(got->labels[0], LABEL_SERVICE_FAILURE);
    assert_int_equal(got->action, COMPLAINT__V1__ACTION__HOLD_LINE);
    assert_int_equal(got->channel, COMPLAINT__V1__CHANNEL__CHAT);
    complaint__v1__feedback__free_unpacked(got, NULL);
    assert_int_equal(feedback_get(t, "e-9", 3, &got), HIST_NOTFOUND);
    seen s = {.n = 0};
    uint64_t corrupt = 9;
    assert_int_equal(feedback_each(t, collect, &s, &corrupt), HIST_OK);
    assert_int_equal(corrupt, 0);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.events[0], "e-1");
    assert_string_equal(s.events[1], "e-2");
    /* From after a key: where a walk cut into transactions takes up. */
    s.n = 0;
    assert_int_equal(feedback_each_after(t, "e-1", 3, collect, &s, NULL), HIST_OK);
    assert_int_equal(s.n, 1);
    assert_string_equal(s.events[0], "e-2");
    s.n = 0;
    assert_int_equal(feedback_each_after(t, "e-0", 3, collect, &s, NULL), HIST_OK);
    assert_int_equal(s.n, 2); /* not stored itself: from the next one */
    s.n = 0;
    assert_int_equal(feedback_each_after(t, "e-2", 3, collect, &s, NULL), HIST_OK);
    assert_int_equal(s.n, 0);
    hist_abort(t);
    hist_close(env);
    tu_rmdir(dir);
}

static void test_invalid_reviews_are_named(void **state)
{
    (void)state;
    review r;
    review_init(&r, "e-1", "cust-a", "fine text", LABEL_INSULT);
    assert_null(feedback_invalid(&r.fb, 100));
    r.fb.event_id = (char *)"";
    assert_string_equal(feedback_invalid(&r.fb, 100),
                        "event_id missing, not UTF-8 or longer than 63 bytes");
    r.fb.event_id = (char *)"e-1";
    r.fb.customer_id = (char *)"";
    assert_non_null(strstr(feedback_invalid(&r.fb, 100), "customer_id"));
    r.fb.customer_id = (char *)"cust-a";
    r.fb.text = (char *)"";
    assert_string_equal(feedback_invalid(&r.fb, 100), "empty text");
    r.fb.text = (char *)"bad \xff utf8";
    assert_string_equal(feedback_invalid(&r.fb, 100), "text is not valid UTF-8");
    r.fb.text = (char *)"fine text";
    assert_string_equal(feedback_invalid(&r.fb, 4), "text over the size limit");
    r.labels[0] = (Complaint__V1__Label)LABEL_COUNT;
    assert_string_equal(feedback_invalid(&r.fb, 100), "unknown label");
    r.labels[0] = (Complaint__V1__Label)LABEL_INSULT;
    r.fb.action = (Complaint__V1__Action)ACTION_COUNT;
    assert_string_equal(feedback_invalid(&r.fb, 100), "unknown action");
    r.fb.action = 0; /* not given: fine */
    assert_null(feedback_invalid(&r.fb, 100));
    r.fb.channel = (Complaint__V1__Channel)CHANNEL_COUNT;
    assert_string_equal(feedback_invalid(&r.fb, 100), "unknown channel");
}

static void test_forget_erases_only_that_customers_reviews(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    hist_env *env = open_env(dir, 0);
    review r[5];
    const char *who[5] = {"gone", "stays", "gone", "gone", "stays"};
    char ids[5][8];
    for (int i = 0; i < 5; i++) {
        snprintf(ids[i], sizeof ids[i], "e-%d", i);
        review_init(&r[i], ids[i], who[i], "some words of the event", LABEL_INSULT);
        put(env, &r[i].fb, 0);
    }
    hist_forgotten f;
    assert_int_equal(hist_forget(env, "gone", 4, &f), HIST_OK);
    assert_int_equal(f.feedback_erased, 3);
    assert_int_equal(count(env), 2);
    hist_txn *t;
    seen s = {.n = 0};
    assert_int_equal(hist_begin(env, 0, &t), HIST_OK);
    assert_int_equal(feedback_each(t, collect, &s, NULL), HIST_OK);
    hist_abort(t);
    assert_int_equal(s.n, 2);
    assert_string_equal(s.events[0], "e-1");
    assert_string_equal(s.events[1], "e-4");
    /* Again: nothing left of theirs. A customer id that is a prefix of
     * another's erases nothing of the other. */
    assert_int_equal(hist_forget(env, "gone", 4, &f), HIST_OK);
    assert_int_equal(f.feedback_erased, 0);
    assert_int_equal(hist_forget(env, "stay", 4, &f), HIST_OK);
    assert_int_equal(f.feedback_erased, 0);
    assert_int_equal(count(env), 2);
    hist_close(env);
    tu_rmdir(dir);
}

/* A store from before reviews existed: its environment lacks the
 * "feedback" database. Read-only it opens and holds no reviews; opened for
 * writing it gains the database. */
static void test_store_without_feedback_database(void **state)
{
    (void)state;
    char *dir = tu_tempdir();
    MDB_env *e;
    MDB_txn *t;
    MDB_dbi dbi;
    const char *older[] = {"customers", "events", "decisions", "meta", "employees"};
    assert_int_equal(mdb_env_create(&e), 0);
    assert_int_equal(mdb_env_set_maxdbs(e, 8), 0);
    assert_int_equal(mdb_env_open(e, dir, 0, 0600), 0);
    assert_int_equal(mdb_txn_begin(e, NULL, 0, &t), 0);
    for (size_t i = 0; i < sizeof older / sizeof older[0]; i++)
        assert_int_equal(mdb_dbi_open(t, older[i], MDB_CREATE, &dbi), 0);
    assert_int_equal(mdb_txn_commit(t), 0);
    mdb_env_close(e);

    hist_env *ro = open_env(dir, 1);
    assert_int_equal(count(ro), 0);
    hist_close(ro);
    hist_env *rw = open_env(dir, 0);
    review r;
    review_init(&r, "e-1", "c", "text", 0); /* no label applies: a review too */
    put(rw, &r.fb, 0);
    assert_int_equal(count(rw), 1);
    hist_close(rw);
    tu_rmdir(dir);
}

int main(void)
{
    const struct CMUnitTest tests[] = {
        cmocka_unit_test(test_store_replace_and_read),
        cmocka_unit_test(test_invalid_reviews_are_named),
        cmocka_unit_test(test_forget_erases_only_that_customers_reviews),
        cmocka_unit_test(test_store_without_feedback_database),
    };
    return cmocka_run_group_tests(tests, NULL, NULL);
}
