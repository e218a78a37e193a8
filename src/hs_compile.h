/*
 * hs_compile — compile a parsed rule pack's patterns into one Hyperscan
 * database, through a disk cache keyed by the patterns' hash and the CPU.
 *
 * Compiling a few thousand patterns takes seconds (design.md); a cached
 * database loads in milliseconds, which is what makes restarts and reloads
 * cheap. The cache file is written to a temporary name, fsync'd and renamed,
 * so a crash never leaves a torn file under the final name; a file that does
 * not deserialise is ignored and rewritten.
 */
#ifndef COMPLAINTD_HS_COMPILE_H
#define COMPLAINTD_HS_COMPILE_H

#include <stddef.h>

#include "rules.h"

/* Fill rp->db, rp->hash, rp->from_cache, rp->compile_ms from rp->patterns.
 * cache_dir may be NULL (no cache). Returns 0, or -1 with "file:line: rule ID:
 * Hyperscan: message" in err. */
int hs_compile_build(rulepack *rp, const char *cache_dir, char *err, size_t errlen);

#endif
