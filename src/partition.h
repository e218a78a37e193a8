/*
 * partition — how a cluster of complaintd nodes splits customers (issue 18).
 *
 * A customer's events travel on complaints.in.<token>; the NATS servers map
 * that subject to complaints.p.<partition>.<token> with partition(P,1),
 * which is the 32-bit FNV-1a hash of the token modulo P. part_of computes
 * the same number here, so a node can tell which of its stored customers
 * belong to a partition (to snapshot or drop them as a unit) without asking
 * the servers. tests/cluster checks the two agree on a live server.
 *
 * part_assign is the pure rebalancing rule every node evaluates on the same
 * view (live nodes, current owners): each live node gets P/N partitions or
 * one more, and a partition keeps its owner whenever that owner is still
 * within its share, so a join or a leave moves as few partitions as can be.
 */
#ifndef COMPLAINTD_PARTITION_H
#define COMPLAINTD_PARTITION_H

#include <stddef.h>
#include <stdint.h>

enum { PART_TOKEN_MAX = 64, PART_MAX = 1024 };

/* The subject token of a customer: the id itself when it matches
 * [A-Za-z0-9_-]{1,64}, else the lowercase hex of its SHA-256, first 32
 * characters. out must hold PART_TOKEN_MAX + 1 bytes; returns its length. */
size_t part_token(const char *customer_id, size_t len, char out[PART_TOKEN_MAX + 1]);

/* The partition of a token: FNV-1a 32 of its bytes, modulo n_parts (> 0). */
int part_of_token(const char *token, size_t len, int n_parts);

/* The partition of a customer id (part_token, then part_of_token). */
int part_of_customer(const char *customer_id, size_t len, int n_parts);

/* Rebalance n_parts partitions over n_nodes live nodes (numbered 0..n-1,
 * in the order of their ids, the same on every node). owner[p] is p's
 * current owner or -1 (none, or a node that left); out[p] receives its new
 * owner. Deterministic; with n_nodes == 0 every out[p] is -1. Returns the
 * number of partitions whose owner changes (a -1 owner counts as a change). */
int part_assign(int n_parts, int n_nodes, const int *owner, int *out /* OUT */);

#endif
