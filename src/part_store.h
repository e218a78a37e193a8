/*
 * part_store — a partition's histories as a unit (cluster mode, issue 18):
 * dump them into one byte string (the snapshot a node publishes), drop them
 * from the store (before a node takes a partition over), and load a dump
 * back.
 *
 * A partition's records are not kept under a key prefix: the customer id
 * is the key (single-node stores stay as they are) and its partition is
 * computed from it (partition.h). So a dump or a drop reads every customer
 * record and, for the de-duplication index, every logged decision: O(store),
 * once per snapshot interval and per takeover, never per event.
 *
 * Employees' records (which many customers' events update) are not part of
 * a partition: each node keeps what its own partitions' events taught it.
 *
 * Dump format: "CDP1", then per customer: u32 id length, id, u32 record
 * length, the serialized CustomerRecord (little-endian lengths).
 */
#ifndef COMPLAINTD_PART_STORE_H
#define COMPLAINTD_PART_STORE_H

#include <stddef.h>

#include "history.h"
#include "strbuf.h"

/* Append partition part's customer records (of n_parts) to out, as of one
 * read transaction. *customers: how many. HIST_OK or HIST_*. */
int pstore_dump(hist_env *env, int part, int n_parts, strbuf *out, size_t *customers /* OUT */);

/* Delete partition part's customer records and the event ids of its logged
 * decisions (so that replaying its events applies each of them again), in
 * one write transaction. Counts in *customers and *events (may be NULL). */
int pstore_drop(hist_env *env, int part, int n_parts, size_t *customers, size_t *events);

/* Store the records of a dump, in one write transaction. HIST_ECORRUPT
 * (nothing stored) when the bytes are not a whole dump. */
int pstore_load(hist_env *env, const void *bytes, size_t len, size_t *customers /* OUT */);

#endif
