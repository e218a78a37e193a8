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

typedef enum { K_STR, K_INT, K_LONG, K_I64, K_BOOL } key_type;

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
    {"publish", STR(publish), "ZeroMQ endpoint the PUB socket binds for decisions"},
    {"control", STR(control), "ZeroMQ endpoint of the control REP socket (ping, stats)"},
    {"data_dir", STR(data_dir), "LMDB environment: histories, de-duplication, decision log"},
    {"rules", STR(rules), "rule pack directory"},
    {"cache_dir", STR(cache_dir), "compiled rule cache; empty = <data_dir>/cache"},
    {"threads", K_INT, 0, 256, OFF(threads), 0, "worker threads; 0 = one per core"},
    {"batch_size", K_INT, 1, 100000, OFF(batch_size), 0, "events per LMDB commit, at most"},
    {"commit_interval_ms", K_INT, 1, 10000, OFF(commit_interval_ms), 0,
     "a partial batch is committed after this long"},
    {"max_message_bytes", K_LONG, 64, 64L << 20, OFF(max_message_bytes), 0,
     "events larger than this are rejected"},
    {"map_size_mb", K_LONG, 1, 1L << 24, OFF(map_size_mb), 0, "LMDB map size"},
    {"durable", K_BOOL, 0, 1, OFF(durable), 0, "fsync each commit (0: faster, may lose the last commits on power loss)"},
    {"decision_log_max", K_LONG, 1000, 1L << 40, OFF(decision_log_max), 0,
     "decisions kept in the log for replay"},
    {"hwm", K_INT, 10, 10000000, OFF(hwm), 0, "ZeroMQ high-water mark of ingest and publish"},
    {"authority_limit", K_I64, 0, 1LL << 50, OFF(pol.authority_limit), 0,
     "compensation an employee may grant without the central office"},
    {"extremism_limit", K_INT, 1, 1000, OFF(pol.extremism_limit), 0,
     "extremism incidents (this one included) that end the relationship"},
    {"repeat_bump", K_INT, 0, 7, OFF(pol.repeat_bump), 0, "tiers added for a repeat complaint"},
    {"gesture", STR(pol.gesture), "symbolic gesture offered with HOLD_LINE"},
};

void config_defaults(config *c)
{
    memset(c, 0, sizeof *c);
    snprintf(c->ingest, sizeof c->ingest, "tcp://127.0.0.1:5560");
    snprintf(c->publish, sizeof c->publish, "tcp://127.0.0.1:5561");
    snprintf(c->control, sizeof c->control, "tcp://127.0.0.1:5562");
    snprintf(c->data_dir, sizeof c->data_dir, "data");
    snprintf(c->rules, sizeof c->rules, "rules");
    c->threads = 0;
    c->batch_size = 1000;
    c->commit_interval_ms = 2;
    c->max_message_bytes = 256 * 1024;
    c->map_size_mb = 4096;
    c->durable = 1;
    c->decision_log_max = 1000000;
    c->hwm = 100000;
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
    default: *(int64_t *)p = n; break;
    }
    return 0;
}

/* "tier.N = amount" and "matrix.LABEL = tier": the compensation matrix. */
static int set_policy_table(config *c, const char *key, const char *v, char *err, size_t errlen)
{
    char *end;
    long long n = strtoll(v, &end, 10);
    if (end == v || *end || n < 0) {
        snprintf(err, errlen, "%s: '%s' is not a whole number >= 0", key, v);
        return -1;
    }
    if (strncmp(key, "tier.", 5) == 0) {
        long t = strtol(key + 5, &end, 10);
        if (*end || t < 1 || t >= POLICY_MAX_TIERS) {
            snprintf(err, errlen, "%s: tiers are tier.1 .. tier.%d", key, POLICY_MAX_TIERS - 1);
            return -1;
        }
        c->pol.tier_amount[t] = n;
        return 0;
    }
    int l = label_from_name(key + 7);
    if (!l || n >= POLICY_MAX_TIERS) {
        snprintf(err, errlen, "%s: want matrix.LABEL = TIER (0..%d)", key, POLICY_MAX_TIERS - 1);
        return -1;
    }
    c->pol.label_tier[l] = (uint32_t)n;
    return 0;
}

int config_set(config *c, const char *key, const char *value, char *err, size_t errlen)
{
    if (strncmp(key, "tier.", 5) == 0 || strncmp(key, "matrix.", 7) == 0)
        return set_policy_table(c, key, value, err, errlen);
    if (strcmp(key, "repeat_window_days") == 0) {
        char *end;
        long d = strtol(value, &end, 10);
        if (end == value || *end || d < 0 || d > 3650) {
            snprintf(err, errlen, "%s: want days from 0 to 3650", key);
            return -1;
        }
        c->pol.repeat_window_ms = (int64_t)d * 24 * 3600 * 1000;
        return 0;
    }
    for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++) {
        const key_def *k = &keys[i];
        if (strcmp(k->name, key) != 0)
            continue;
        if (k->type != K_STR)
            return set_number(k, c, value, err, errlen);
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

static char *trim(char *s)
{
    while (*s == ' ' || *s == '\t')
        s++;
    char *e = s + strlen(s);
    while (e > s && (e[-1] == ' ' || e[-1] == '\t' || e[-1] == '\n' || e[-1] == '\r'))
        *--e = '\0';
    return s;
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
        char *s = trim(line);
        if (!*s)
            continue;
        char *eq = strchr(s, '=');
        if (!eq) {
            snprintf(err, errlen, "%s:%d: expected 'key = value'", path, lineno);
            rc = -1;
            break;
        }
        *eq = '\0';
        char *key = trim(s), *val = trim(eq + 1);
        for (size_t i = 0; i < sizeof keys / sizeof keys[0]; i++)
            if (strcmp(keys[i].name, key) == 0 && seen[i]++) {
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
        default: fprintf(f, "%lld\n", (long long)*(const int64_t *)p); break;
        }
    }
    fprintf(f, "# an event repeating a problem within this many days escalates\nrepeat_window_days = %lld\n",
            (long long)(c->pol.repeat_window_ms / (24LL * 3600 * 1000)));
    fprintf(f, "# compensation tiers (minor currency units)\n");
    for (int t = 1; t < POLICY_MAX_TIERS; t++)
        if (c->pol.tier_amount[t])
            fprintf(f, "tier.%d = %lld\n", t, (long long)c->pol.tier_amount[t]);
    fprintf(f, "# the compensation matrix: label -> tier\n");
    for (int l = 1; l < LABEL_COUNT; l++)
        if (c->pol.label_tier[l])
            fprintf(f, "matrix.%s = %u\n", label_name(l), c->pol.label_tier[l]);
}
