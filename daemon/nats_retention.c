/* nats_retention — what the streams must keep for a takeover, and the
 * check that refuses a node streams that cannot (nats_node_internal.h). */
#include <stdio.h>
#include <string.h>

#include "nats_node_internal.h"

int64_t node_min_max_age_ms(const config *cfg)
{
    return NODE_REPLAY_MARGIN_MS + 2LL * cfg->snapshot_interval_s * 1000 + 2LL * cfg->lease_ttl_ms;
}

int64_t node_default_max_age_ms(const config *cfg)
{
    int64_t week = 7LL * 24 * 3600 * 1000, need = node_min_max_age_ms(cfg);
    return need > week ? need : week;
}

int64_t node_dup_window_ms(const config *cfg)
{
    int64_t need = 4LL * cfg->lease_ttl_ms;
    return need > 60000 ? need : 60000;
}

const char *node_retention_problem(const config *cfg, const char *name, const jsStreamConfig *sc)
{
    static __thread char why[256];  /* main thread at start-up; per thread to be safe */
    if (sc->Retention != js_LimitsPolicy)
        return "retention must be limits (work-queue and interest streams delete acked events, "
               "which a takeover replays)";
    if (strcmp(name, NATS_STREAM_IN) == 0) {
        int64_t need = node_min_max_age_ms(cfg);
        if (sc->MaxAge > 0 && sc->MaxAge / 1000000 < need) {
            snprintf(why, sizeof why,
                     "max_age %lld s cannot hold a replay: at least %lld s "
                     "(10 min + 2 x snapshot_interval_s + 2 x lease_ttl_ms), or 0",
                     (long long)(sc->MaxAge / 1000000000), (long long)(need / 1000));
            return why;
        }
        if (sc->MaxMsgs > 0 || sc->MaxBytes > 0 || sc->MaxMsgsPerSubject > 0)
            return "max_msgs, max_bytes and max_msgs_per_subject must be unlimited (-1): "
                   "a limit by volume can drop events a takeover still has to replay";
    }
    if (strcmp(name, NATS_STREAM_OUT) == 0) {
        int64_t need = node_dup_window_ms(cfg);
        if (sc->Duplicates / 1000000 < need) {
            snprintf(why, sizeof why,
                     "duplicate window %lld ms cannot drop the decisions a takeover derives "
                     "again: at least %lld ms (60 s or 4 x lease_ttl_ms)",
                     (long long)(sc->Duplicates / 1000000), (long long)need);
            return why;
        }
    }
    if (sc->Replicas < cfg->nats_replicas) {
        snprintf(why, sizeof why, "has %lld replica(s), nats_replicas asks for %d",
                 (long long)sc->Replicas, cfg->nats_replicas);
        return why;
    }
    return NULL;
}
