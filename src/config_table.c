/*
 * config_table — the policy tables of the config file: tier.N = AMOUNT,
 * matrix.LABEL[.channel:CH][.category:CAT][.repeat:N] = TIER and
 * authority.STORE_ID = AMOUNT. Only config.c includes it.
 */
#include "config_table.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"

/* ---- the tables: tier.N, matrix.*, authority.* ------------------------- */

/* "tier.N": N into *t, or -1 with a message. */
static int parse_tier(const char *key, long *t, char *err, size_t errlen)
{
    char *end;
    *t = strtol(key + 5, &end, 10);
    if (key[5] < '0' || key[5] > '9' || *end || *t < 1 || *t >= POLICY_MAX_TIERS) {
        snprintf(err, errlen, "%s: tiers are tier.1 .. tier.%d", key, POLICY_MAX_TIERS - 1);
        return -1;
    }
    return 0;
}

/* A list of names for a message: "a, b, c". */
static void name_list(char *out, size_t cap, const char *(*name)(int), int from, int to)
{
    size_t n = 0;
    out[0] = '\0';
    for (int i = from; i < to && n < cap; i++)
        n += (size_t)snprintf(out + n, cap - n, "%s%s", i > from ? ", " : "", name(i));
}

/* "matrix.LABEL[.channel:CH][.category:CAT][.repeat:N]": the conditions
 * into *cell (its tier not set). */
static int parse_matrix(const char *key, matrix_cell *cell, char *err, size_t errlen)
{
    char buf[256], names[512];
    snprintf(buf, sizeof buf, "%s", key + 7);
    memset(cell, 0, sizeof *cell);
    char *save = NULL;
    char *part = strtok_r(buf, ".", &save);
    cell->label = part ? label_from_name(part) : 0;
    if (!cell->label) {
        name_list(names, sizeof names, label_name, 1, LABEL_COUNT);
        snprintf(err, errlen, "%s: '%s' is not a label (%s); want matrix.LABEL[.channel:CH][.category:CAT][.repeat:N]",
                 key, part ? part : "", names);
        return -1;
    }
    int seen_channel = 0, seen_category = 0, seen_repeat = 0;
    while ((part = strtok_r(NULL, ".", &save)) != NULL) {
        char *eq = strchr(part, ':');
        if (eq)
            *eq++ = '\0';
        int *seen = !eq ? NULL
                    : strcmp(part, "channel") == 0 ? &seen_channel
                    : strcmp(part, "category") == 0 ? &seen_category
                    : strcmp(part, "repeat") == 0 ? &seen_repeat : NULL;
        if (!seen) {
            snprintf(err, errlen, "%s: unknown condition '%s' (want channel:CH, category:CAT, repeat:N)",
                     key, part);
            return -1;
        }
        if ((*seen)++) {
            snprintf(err, errlen, "%s: %s: given twice", key, part);
            return -1;
        }
        if (seen == &seen_channel) {
            int ch = channel_from_name(eq);
            if (ch <= 0) {
                name_list(names, sizeof names, channel_name, 1, CHANNEL_COUNT);
                snprintf(err, errlen, "%s: the value '%s' is not a channel (%s)", key, eq, names);
                return -1;
            }
            cell->channel = ch;
        } else if (seen == &seen_category) {
            if (!*eq || strlen(eq) >= POLICY_NAME) {
                snprintf(err, errlen, "%s: want category:NAME of 1 to %d bytes", key, POLICY_NAME - 1);
                return -1;
            }
            snprintf(cell->category, sizeof cell->category, "%s", eq);
        } else {
            char *end;
            long r = strtol(eq, &end, 10);
            if (!*eq || *end || r < 1 || r > 1000000) {
                snprintf(err, errlen, "%s: the value '%s' is not a repeat count (1 or more)", key, eq);
                return -1;
            }
            cell->min_repeat = (uint32_t)r;
        }
    }
    return 0;
}

/* What a table key means, spelt one way: duplicates compare by this. */
int config_table_canonical(const char *key, char *out, size_t cap, char *err, size_t errlen)
{
    if (strncmp(key, "tier.", 5) == 0) {
        long t;
        if (parse_tier(key, &t, err, errlen) < 0)
            return -1;
        snprintf(out, cap, "tier.%ld", t);
    } else if (strncmp(key, "matrix.", 7) == 0) {
        matrix_cell m;
        if (parse_matrix(key, &m, err, errlen) < 0)
            return -1;
        snprintf(out, cap, "matrix.%s.channel:%s.category:%s.repeat:%u", label_name(m.label),
                 channel_name(m.channel), m.category, m.min_repeat);
    } else {
        snprintf(out, cap, "%s", key);
    }
    return 0;
}

/* "authority.STORE = amount": one store's employee authority limit. */
static int set_authority(config *c, const char *key, long long n, char *err, size_t errlen)
{
    const char *store = key + 10;
    policy *p = &c->pol;
    if (!*store || strlen(store) >= POLICY_NAME) {
        snprintf(err, errlen, "%s: want authority.STORE_ID = AMOUNT (a store id of 1 to %d bytes)",
                 key, POLICY_NAME - 1);
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

int config_table_set(config *c, const char *key, const char *v, char *err, size_t errlen)
{
    char *end;
    errno = 0;
    long long n = strtoll(v, &end, 10);
    int is_matrix = strncmp(key, "matrix.", 7) == 0;
    if (end == v || *end || errno || n < 0 || (is_matrix && n >= POLICY_MAX_TIERS)) {
        if (is_matrix)
            snprintf(err, errlen, "%s = %s: want a tier from 0 to %d", key, v, POLICY_MAX_TIERS - 1);
        else
            snprintf(err, errlen, "%s = %s: want an amount, a whole number >= 0", key, v);
        return -1;
    }
    if (strncmp(key, "tier.", 5) == 0) {
        long t;
        if (parse_tier(key, &t, err, errlen) < 0)
            return -1;
        c->pol.tier_amount[t] = n;
        return 0;
    }
    if (is_matrix) {
        matrix_cell cell;
        if (parse_matrix(key, &cell, err, errlen) < 0)
            return -1;
        cell.tier = (uint32_t)n;
        if (policy_add_cell(&c->pol, &cell) < 0) {
            snprintf(err, errlen, "%s: the matrix holds at most %d cells", key, POLICY_MAX_MATRIX);
            return -1;
        }
        return 0;
    }
    return set_authority(c, key, n, err, errlen);
}

int config_is_table_key(const char *key)
{
    return strncmp(key, "tier.", 5) == 0 || strncmp(key, "matrix.", 7) == 0 ||
           strncmp(key, "authority.", 10) == 0;
}

