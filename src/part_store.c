/* part_store — dump, drop and load a partition's histories; see part_store.h. */
#include "part_store.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "codec.h"
#include "grow.h"
#include "partition.h"

#define DUMP_MAGIC "CDP1"

typedef struct dump_ctx {
    int     part, n_parts;
    strbuf *out;
    size_t  n;
} dump_ctx;

static void put_u32(strbuf *sb, size_t v)
{
    uint8_t b[4] = {(uint8_t)v, (uint8_t)(v >> 8), (uint8_t)(v >> 16), (uint8_t)(v >> 24)};
    strbuf_append(sb, (const char *)b, 4);
}

static int dump_one(const char *id, size_t idlen, const void *rec, size_t len, void *arg)
{
    dump_ctx *d = arg;
    if (part_of_customer(id, idlen, d->n_parts) != d->part)
        return 0;
    put_u32(d->out, idlen);
    strbuf_append(d->out, id, idlen);
    put_u32(d->out, len);
    strbuf_append(d->out, rec, len);
    d->n++;
    return 0;
}

int pstore_dump(hist_env *env, int part, int n_parts, strbuf *out, size_t *customers)
{
    hist_txn *t;
    int rc = hist_begin(env, 0, &t);
    if (rc != HIST_OK)
        return rc;
    strbuf_append(out, DUMP_MAGIC, 4);
    dump_ctx d = {part, n_parts, out, 0};
    rc = hist_each_customer_raw(t, dump_one, &d);
    hist_abort(t);
    *customers = d.n;
    return rc;
}

/* Ids collected in one pass and deleted after it: no deletes under a cursor. */
typedef struct id_list {
    int     part, n_parts;
    strbuf  ids;     /* NUL-separated */
    size_t  n;
} id_list;

static void add_id(id_list *l, const char *id, size_t len)
{
    strbuf_append(&l->ids, id, len);
    strbuf_putc(&l->ids, '\0');
    l->n++;
}

static int collect_customer(const char *id, size_t idlen, const void *rec, size_t len, void *arg)
{
    (void)rec;
    (void)len;
    id_list *l = arg;
    if (part_of_customer(id, idlen, l->n_parts) == l->part)
        add_id(l, id, idlen);
    return 0;
}

static int collect_event(uint64_t seq, const void *bytes, size_t len, void *arg)
{
    (void)seq;
    id_list *l = arg;
    decision_msg *m = complaint__v1__triage_decision__unpack(NULL, len, bytes);
    if (m && m->customer_id && m->event_id && *m->event_id &&
        part_of_customer(m->customer_id, strlen(m->customer_id), l->n_parts) == l->part)
        add_id(l, m->event_id, strlen(m->event_id));
    if (m)
        complaint__v1__triage_decision__free_unpacked(m, NULL);
    return 0;
}

/* Delete every id of l with del; HIST_NOTFOUND is not an error (an event
 * logged twice, a duplicate, has one index entry). */
static int delete_all(hist_txn *t, id_list *l, int (*del)(hist_txn *, const char *, size_t))
{
    for (size_t off = 0; off < l->ids.len;) {
        const char *id = l->ids.buf + off;
        size_t n = strlen(id);
        int rc = del(t, id, n);
        if (rc != HIST_OK && rc != HIST_NOTFOUND)
            return rc;
        off += n + 1;
    }
    return HIST_OK;
}

int pstore_drop(hist_env *env, int part, int n_parts, size_t *customers, size_t *events)
{
    id_list cs = {part, n_parts, STRBUF_INIT, 0}, es = {part, n_parts, STRBUF_INIT, 0};
    hist_txn *t;
    int rc = hist_begin(env, 1, &t);
    if (rc != HIST_OK)
        return rc;
    rc = hist_each_customer_raw(t, collect_customer, &cs);
    if (rc == HIST_OK)
        rc = hist_log_each(t, 0, collect_event, &es);
    if (rc == HIST_OK)
        rc = delete_all(t, &cs, hist_del_customer);
    if (rc == HIST_OK)
        rc = delete_all(t, &es, hist_del_event);
    if (rc == HIST_OK)
        rc = hist_commit(t);
    else
        hist_abort(t);
    if (customers)
        *customers = cs.n;
    if (events)
        *events = es.n;
    strbuf_free(&cs.ids);
    strbuf_free(&es.ids);
    return rc;
}

static int get_u32(const uint8_t **p, const uint8_t *end, size_t *v)
{
    if (end - *p < 4)
        return -1;
    const uint8_t *b = *p;
    *v = (size_t)b[0] | (size_t)b[1] << 8 | (size_t)b[2] << 16 | (size_t)b[3] << 24;
    *p += 4;
    return 0;
}

int pstore_load(hist_env *env, const void *bytes, size_t len, size_t *customers)
{
    const uint8_t *p = bytes, *end = p + len;
    *customers = 0;
    if (len < 4 || memcmp(p, DUMP_MAGIC, 4) != 0)
        return HIST_ECORRUPT;
    p += 4;
    hist_txn *t;
    int rc = hist_begin(env, 1, &t);
    if (rc != HIST_OK)
        return rc;
    size_t n = 0;
    while (rc == HIST_OK && p < end) {
        size_t idlen, reclen;
        if (get_u32(&p, end, &idlen) < 0 || (size_t)(end - p) < idlen) {
            rc = HIST_ECORRUPT;
            break;
        }
        const char *id = (const char *)p;
        p += idlen;
        if (get_u32(&p, end, &reclen) < 0 || (size_t)(end - p) < reclen) {
            rc = HIST_ECORRUPT;
            break;
        }
        rc = hist_put_customer_raw(t, id, idlen, p, reclen);
        p += reclen;
        n++;
    }
    if (rc == HIST_OK)
        rc = hist_commit(t);
    else
        hist_abort(t);
    if (rc == HIST_OK)
        *customers = n;
    return rc;
}
