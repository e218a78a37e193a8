/*
 * complaintctl cluster --nats URL: the state of a complaintd cluster as one
 * JSON object, read from JetStream (not from any node): the two streams,
 * the live nodes, and per partition its lease owner and its consumer's
 * backlog (pending = not yet delivered, ack_pending = delivered, unacked).
 * The tests check "nothing left unacked" with it; the README watches
 * partitions move with it.
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "ctl.h"
#include "nats_conn.h"
#include "strbuf.h"

static void stream_json(strbuf *sb, jsCtx *js, const char *name)
{
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (js_GetStreamInfo(&si, js, name, NULL, &jerr) != NATS_OK) {
        strbuf_printf(sb, "\"%s\":null", name);
        return;
    }
    strbuf_printf(sb, "\"%s\":{\"messages\":%llu,\"first_seq\":%llu,\"last_seq\":%llu,\"replicas\":%lld}",
              name, (unsigned long long)si->State.Msgs, (unsigned long long)si->State.FirstSeq,
              (unsigned long long)si->State.LastSeq, (long long)si->Config->Replicas);
    jsStreamInfo_Destroy(si);
}

static int by_name(const void *a, const void *b)
{
    const jsConsumerInfo *x = *(jsConsumerInfo *const *)a, *y = *(jsConsumerInfo *const *)b;
    int px = -1, py = -1;
    sscanf(x->Name, NATS_CONSUMER_FMT, &px);
    sscanf(y->Name, NATS_CONSUMER_FMT, &py);
    return px - py;
}

static void partitions_json(strbuf *sb, jsCtx *js, kvStore *leases)
{
    jsConsumerInfoList *list = NULL;
    jsErrCode jerr = 0;
    strbuf_puts(sb, ",\"partitions\":[");
    if (js_Consumers(&list, js, NATS_STREAM_IN, NULL, &jerr) == NATS_OK) {
        qsort(list->List, (size_t)list->Count, sizeof *list->List, by_name);
        int first = 1;
        for (int i = 0; i < list->Count; i++) {
            jsConsumerInfo *ci = list->List[i];
            int p = -1;
            if (sscanf(ci->Name, NATS_CONSUMER_FMT, &p) != 1)
                continue;
            char key[32];
            snprintf(key, sizeof key, "p.%d", p);
            kvEntry *e = NULL;
            const char *owner = NULL;
            if (leases && kvStore_Get(&e, leases, key) == NATS_OK &&
                kvEntry_Operation(e) == kvOp_Put)
                owner = kvEntry_ValueString(e);
            strbuf_printf(sb, "%s{\"partition\":%d,\"owner\":", first ? "" : ",", p);
            if (owner)
                strbuf_printf(sb, "\"%s\"", owner);  /* node ids are checked tokens */
            else
                strbuf_puts(sb, "null");
            strbuf_printf(sb, ",\"pending\":%llu,\"ack_pending\":%lld,\"ack_floor\":%llu}",
                      (unsigned long long)ci->NumPending, (long long)ci->NumAckPending,
                      (unsigned long long)ci->AckFloor.Stream);
            kvEntry_Destroy(e);
            first = 0;
        }
        jsConsumerInfoList_Destroy(list);
    }
    strbuf_puts(sb, "]");
}

int ctl_nats_cluster(const char *urls)
{
    nconn c;
    char err[512];
    if (nconn_open(&c, urls, "complaintctl-cluster", err, sizeof err) < 0) {
        fprintf(stderr, "complaintctl: %s\n", err);
        return CTL_FAIL;
    }
    strbuf sb = STRBUF_INIT;
    strbuf_puts(&sb, "{\"streams\":{");
    stream_json(&sb, c.js, NATS_STREAM_IN);
    strbuf_puts(&sb, ",");
    stream_json(&sb, c.js, NATS_STREAM_OUT);
    strbuf_puts(&sb, "},\"nodes\":[");
    kvStore *nodes = NULL, *leases = NULL;
    nconn_keys keys = {0};
    if (js_KeyValue(&nodes, c.js, NATS_KV_NODES) == NATS_OK &&
        nconn_kv_keys(c.js, nodes, NATS_KV_NODES, &keys) == NATS_OK) {
        for (int i = 0; i < keys.n; i++)
            strbuf_printf(&sb, "%s\"%s\"", i ? "," : "", keys.key[i]);
        nconn_keys_free(&keys);
    }
    strbuf_puts(&sb, "]");
    js_KeyValue(&leases, c.js, NATS_KV_LEASES);
    partitions_json(&sb, c.js, leases);
    strbuf_puts(&sb, "}");
    printf("%s\n", sb.buf);
    strbuf_free(&sb);
    kvStore_Destroy(nodes);
    kvStore_Destroy(leases);
    nconn_close(&c);
    return 0;
}
