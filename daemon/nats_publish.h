/*
 * nats_publish — the publisher thread's side of cluster mode (issue 18):
 * each decision of an event that came from NATS is stored in the
 * DECISIONS stream as decisions.<ACTION> with Nats-Msg-Id = the event's id,
 * and only once JetStream has acknowledged every decision of a flush are
 * the flush's input messages acked on their partition's consumer. A
 * decision derived again (after a takeover) carries the same Msg-Id and is
 * dropped by the stream's duplicate window.
 *
 * Used by one thread only (the publisher); it owns its connection.
 */
#ifndef COMPLAINTD_NATS_PUBLISH_H
#define COMPLAINTD_NATS_PUBLISH_H

#include <stddef.h>
#include <stdint.h>

#include "config.h"
#include "nats_in.h"
#include "stats.h"

typedef struct nats_pub nats_pub;

/* NULL when cfg has no nats_url (ZeroMQ mode). Connects, retrying until
 * the servers answer (the node checked them moments before). */
nats_pub *nats_pub_open(const config *cfg, daemon_stats *stats);

/* Queue the decision of in (bytes copied; published now, asynchronously).
 * event_id: the decoded event's id, or NULL. Takes in. */
void nats_pub_add(nats_pub *np, nats_in *in, const char *topic, const char *event_id,
                  const void *bytes, size_t len);

/* Wait until every queued decision is stored (re-publishing what failed,
 * until it is), then ack and free their inputs. */
void nats_pub_flush(nats_pub *np);
void nats_pub_close(nats_pub *np);  /* NULL is fine */

#endif
