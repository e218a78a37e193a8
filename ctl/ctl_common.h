/*
 * ctl_common — helpers several complaintctl subcommands share (ctl_common.c)
 * and the exit codes every subcommand returns.
 */
#ifndef COMPLAINTD_CTL_COMMON_H
#define COMPLAINTD_CTL_COMMON_H

#include <stdint.h>
#include <stdio.h>

#include "complaint.pb-c.h"

#define CTL_USAGE 2
#define CTL_FAIL 1

/* CURVE for a client socket, from --curve-server-key and --curve-key-file
 * (both or neither). Returns 0, or -1 after printing why. */
int ctl_apply_curve(void *sock, const char *server_key, const char *key_file);

/* The rule pack directory to use when none is given: ./rules, or the pack
 * beside the binary (<exe>/../rules) when run from elsewhere. */
const char *ctl_default_rules(void);

/* Where compiled rule databases are cached: $COMPLAINTD_CACHE, else
 * $HOME/.cache/complaintd, else NULL (no cache). */
const char *ctl_cache_dir(void);

struct rulepack;
/* Load and compile a pack through the cache; prints the error and returns
 * NULL on failure. The caller owns the pack (rulepack_free). */
struct rulepack *ctl_load_pack(const char *dir);

/* Open path for reading ("-" = stdin); message and NULL on failure. */
FILE *ctl_open_input(const char *path);

/* Called for each event of a JSON Lines input; the event is freed after.
 * Return 0 to go on, CTL_USAGE or CTL_FAIL to record a problem and go on,
 * or a negative number to stop. */
typedef int (*ctl_event_fn)(Complaint__V1__ComplaintEvent *ev, const char *input, long lineno,
                            void *ctx);

/* Read JSON Lines events from in and call fn for each. A line that is not an
 * event is reported as "complaintctl: INPUT:LINE: problem" and skipped.
 * Returns the worst status: 0, CTL_FAIL or CTL_USAGE. */
int ctl_each_event(FILE *in, const char *input, ctl_event_fn fn, void *ctx);

/* One line of JSON Lines input; returns its length or -1 at end. The line is
 * owned by the caller's *buf (getline style). */
long ctl_read_line(FILE *f, char **buf, size_t *cap);

/* The learned layer for classify and eval: the default model (unless
 * no_default) and local ones, applied in that order (model.h). */
#define CTL_MODELS_MAX 8
struct model;
struct model_scratch;
struct model_result;
struct classify_result;
struct norm_buf;
typedef struct ctl_models {
    struct model *m[CTL_MODELS_MAX]; /* owned references */
    int n;
    struct model_scratch *s;        /* owned */
} ctl_models;
/* models/default.model, or the one beside the binary (<exe>/../models); NULL
 * if neither exists. */
const char *ctl_default_model(void);
/* Load the models; prints the error (naming the file) and returns CTL_USAGE
 * on a bad one, 0 on success (possibly with no model at all). */
int ctl_models_open(ctl_models *cm, const char *const *paths, int n_paths, int no_default);
void ctl_models_close(ctl_models *cm);
/* Score one event with every model into mr (cleared first; nothing when there
 * is no model). canon: the event's canonical text when the rules have just
 * made it (classifier_canonical), read instead of normalising text again; or
 * NULL. Returns 0, or -1 if the text cannot be normalised. */
int ctl_models_apply(ctl_models *cm, const char *text, size_t len, const struct norm_buf *canon,
                     int channel, const struct classify_result *cr, struct model_result *mr);

/* Append to a decision's JSON object (before its closing brace) where each
 * label came from, ,"sources":{label:{"rules":score,"model":p,"by":...}},
 * and ,"model_evidence":[{label, text, start, end, weight}] (spans in text). */
struct strbuf;
void ctl_model_json(struct strbuf *sb, const char *text, uint32_t rules_labels,
                    const struct classify_result *cr, const struct model_result *mr,
                    uint32_t final_labels);

#endif
