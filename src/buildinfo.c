/* buildinfo — version, commit and the pack fingerprint; see buildinfo.h. */
#include "buildinfo.h"

#include <string.h>

#include "hash.h"

#include "build_info.h"  /* generated: BUILD_VERSION, BUILD_COMMIT */

const char *buildinfo_version(void) { return BUILD_VERSION; }

const char *buildinfo_commit(void) { return BUILD_COMMIT; }

void buildinfo_print(FILE *f, const char *prog)
{
    fprintf(f, "%s %s (git %s)\n", prog, BUILD_VERSION, BUILD_COMMIT);
}

/* FNV-1a (hash.h): a fingerprint to tell packs apart, not a defence
 * against someone crafting a collision (whoever can write the rules does
 * not need one). */
#define fnv hash_fnv1a

static uint64_t fnv_str(uint64_t h, const char *s)
{
    return fnv(h, s ? s : "", s ? strlen(s) + 1 : 1);
}

uint64_t buildinfo_pack_hash(const rulepack *rp)
{
    uint64_t h = HASH_FNV_OFFSET;
    for (size_t i = 0; i < rp->n_rules; i++) {
        const rule *r = &rp->rules[i];
        h = fnv_str(h, r->id);
        h = fnv(h, &r->label, sizeof r->label);
        h = fnv(h, &r->weight, sizeof r->weight);
        h = fnv(h, &r->lang_mask, sizeof r->lang_mask);
        h = fnv(h, &r->channel_mask, sizeof r->channel_mask);
        h = fnv(h, &r->cancels, sizeof r->cancels);
        h = fnv(h, &r->at_staff, sizeof r->at_staff);
        h = fnv(h, &r->first_clause, sizeof r->first_clause);
        h = fnv(h, &r->n_clauses, sizeof r->n_clauses);
        h = fnv(h, &r->n_match, sizeof r->n_match);
    }
    for (size_t i = 0; i < rp->n_patterns; i++) {
        h = fnv(h, &rp->pattern_clause[i], sizeof rp->pattern_clause[i]);
        h = fnv_str(h, rp->patterns[i]);
    }
    h = fnv(h, rp->threshold, sizeof rp->threshold);
    return h ? h : 1;
}
