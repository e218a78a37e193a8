/* nats_conn — connecting to NATS and JetStream; see nats_conn.h. */
#include "nats_conn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

enum { NCONN_MAX_SERVERS = 16 };

const char *nconn_error(natsStatus s)
{
    /* The library's last error may be an older one of this thread: say the
     * status too. */
    static __thread char buf[512];
    natsStatus last = NATS_OK;
    const char *e = nats_GetLastError(&last);
    if (e && *e && last == s)
        snprintf(buf, sizeof buf, "%s", e);
    else
        snprintf(buf, sizeof buf, "%s", natsStatus_GetText(s));
    return buf;
}

int nconn_open(nconn *c, const char *urls, const char *name, char *err, size_t errlen)
{
    return nconn_open_wait(c, urls, name, 5000, err, errlen);
}

int nconn_open_wait(nconn *c, const char *urls, const char *name, int wait_ms, char *err,
                    size_t errlen)
{
    memset(c, 0, sizeof *c);
    char *copy = strdup(urls), *save = NULL;
    const char *servers[NCONN_MAX_SERVERS];
    int n = 0;
    for (char *s = strtok_r(copy, ",", &save); s && n < NCONN_MAX_SERVERS;
         s = strtok_r(NULL, ",", &save))
        if (*s)
            servers[n++] = s;
    natsOptions *o = NULL;
    natsStatus s = n ? natsOptions_Create(&o) : NATS_INVALID_ARG;
    if (s == NATS_OK)
        s = natsOptions_SetServers(o, servers, n);
    if (s == NATS_OK)
        s = natsOptions_SetName(o, name);
    if (s == NATS_OK)
        s = natsOptions_SetMaxReconnect(o, -1);  /* for ever: servers come back */
    if (s == NATS_OK)
        s = natsOptions_SetReconnectWait(o, 100);
    if (s == NATS_OK)
        s = natsOptions_SetTimeout(o, 2000);
    if (s == NATS_OK)
        s = natsConnection_Connect(&c->nc, o);
    if (s == NATS_OK) {
        jsOptions jo;
        jsOptions_Init(&jo);
        jo.Wait = wait_ms;
        s = natsConnection_JetStream(&c->js, c->nc, &jo);
    }
    if (s != NATS_OK) {
        snprintf(err, errlen, "%s: %s", urls, n ? nconn_error(s) : "no server URL");
        nconn_close(c);
    }
    natsOptions_Destroy(o);
    free(copy);
    return s == NATS_OK ? 0 : -1;
}

void nconn_close(nconn *c)
{
    if (c->js)
        jsCtx_Destroy(c->js);
    if (c->nc) {
        natsConnection_Close(c->nc);
        natsConnection_Destroy(c->nc);
    }
    c->js = NULL;
    c->nc = NULL;
}

static int by_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

void nconn_keys_free(nconn_keys *k)
{
    for (int i = 0; i < k->n; i++)
        free(k->key[i]);
    free(k->key);
    k->key = NULL;
    k->n = 0;
}

natsStatus nconn_kv_keys(jsCtx *js, kvStore *kv, const char *bucket, nconn_keys *out)
{
    out->key = NULL;
    out->n = 0;
    char stream[96], filter[112];
    snprintf(stream, sizeof stream, "KV_%s", bucket);
    snprintf(filter, sizeof filter, "$KV.%s.>", bucket);
    size_t prefix = strlen(filter) - 1;  /* "$KV.<bucket>." */
    jsOptions o;
    jsOptions_Init(&o);
    o.Stream.Info.SubjectsFilter = filter;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    natsStatus s = js_GetStreamInfo(&si, js, stream, &o, &jerr);
    const jsStreamStateSubjects *subjects = s == NATS_OK ? si->State.Subjects : NULL;
    int listed = subjects ? subjects->Count : 0;
    if (listed > 0 && !(out->key = calloc((size_t)listed, sizeof *out->key)))
        s = NATS_NO_MEMORY;
    for (int i = 0; s == NATS_OK && i < listed; i++) {
        const char *key = subjects->List[i].Subject + prefix;
        kvEntry *e = NULL;
        natsStatus got = kvStore_Get(&e, kv, key);
        kvEntry_Destroy(e);
        if (got == NATS_NOT_FOUND)
            continue;  /* deleted: the subject holds only the marker */
        if (got != NATS_OK)
            s = got;
        else if (!(out->key[out->n] = strdup(key)))
            s = NATS_NO_MEMORY;
        else
            out->n++;
    }
    jsStreamInfo_Destroy(si);
    if (s != NATS_OK)
        nconn_keys_free(out);
    else if (out->n > 1)
        qsort(out->key, (size_t)out->n, sizeof *out->key, by_str);
    return s;
}
