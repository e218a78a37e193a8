/*
 * nats_probe — what the cluster tests need to read from JetStream that
 * complaintctl does not show (there is no nats CLI on the test machines):
 *
 *   nats_probe URL subjects STREAM   "SEQ SUBJECT" for every message
 *
 * tests/e2e/test_cluster.py compares the subjects the servers' mapping
 * gave with the partition complaintd computes (src/partition.c).
 */
#include <nats/nats.h>
#include <stdio.h>
#include <string.h>

int main(int argc, char **argv)
{
    if (argc != 4 || strcmp(argv[2], "subjects") != 0) {
        fprintf(stderr, "usage: nats_probe URL subjects STREAM\n");
        return 2;
    }
    natsConnection *nc = NULL;
    jsCtx *js = NULL;
    jsStreamInfo *si = NULL;
    jsErrCode jerr = 0;
    if (natsConnection_ConnectTo(&nc, argv[1]) != NATS_OK ||
        natsConnection_JetStream(&js, nc, NULL) != NATS_OK ||
        js_GetStreamInfo(&si, js, argv[3], NULL, &jerr) != NATS_OK) {
        fprintf(stderr, "nats_probe: %s: %s\n", argv[1], nats_GetLastError(NULL));
        return 1;
    }
    for (uint64_t seq = si->State.FirstSeq; seq && seq <= si->State.LastSeq; seq++) {
        natsMsg *m = NULL;
        if (js_GetMsg(&m, js, argv[3], seq, NULL, &jerr) == NATS_OK)
            printf("%llu %s\n", (unsigned long long)seq, natsMsg_GetSubject(m));
        natsMsg_Destroy(m);
    }
    jsStreamInfo_Destroy(si);
    jsCtx_Destroy(js);
    natsConnection_Destroy(nc);
    nats_Close();
    return 0;
}
