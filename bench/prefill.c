/*
 * prefill — a fresh complaintd data directory already holding N customers'
 * histories, so that the daemon can be measured against a large store
 * (bench/README.md, "store size").
 *
 *   prefill --data-dir DIR --customers N [--seed N] [--employees N]
 *           [--txn N] [--map-mb N] [--pad B] [--quiet]
 *
 * Customers are c1 .. cN: gen_stream draws a Zipf rank k in 1..M and names
 * the customer "c%llu" of k, so a corpus made with `gen_stream --customers M`
 * and M <= N sends only events of customers prefilled here.
 *
 * Each history is what the daemon would have written after a few past events
 * (1 + a geometric number, mean 3, at most 12), spread over the year before
 * gen_stream's first timestamp: themes drawn in gen_stream's proportions (a
 * second theme in a third of them), channels, stores, employees and purchase
 * amounts likewise, each decided by policy_decide against the history so far
 * and folded in by policy_record, under the default policy. So the label
 * counts, decayed weights, incidents, compensations, escalations, conflicts
 * and the ring of recent events are the daemon's own arithmetic. A
 * customer's history depends only on its id and --seed, not on N: c17 holds
 * the same record in a store of 100k customers as in one of 10M (but for the
 * seqs in its ring, numbered in key order), and a corpus is decided the same
 * way against both.
 *
 * DESIGN: keys go in in LMDB's order (bytes compared: "c1" < "c10" < "c100" <
 * "c2"), walking 1..N in the lexicographic order of their decimal strings,
 * which needs no sort. Every put then lands at the right edge of the tree, and
 * a transaction of --txn puts (500k) dirties only the pages it fills. But
 * LMDB splits a leaf that overflows at its end by moving only the new key to
 * a new page, so sorted puts pack leaves full, where the daemon's random
 * inserts leave them about two thirds full; the first update of each record
 * would then split its leaf, and the more leaves a run touches (the bigger
 * the store) the more it would pay. So each chunk of 4096 customers is put
 * twice: first with about --pad bytes more per record (event ids in the
 * ring, as records from before the ring held seqs had them), which fills the
 * leaves with fewer records, then with the real records, which replace them
 * in place and leave the slack. --pad 80 gives about 260 B of customers
 * sub-database per customer, as a store grown by the daemon has (--pad 0:
 * about 170). Commits are not flushed one by one (HIST_NO_SYNC); one
 * hist_sync at the end makes the whole store durable, so that no writeback
 * of the prefill runs under the measurement that follows.
 *
 * Employees emp00000 .. emp(E-1), the ids gen_stream names, get the counters
 * the prefilled events gave them (events, toxic incidents, blaming notes), as
 * triage does; --employees 0 writes none.
 *
 * Not written, on purpose: the decision log and the de-duplication index
 * (events). Their size is bounded by decision_log_max, not by the number of
 * customers, so they would weigh the same in a store of 100k customers and
 * one of 10M, and leaving them empty keeps the comparison about customers (a
 * store the daemon filled would hold up to a million of each). The ring's
 * seqs therefore name decisions that are not in the log (complaintctl history
 * shows them with an empty event id, as it does for decisions trimmed from
 * the log), and next_seq is stored past them so that new decisions never
 * reuse one.
 *
 * Prints progress on stderr every transaction and one JSON object on stdout:
 * customers, events, seconds, data.mdb bytes, next_seq.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <time.h>

#include "complaint.pb-c.h"
#include "history.h"
#include "policy.h"

/* gen_stream's first event timestamp; prefilled events come before it. */
#define STREAM_T0_MS 1700000000000LL
#define DAY_MS (24LL * 3600 * 1000)

static double now_s(void)
{
    struct timespec ts;
    clock_gettime(CLOCK_MONOTONIC, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec * 1e-9;
}

/* ---- random numbers: splitmix64, one stream per customer ------------------ */

typedef struct rng {
    uint64_t s;
} rng;

static uint64_t rnd(rng *r)
{
    uint64_t z = (r->s += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static unsigned rndn(rng *r, unsigned n) { return (unsigned)((rnd(r) >> 32) * n >> 32); }

/* ---- the ids in LMDB's key order --------------------------------------------
 * The successor of k among 1..n ordered as decimal strings: descend to k0
 * if it exists, else climb while the next sibling would pass n or k ends in
 * 9, then step to the next sibling. 0 after the last. */
static uint64_t lex_next(uint64_t k, uint64_t n)
{
    if (k <= n / 10)
        return k * 10;
    while (k && (k % 10 == 9 || k + 1 > n))
        k /= 10;
    return k ? k + 1 : 0;
}

/* ---- past events --------------------------------------------------------------
 * Themes and their weights (per mille) as gen_stream draws them; each theme
 * is the label the pack gives it. The toxic themes are aimed at staff. */
typedef struct theme {
    int      weight;
    unsigned labels;
} theme;

#define LB(l) (1u << COMPLAINT__V1__LABEL__##l)
#define AT_STAFF LABEL_FLAG_AT_STAFF
static const theme themes[] = {
    {140, LB(BROKEN_PROMISE)}, {140, LB(PRODUCT_DEFECT)}, {120, LB(SERVICE_FAILURE)},
    {120, LB(REFUND_REQUEST)}, {40, LB(INSULT) | AT_STAFF}, {30, LB(PROFANITY) | AT_STAFF},
    {15, LB(THREAT) | AT_STAFF}, {25, LB(HUMILIATION) | AT_STAFF}, {10, LB(HARASSMENT) | AT_STAFF},
    {30, LB(BLACKMAIL)}, {25, LB(PUBLIC_SHAMING_THREAT)}, {25, LB(LEGAL_THREAT)},
    {15, LB(EXCESSIVE_DEMAND)}, {10, LB(PROMO_ABUSE)}, {100, LB(GRATITUDE)},
    {40, LB(STAFF_BLAME)}, {115, 0},
};
enum { N_THEMES = sizeof themes / sizeof themes[0], BLAME_THEME = 15 };

static int pick_theme(rng *r)
{
    int x = (int)rndn(r, 1000);
    for (int i = 0; i < N_THEMES; i++) {
        if (x < themes[i].weight)
            return i;
        x -= themes[i].weight;
    }
    return N_THEMES - 1;
}

/* Channels as gen_stream: staff notes are their own theme. */
static int pick_channel(rng *r, int t)
{
    if (t == BLAME_THEME)
        return COMPLAINT__V1__CHANNEL__STAFF_NOTE;
    unsigned x = rndn(r, 94);
    return x < 30 ? COMPLAINT__V1__CHANNEL__CHAT
         : x < 52 ? COMPLAINT__V1__CHANNEL__CALL
         : x < 72 ? COMPLAINT__V1__CHANNEL__EMAIL
         : x < 84 ? COMPLAINT__V1__CHANNEL__REVIEW
                  : COMPLAINT__V1__CHANNEL__SOCIAL;
}

static int cmp_i64(const void *a, const void *b)
{
    int64_t x = *(const int64_t *)a, y = *(const int64_t *)b;
    return (x > y) - (x < y);
}

enum { MAX_PAST = 12, CHUNK = 4096 };

typedef struct employees {
    hist_employee *e;  /* [n] */
    unsigned       n;
} employees;

/* Customer id's history after 1..MAX_PAST past events; the events take the
 * seqs *seq, *seq + 1, ... Returns the number of events. */
static unsigned make_history(const policy *pol, uint64_t id, uint64_t seed, uint64_t *seq,
                             employees *emp, hist_customer *h /* OUT */)
{
    static const char *cats[] = {"electronics", "clothing", "grocery", "home", "beauty", "toys"};
    rng r = {seed * 0xD1B54A32D192ED03ull ^ id * 0x9E3779B97F4A7C15ull};
    rnd(&r);
    memset(h, 0, sizeof *h);
    unsigned k = 1;
    while (k < MAX_PAST && rndn(&r, 3) != 0)  /* geometric: mean 3 */
        k++;
    int64_t ts[MAX_PAST];
    for (unsigned i = 0; i < k; i++)
        ts[i] = STREAM_T0_MS - DAY_MS - (int64_t)(rnd(&r) % (uint64_t)(365 * DAY_MS));
    qsort(ts, k, sizeof ts[0], cmp_i64);
    for (unsigned i = 0; i < k; i++) {
        int t = pick_theme(&r);
        label_set labels = themes[t].labels;
        if (t != BLAME_THEME && themes[t].labels && rndn(&r, 100) < 35) {
            int t2;
            do
                t2 = pick_theme(&r);
            while (t2 == BLAME_THEME);
            labels |= themes[t2].labels;
        }
        char store[16], employee[16];
        unsigned e = rndn(&r, emp->n ? emp->n : 20000);
        snprintf(store, sizeof store, "s%03u", rndn(&r, 500));
        snprintf(employee, sizeof employee, "emp%05u", e);
        policy_event ev = {
            .labels = labels,
            .channel = pick_channel(&r, t),
            .event_id = "",  /* the id would live in the log, which is not written */
            .store_id = store,
            .employee_id = employee,
            .category = cats[rndn(&r, 6)],
            .purchase_amount = rndn(&r, 100) < 60 ? 500 + rndn(&r, 50000) : 0,
            .now_ms = ts[i],
            .seq = (*seq)++,
        };
        decision d;
        policy_decide(pol, &ev, h, &d);
        policy_record(pol, h, &ev, &d);
        if (emp->n) {  /* as triage's record_employee */
            hist_employee *x = &emp->e[e];
            x->events++;
            if (ev.now_ms > x->last_ms)
                x->last_ms = ev.now_ms;
            if (d.action == COMPLAINT__V1__ACTION__END_RELATIONSHIP ||
                d.action == COMPLAINT__V1__ACTION__PROTECT_EMPLOYEE) {
                x->toxic_received++;
                if (ev.now_ms > x->last_toxic_ms)
                    x->last_toxic_ms = ev.now_ms;
            }
            if (ev.channel == COMPLAINT__V1__CHANNEL__STAFF_NOTE &&
                (labels & LB(STAFF_BLAME)))
                x->blame_notes++;
        }
    }
    return k;
}

/* h with about pad bytes more: event ids in its ring (as records from before
 * the ring held seqs had), which the real record then drops. */
static void pad_record(const hist_customer *h, unsigned pad, hist_customer *out /* OUT */)
{
    *out = *h;
    uint32_t i = 0;
    for (; pad > 4 && i < HIST_RECENT; i++) {
        unsigned k = pad - 4 < HIST_ID_MAX - 1 ? pad - 4 : HIST_ID_MAX - 1;  /* 4: tags, lengths */
        memset(out->recent[i].event_id, 'x', k);
        out->recent[i].event_id[k] = 0;
        pad -= k + 4;
    }
    if (out->n_recent < i)
        out->n_recent = i;
}

static void usage(void)
{
    fprintf(stderr, "usage: prefill --data-dir DIR --customers N [--seed N] [--employees N] "
                    "[--txn N] [--map-mb N] [--pad B] [--quiet]\n");
    exit(2);
}

static int fail(hist_env *env, const char *what, int rc)
{
    fprintf(stderr, "prefill: %s: %s (%d)\n", what, env ? hist_last_error(env) : "", rc);
    return 1;
}

int main(int argc, char **argv)
{
    const char *dir = NULL;
    uint64_t n = 0, seed = 1, txn_size = 500000, map_mb = 0;
    unsigned n_emp = 20000, pad = 80;
    int quiet = 0;
    static const struct option opts[] = {
        {"data-dir", 1, 0, 'd'}, {"customers", 1, 0, 'c'}, {"seed", 1, 0, 's'},
        {"employees", 1, 0, 'e'}, {"txn", 1, 0, 't'},      {"map-mb", 1, 0, 'm'},
        {"pad", 1, 0, 'p'},      {"quiet", 0, 0, 'q'},    {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'd': dir = optarg; break;
        case 'c': n = strtoull(optarg, NULL, 10); break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'e': n_emp = (unsigned)strtoul(optarg, NULL, 10); break;
        case 't': txn_size = strtoull(optarg, NULL, 10); break;
        case 'm': map_mb = strtoull(optarg, NULL, 10); break;
        case 'p': pad = (unsigned)strtoul(optarg, NULL, 10); break;
        case 'q': quiet = 1; break;
        default: usage();
        }
    }
    if (!dir || n < 1 || txn_size < 1 || optind != argc || n_emp > 100000 || pad > 240)
        usage();
    /* Room for N records of up to ~250 B in full leaves, and for the daemon's
     * first writes; the daemon opens it with its own map_size_mb. */
    if (!map_mb)
        map_mb = 1024 + n * 400 / (1u << 20);

    char path[4096];
    struct stat st;
    snprintf(path, sizeof path, "%s/data.mdb", dir);
    if (stat(path, &st) == 0) {
        fprintf(stderr, "prefill: %s exists: give a fresh data directory\n", path);
        return 2;
    }
    char err[512];
    hist_env *env = hist_open(dir, (size_t)map_mb, HIST_NO_SYNC, 0, err, sizeof err);
    if (!env) {
        fprintf(stderr, "prefill: %s\n", err);
        return 1;
    }
    policy pol;
    policy_defaults(&pol);
    employees emp = {calloc(n_emp ? n_emp : 1, sizeof(hist_employee)), n_emp};
    if (!emp.e) {
        fprintf(stderr, "prefill: out of memory\n");
        return 1;
    }

    double t0 = now_s();
    uint64_t seq = 1, done = 0, events = 0;
    hist_txn *txn = NULL;
    int rc = hist_begin(env, 1, &txn);
    if (rc != HIST_OK)
        return fail(env, "hist_begin", rc);
    char key[24];
    static hist_customer chunk[CHUNK];
    static uint64_t chunk_id[CHUNK];
    hist_customer padded;
    uint64_t id = 1;
    while (id) {
        size_t m = 0;
        for (; id && m < CHUNK; id = lex_next(id, n), m++) {
            chunk_id[m] = id;
            events += make_history(&pol, id, seed, &seq, &emp, &chunk[m]);
        }
        /* Twice over the chunk: records pad bytes larger fill the leaves,
         * then the real ones replace them in place and leave the slack. */
        for (int pass = pad ? 0 : 1; pass < 2; pass++)
            for (size_t i = 0; i < m; i++) {
                int len = snprintf(key, sizeof key, "c%llu", (unsigned long long)chunk_id[i]);
                const hist_customer *h = &chunk[i];
                if (pass == 0) {
                    pad_record(h, pad, &padded);
                    h = &padded;
                }
                if ((rc = hist_put_customer(txn, key, (size_t)len, h)) != HIST_OK)
                    return fail(env, "hist_put_customer", rc);
            }
        uint64_t before = done;
        done += m;
        if (done / txn_size != before / txn_size) {
            if ((rc = hist_commit(txn)) != HIST_OK)
                return fail(env, "hist_commit", rc);
            if ((rc = hist_begin(env, 1, &txn)) != HIST_OK)
                return fail(env, "hist_begin", rc);
            if (!quiet) {
                double t = now_s() - t0;
                fprintf(stderr, "prefill: %llu / %llu customers, %.0f /s, %.1f s\n",
                        (unsigned long long)done, (unsigned long long)n, (double)done / t, t);
            }
        }
    }
    for (unsigned e = 0; e < emp.n; e++) {
        if (!emp.e[e].events)
            continue;
        int len = snprintf(key, sizeof key, "emp%05u", e);
        if ((rc = hist_put_employee(txn, key, (size_t)len, &emp.e[e])) != HIST_OK)
            return fail(env, "hist_put_employee", rc);
    }
    if ((rc = hist_put_next_seq(txn, seq)) != HIST_OK)
        return fail(env, "hist_put_next_seq", rc);
    if ((rc = hist_commit(txn)) != HIST_OK)
        return fail(env, "hist_commit", rc);
    double t_fill = now_s() - t0;
    if (hist_sync(env) != HIST_OK)
        return fail(env, "hist_sync", HIST_ERR);
    hist_close(env);
    double t_all = now_s() - t0;
    free(emp.e);

    if (stat(path, &st) != 0) {
        perror(path);
        return 1;
    }
    if (!quiet)
        fprintf(stderr, "prefill: %llu customers, %llu past events in %.1f s (+%.1f s flush); "
                        "%s %.1f MB, %.0f B per customer\n",
                (unsigned long long)done, (unsigned long long)events, t_fill, t_all - t_fill, path,
                (double)st.st_size / 1e6, (double)st.st_size / (double)done);
    printf("{\"customers\":%llu,\"events\":%llu,\"employees\":%u,\"seconds\":%.3f,"
           "\"fill_seconds\":%.3f,\"data_mdb_bytes\":%lld,\"next_seq\":%llu,\"map_mb\":%llu}\n",
           (unsigned long long)done, (unsigned long long)events, emp.n, t_all, t_fill,
           (long long)st.st_size, (unsigned long long)seq, (unsigned long long)map_mb);
    return 0;
}
