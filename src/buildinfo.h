/*
 * buildinfo — what this binary is: the project version and the git commit
 * baked in at build time (cmake/build_info.cmake), and a fingerprint of the
 * rule pack it runs, for `--version` and the complaintd_build_info metric.
 */
#ifndef COMPLAINTD_BUILDINFO_H
#define COMPLAINTD_BUILDINFO_H

#include <stdint.h>
#include <stdio.h>

#include "rules.h"

const char *buildinfo_version(void);  /* "0.16.0" */
const char *buildinfo_commit(void);   /* 12 hex digits, "-dirty" if the tree was; or "unknown" */

/* "PROG VERSION (git COMMIT)" and a newline, to f. */
void buildinfo_print(FILE *f, const char *prog);

/* A fingerprint of everything a loaded pack decides with: its rules (ids,
 * labels, weights, languages, channels, cancels, target), their clauses'
 * patterns and the thresholds. Two packs with the same hash label every text
 * the same. Unlike rp->hash (the compile cache's key: the patterns only), a
 * changed weight changes it. Never 0. */
uint64_t buildinfo_pack_hash(const rulepack *rp);

#endif
