/*
 * feedback — managers' reviews in the history store: the "feedback"
 * database of the history environment (history.h),
 *
 *   event_id -> serialized complaint.v1.Feedback
 *
 * keyed by event so that a second review of the same event replaces the
 * first (the latest verdict is the one to learn from). The store keeps no
 * event texts elsewhere; a review carries its event's text because the
 * retrain needs it, and forget erases a customer's reviews with the rest of
 * their data (hist_forget calls feedback_forget in its transaction).
 *
 * The daemon's writer thread is the only writer of reviews (LMDB keeps one
 * writer); readers (the retrain thread, tests) use read transactions.
 */
#ifndef COMPLAINTD_FEEDBACK_H
#define COMPLAINTD_FEEDBACK_H

#include <stddef.h>
#include <stdint.h>

#include "complaint.pb-c.h"
#include "history.h"

typedef Complaint__V1__Feedback feedback_msg;

/* Why fb cannot be stored, or NULL if it can: event_id and customer_id
 * present, UTF-8 and at most HIST_ID_MAX - 1 bytes, a non-empty UTF-8 text
 * of at most max_text bytes, and labels, action and channel in range. The
 * reason is a static string. */
const char *feedback_invalid(const feedback_msg *fb, size_t max_text);

/* Store fb (valid: feedback_invalid) under its event_id, replacing any
 * earlier review of it. *replaced (may be NULL) says whether there was one.
 * Returns HIST_OK or HIST_* with the message in hist_last_error. */
int feedback_put(hist_txn *txn, const feedback_msg *fb, int *replaced /* OUT */);

/* The review of event_id, decoded into *out (free with
 * complaint__v1__feedback__free_unpacked), or HIST_NOTFOUND. */
int feedback_get(hist_txn *txn, const char *event_id, size_t idlen, feedback_msg **out /* OUT */);

/* Call fn for each stored review, in event_id order; the message is freed
 * after fn returns. Stops when fn returns non-zero. Entries that do not
 * decode are skipped and counted in *corrupt (may be NULL). */
int feedback_each(hist_txn *txn, int (*fn)(const feedback_msg *fb, void *ctx), void *ctx,
                  uint64_t *corrupt /* OUT */);
/* The same from the first review whose event_id sorts after after[0..len)
 * (NULL: from the first), so that a long walk can be cut into short read
 * transactions, each taking up where the last stopped. */
int feedback_each_after(hist_txn *txn, const char *after, size_t len,
                        int (*fn)(const feedback_msg *fb, void *ctx), void *ctx,
                        uint64_t *corrupt /* OUT */);

/* How many reviews are stored. */
int feedback_count(hist_txn *txn, uint64_t *n /* OUT */);

/* Delete every review of customer_id; *removed gets how many. A write
 * transaction; all or nothing with it. */
int feedback_forget(hist_txn *txn, const char *customer_id, size_t idlen, size_t *removed /* OUT */);

#endif
