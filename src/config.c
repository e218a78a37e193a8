/*
 * config — the key table; see config.h.
 *
 * DESIGN: every key is one row: name, type, bounds, where it lives, help.
 * Adding a key is adding a row; parsing, validation and `--print-config`
 * come from the table. Policy keys sit here too so that one file configures
 * a deployment.
 */
#include "config.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "labels.h"
#include "strbuf.h"

typedef enum { K_STR, K_INT, K_LONG, K_I64, K_BOOL, K_DAYS } key_type;  /* K_DAYS: int64 ms */

typedef struct key_def {
    const char *name;
    key_type    type;
    long long   min, max;
    size_t      offset;  /* into config */
    size_t      size;    /* K_STR: buffer size */
    const char *help;
} key_def;

#define OFF(f) offsetof(config, f)
#define STR(f) K_STR, 0, 0, OFF(f), sizeof(((config *)0)->f)

static const key_def keys[] = {
    {"ingest", STR(ingest), "ZeroMQ endpoint the PULL socket binds for events"},
    {"ingest_acked", STR(ingest_acked),
     "ZeroMQ endpoint the ROUTER socket binds for acknowledged events (empty = off)"},
    {"publish", STR(publish), "ZeroMQ endpoint the PUB socket binds for decisions"},
    {"control", STR(control), "ZeroMQ endpoint of the control socket (ping, stats, reload, replay)"},
    {"metrics", STR(metrics),
     "HOST:PORT of the HTTP server of Prometheus metrics (GET /metrics); empty or off = none"},
    {"data_dir", STR(data_dir), "LMDB environment: histories, de-duplication, decision log"},
    {"rules", STR(rules), "rule pack directory"},
    {"cache_dir", STR(cache_dir), "compiled rule cache; empty = <data_dir>/cache"},
    {"threads", K_INT, 0, 256, OFF(threads), 0, "worker threads; 0 = one per core"},
    {"batch_size", K_INT, 1, 100000, OFF(batch_size), 0, "events per LMDB commit, at most"},
    {"commit_interval_ms", K_INT, 0, 10000, OFF(commit_interval_ms), 0,
     "wait this long after a group's first event for more; 0 = commit as soon as none is queued"},
    {"ingest_linger_us", K_INT, 0, 1000000, OFF(ingest_linger_us), 0,
     "after a lone event, wait this long for more before handing them to a worker; 0 = none"},
    {"max_message_bytes", K_LONG, 64, 64L << 20, OFF(max_message_bytes), 0,
     "events larger than this are rejected"},
    {"map_size_mb", K_LONG, 1, 1L << 24, OFF(map_size_mb), 0, "LMDB map size"},
    {"durable", K_BOOL, 0, 1, OFF(durable), 0, "fsync each commit (0: faster, may lose the last commits on power loss)"},
    {"decision_log_max", K_LONG, 1000, 1L << 40, OFF(decision_log_max), 0,
     "decisions kept in the log for replay"},
    {"decision_log_max_age_days", K_DAYS, 0, 36500, OFF(decision_log_max_age_ms), 0,
     "decisions older than this leave the log; 0 = kept until decision_log_max"},
    {"hwm", K_INT, 10, 10000000, OFF(hwm), 0,
     "ZeroMQ high-water mark of ingest and publish (publish holds 4 x batch_size at least)"},
    {"curve_key_file", STR(curve_key_file),
     "CURVE server key pair (complaintctl keygen); empty = no encryption"},
    {"curve_clients_file", STR(curve_clients_file),
     "allowlist of client public keys, one per line (required with curve_key_file)"},
    {"allow_plaintext", K_BOOL, 0, 1, OFF(allow_plaintext), 0,
     "permit plain TCP on non-loopback endpoints (without CURVE)"},
    {"model", STR(models),
     "learned models beside the rules, comma-separated (or one per line); empty = the "
     "default model; none = rules alone"},
    {"retrain_every", K_INT, 0, 100000000, OFF(retrain_every), 0,
     "retrain the local model after this many managers' reviews; 0 = only on complaintctl retrain"},
    {"authority_limit", K_I64, 0, 1LL << 50, OFF(pol.authority_limit), 0,
     "compensation an employee may grant without the central office"},
    {"extremism_limit", K_INT, 2, 1000, OFF(pol.extremism_limit), 0,
     "extremism incidents (this one included) that end the relationship; a first offence never does"},
    {"toxicity_limit", K_INT, 2, 1000, OFF(pol.toxicity_limit), 0,
     "toxic incidents (this one included) that end the relationship; a first offence never does"},
    {"compensation_share_pct", K_INT, 0, 100000, OFF(pol.compensation_share_pct), 0,
     "a customer compensated beyond this % of their purchases is flagged"},
    {"repeat_bump", K_INT, 0, 7, OFF(pol.repeat_bump), 0, "tiers added for a repeat complaint"},
    {"repeat_window_days", K_DAYS, 0, 3650, OFF(pol.repeat_window_ms), 0,
     "the same problem again within this many days escalates"},
    {"half_life_days", K_DAYS, 1, 3650, OFF(pol.half_life_ms), 0,
     "toxic and extremism incidents weigh half after this many days"},
    {"conflict_window_days", K_DAYS, 0, 3650, OFF(pol.conflict_window_ms), 0,
     "an employee who clashed with the customer this recently makes a case go central"},
    {"gesture", STR(pol.gesture), "symbolic gesture offered with HOLD_LINE"},
};

void config_defaults(config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->ingest, sizeof c->ingest, "tcp://127.0.0.1:5560");
    snprintf(c->publish, sizeof c->publish, "tcp://127.0.0.1:5561");
    snprintf(c->ingest_acked, sizeof c->ingest_acked, "tcp://127.0.0.1:5563");
    snprintf(c->control, sizeof c->control, "tcp://127.0.0.1:5562");
    snprintf(c->metrics, sizeof c->metrics, "127.0.0.1:9560");
    snprintf(c->data_dir, sizeof c->data_dir, "data");
    snprintf(c->rules, sizeof c->rules, "rules");
    c->threads = 0;
    c->batch_size = 10000;
    c->commit_interval_ms = 0;
    c->ingest_linger_us = 200;
    c->max_message_bytes = 256 * 1024;
    c->map_size_mb = 4096;
    c->durable = 1;
    c->decision_log_max = 1000000;
    c->hwm = 10000;
    c->retrain_every = 500;
    policy_defaults(&c->pol);
}

static int set_number(const key_def *k, config *c, const char *v, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long long n;
    if (k->type == K_BOOL && (strcmp(v, "true") == 0 || strcmp(v, "yes") == 0))
        n = 1;
    else if (k->type == K_BOOL && (strcmp(v, "false") == 0 || strcmp(v, "no") == 0))
        n = 0;
    else {
        n = strtoll(v, &end, 10);
        if (errno || end == v || *end) {
            snprintf(err, errlen, "%s: '%s' is not a whole number", k->name, v);
            return -1;
        }
    }
    if (n < k->min || n > k->max) {
        snprintf(err, errlen, "%s: %lld is outside %lld..%lld", k->name, n, k->min, k->max);
        return -1;
    }
    char *p = (char *)c + k->offset;
    switch (k->type) {
    case K_INT:
    case K_BOOL: *(int *)p = (int)n; break;
    case K_LONG: *(long *)p = (long)n; break;
    case K_DAYS: *(int64_t *)p = n * 24 * 3600 * 1000; break;
    default: *(int64_t *)p = n; break;
    }
    return 0;
}

/* "tier.N = amount": a compensation tier. */
static int set_tier(config *c, const char *key, long long n, char *err, size_t errlen)
{
    char *end;
    long t = strtol(key + 5, &end, 10);
    if (*end || t < 1 || t >= POLICY_MAX_TIERS) {
        snprintf(err, errlen, "%s: tiers are tier.1 .. tier.%d", key, POLICY_MAX_TIERS - 1);
        return -1;
    }
    c->pol.tier_amount[t] = n;
    return 0;
}

/* "matrix.LABEL[.channel:CH][.category:CAT][.repeat:N] = TIER": one cell of
 * the compensation matrix; the most specific matching cell wins. */
static int set_matrix(config *c, const char *key, long long n, char *err, size_t errlen)
{
    char buf[256];
    snprintf(buf, sizeof buf, "%s", key + 7);
    matrix_cell cell = {0};
    char *save = NULL;
    char *part = strtok_r(buf, ".", &save);
    cell.label = part ? label_from_name(part) : 0;
    if (!cell.label || n >= POLICY_MAX_TIERS) {
        snprintf(err, errlen, "%s: want matrix.LABEL[.channel:CH][.category:CAT][.repeat:N] = TIER (0..%d)",
                 key, POLICY_MAX_TIERS - 1);
        return -1;
    }
    cell.tier = (uint32_t)n;
    while ((part = strtok_r(NULL, ".", &save)) != NULL) {
        char *eq = strchr(part, ':');
        if (eq)
            *eq++ = '\0';
        if (eq && strcmp(part, "channel") == 0 && channel_from_name(eq) > 0) {
            cell.channel = channel_from_name(eq);
        } else if (eq && strcmp(part, "category") == 0 && *eq && strlen(eq) < POLICY_NAME) {
            snprintf(cell.category, sizeof cell.category, "%s", eq);
        } else if (eq && strcmp(part, "repeat") == 0 && atoi(eq) > 0) {
            cell.min_repeat = (uint32_t)atoi(eq);
        } else {
            snprintf(err, errlen, "%s: unknown condition '%s' (channel:, category:, repeat:)", key, part);
            return -1;
        }
    }
    if (policy_add_cell(&c->pol, &cell) < 0) {
        snprintf(err, errlen, "%s: the matrix holds at most %d cells", key, POLICY_MAX_MATRIX);
        return -1;
    }
    return 0;
}

/* "authority.STORE = amount": one store's employee authority limit. */
static int set_authority(config *c, const char *key, long long n, char *err, size_t errlen)
{
    const char *store = key + 10;
    policy *p = &c->pol;
    if (!*store || strlen(store) >= POLICY_NAME) {
        snprintf(err, errlen, "%s: want authority.STORE_ID = AMOUNT", key);
        return -1;
    }
    for (int i = 0; i < p->n_store_limits; i++)
        if (strcmp(p->store_limits[i].store_id, store) == 0) {
            p->store_limits[i].limit = n;
            return 0;
        }
    if (p->n_store_limits == POLICY_MAX_STORES) {
        snprintf(err, errlen, "%s: at most %d stores", key, POLICY_MAX_STORES);
        return -1;
    }
    snprintf(p->store_limits[p->n_store_limits].store_id, POLICY_NAME, "%s", store);
    p->store_limits[p->n_store_limits++].limit = n;
    return 0;
}

static int set_policy_table(config *c, const char *key, const char *v, char *err, size_t errlen)
{
    char *end;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || n < 0) {
        snprintf(err, errlen, "%s: '%s' is not a whole number >= 0", key, v);
        return -1;
    }
    if (strncmp(key, "tier.", 5) == 0)
        return set_tier(c, key, n, err, errlen);
    if (strncmp(key, "matrix.", 7) == 0)
        return set_matrix(c, key, n, err, errlen);
    return set_authority(c, key, n, err, errlen);
}

/* "model" may be given more than once (lines or flags): each adds its
 * files to the list, except "none", which stands alone. */
static int set_models(config *c, const char *v, char *err, size_t errlen)
{
    size_t have = strlen(c->models);
    if (have && (strcmp(v, "none") == 0 || strcmp(c->models, "none") == 0)) {
        snprintf(err, errlen, "model: none means rules alone and takes no other model");
        return -1;
    }
    if (have + (have ? 1 : 0) + strlen(v) >= sizeof c->models) {
        snprintf(err, errlen, "model: the list is longer than %zu bytes", sizeof c->models - 1);
        return -1;
    }
    snprintf(c->models + have, sizeof c->models - have, "%s%s", have ? "," : "", v);
    return 0;
}

int config_set(config *c, const char *key, const char *value, char *err, size_t errlen)
{
    if (strncmp(key, "tier.", 5) == 0 || strncmp(key, "matrix.", 7) == 0 ||
        strncmp(key, "authority.", 10) == 0)
        return set_policy_table(c, key, value, err, errlen);
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const key_def *k = &keys[i];
        if (strcmp(k->name, key) != 0)
            continue;
        if (k->type != K_STR)
            return set_number(k, c, value, err, errlen);
        if (strcmp(key, "model") == 0)
            return set_models(c, value, err, errlen);
        if (strlen(value) >= k->size) {
            snprintf(err, errlen, "%s: longer than %zu bytes", key, k->size - 1);
            return -1;
        }
        snprintf((char *)c + k->offset, k->size, "%s", value);
        return 0;
    }
    snprintf(err, errlen, "unknown key '%s'", key);
    return -1;
}

int config_load_file(config *c, const char *path, char *err, size_t errlen)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(err, errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    char line[2048], msg[512];
    int lineno = 0, rc = 0;
    unsigned char seen[sizeof keys / sizeof keys[0]] = {0};
    while (rc == 0 && fgets(line, sizeof line, f)) {
        lineno++;
        char *hash = strchr(line, '#');
        if (hash)
            *hash = '\0';
        char *s = str_trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = str_trim(s), *val = str_trim(eq + 1);
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strcmp(keys[i].name, key) == 0 && seen[i]++ && strcmp(key, "model") != 0) {
                snprintf(err, errlen, "%s:%d: %s is duplicate", path, lineno, key);
                rc = -1;
            }
        if (rc == 0 && config_set(c, key, val, msg, sizeof msg) < 0) {
            snprintf(err, errlen, "%s:%d: %s", path, lineno, msg);
            rc = -1;
        }
    }
    fclose(f);
    return rc;
}

void config_print(const config *c, void *file)
{
    FILE *f = file;
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const key_def *k = &keys[i];
        const char *p = (const char *)c + k->offset;
        fprintf(f, "# %s\n%s = ", k->help, k->name);
        switch (k->type) {
        case K_STR: fprintf(f, "%s\n", p); break;
        case K_INT:
        case K_BOOL: fprintf(f, "%d\n", *(const int *)p); break;
        case K_LONG: fprintf(f, "%ld\n", *(const long *)p); break;
        case K_DAYS: fprintf(f, "%lld\n", (long long)(*(const int64_t *)p / (24LL * 3600 * 1000))); break;
        default: fprintf(f, "%lld\n", (long long)*(const int64_t *)p); break;
        }
    }
    fprintf(f, "# compensation tiers (minor currency units)\n");
    for (int t = 1; t < POLICY_MAX_TIERS; t++)
        if (c->pol.tier_amount[t])
            fprintf(f, "tier.%d = %lld\n", t, (long long)c->pol.tier_amount[t]);
    fprintf(f, "# the compensation matrix: matrix.LABEL[.channel:CH][.category:CAT][.repeat:N] = TIER\n"
               "# (the most specific matching cell of each label wins)\n");
    for (int i = 0; i < c->pol.n_matrix; i++) {
        const matrix_cell *m = &c->pol.matrix[i];
        fprintf(f, "matrix.%s", label_name(m->label));
        if (m->channel)
            fprintf(f, ".channel:%s", channel_name(m->channel));
        if (m->category[0])
            fprintf(f, ".category:%s", m->category);
        if (m->min_repeat)
            fprintf(f, ".repeat:%u", m->min_repeat);
        fprintf(f, " = %u\n", m->tier);
    }
    fprintf(f, "# per-store authority limits: authority.STORE_ID = AMOUNT\n");
    for (int i = 0; i < c->pol.n_store_limits; i++)
        fprintf(f, "authority.%s = %lld\n", c->pol.store_limits[i].store_id,
                (long long)c->pol.store_limits[i].limit);
}
