/* chain — gap alternatives scanned as runs of words; see chain.h. */
#include "chain.h"

#include <stdlib.h>
#include <string.h>

#include "grow.h"
#include "hash.h"


/* Rebuild the lookup table with room for twice the segments. */
static int rehash(chain_set *cs)
{
    size_t n = cs->n_slots ? cs->n_slots * 2 : 1024;
    uint32_t *slots = calloc(n, sizeof *slots);
    if (!slots)
        return -1;
    for (size_t s = 0; s < cs->n_segments; s++) {
        size_t i = hash_fnv1a_str(cs->segments[s]) & (n - 1);
        while (slots[i])
            i = (i + 1) & (n - 1);
        slots[i] = (uint32_t)s + 1;
    }
    free(cs->slots);
    cs->slots = slots;
    cs->n_slots = n;
    return 0;
}

/* The segment of regex re, added if new (taking re); -1 if out of memory.
 * *taken says whether re now belongs to the set. */
static long segment_of(chain_set *cs, char *re, uint32_t pattern, int *taken)
{
    *taken = 0;
    if ((cs->n_segments + 1) * 2 > cs->n_slots && rehash(cs) < 0)
        return -1;
    size_t i = hash_fnv1a_str(re) & (cs->n_slots - 1);
    for (; cs->slots[i]; i = (i + 1) & (cs->n_slots - 1))
        if (strcmp(cs->segments[cs->slots[i] - 1], re) == 0)
            return (long)cs->slots[i] - 1;
    size_t cap = cs->cap_segments;
    char **segs = grow_array(cs->segments, &cap, cs->n_segments + 1, sizeof *segs, 256);
    if (!segs)
        return -1;
    cs->segments = segs;
    uint32_t *pats = realloc(cs->segment_pattern, cap * sizeof *pats);
    if (!pats)
        return -1;  /* cap_segments unchanged: the next add retries both */
    cs->segment_pattern = pats;
    cs->cap_segments = cap;
    cs->segments[cs->n_segments] = re;
    cs->segment_pattern[cs->n_segments] = pattern;
    cs->slots[i] = (uint32_t)++cs->n_segments;
    *taken = 1;
    return (long)cs->n_segments - 1;
}

int chain_set_add(chain_set *cs, uint32_t pattern, const rule_runs *runs)
{
    chain_link *links = grow_array(cs->links, &cs->cap_links, cs->n_links + runs->n,
                                   sizeof *links, 1024);
    chain *chains = grow_array(cs->chains, &cs->cap_chains, cs->n_chains + 1, sizeof *chains, 256);
    if (links)
        cs->links = links;
    if (chains)
        cs->chains = chains;
    if (!links || !chains)
        return -1;
    chain *c = &cs->chains[cs->n_chains];
    *c = (chain){pattern, (uint32_t)cs->n_links, (uint32_t)runs->n};
    for (size_t i = 0; i < runs->n; i++) {
        char *re = strdup(runs->regex[i]);
        int taken;
        long seg = re ? segment_of(cs, re, pattern, &taken) : -1;
        if (re && !taken)
            free(re);
        if (seg < 0)
            return -1;
        cs->links[cs->n_links + i] =
            (chain_link){(uint32_t)seg, (uint16_t)runs->words[i], (uint16_t)runs->gap_before[i]};
    }
    cs->n_links += runs->n;
    cs->n_chains++;
    return 0;
}

/* The segment whose match makes a chain worth joining: every link must have
 * matched, so any would do; the longest regex is the likeliest to be rare
 * (" you " matches most texts, " manager* " few), and a rare trigger means
 * fewer chains looked at per text. */
static uint32_t trigger(const chain_set *cs, const chain *ch)
{
    uint32_t best = cs->links[ch->first_link].segment;
    size_t best_len = strlen(cs->segments[best]);
    for (uint32_t i = 1; i < ch->n_links; i++) {
        uint32_t s = cs->links[ch->first_link + i].segment;
        size_t len = strlen(cs->segments[s]);
        if (len > best_len) {
            best = s;
            best_len = len;
        }
    }
    return best;
}

int chain_set_finish(chain_set *cs)
{
    free(cs->slots);
    cs->slots = NULL;
    cs->n_slots = 0;
    cs->trigger_from = calloc(cs->n_segments + 1, sizeof *cs->trigger_from);
    cs->trigger_chain = malloc((cs->n_chains ? cs->n_chains : 1) * sizeof *cs->trigger_chain);
    if (!cs->trigger_from || !cs->trigger_chain)
        return -1;
    /* Counting sort of the chains by trigger segment. */
    for (size_t c = 0; c < cs->n_chains; c++)
        cs->trigger_from[trigger(cs, &cs->chains[c]) + 1]++;
    for (size_t s = 0; s < cs->n_segments; s++)
        cs->trigger_from[s + 1] += cs->trigger_from[s];
    uint32_t *fill = malloc((cs->n_segments ? cs->n_segments : 1) * sizeof *fill);
    if (!fill)
        return -1;
    memcpy(fill, cs->trigger_from, cs->n_segments * sizeof *fill);
    for (size_t c = 0; c < cs->n_chains; c++)
        cs->trigger_chain[fill[trigger(cs, &cs->chains[c])]++] = (uint32_t)c;
    free(fill);
    return 0;
}

void chain_set_free(chain_set *cs)
{
    for (size_t s = 0; s < cs->n_segments; s++)
        free(cs->segments[s]);
    free(cs->segments);
    free(cs->segment_pattern);
    free(cs->chains);
    free(cs->links);
    free(cs->trigger_from);
    free(cs->trigger_chain);
    free(cs->slots);
    memset(cs, 0, sizeof *cs);
}

int chain_scan_init(chain_scan *sc, const chain_set *cs)
{
    memset(sc, 0, sizeof *sc);
    size_t n = cs->n_segments ? cs->n_segments : 1;
    sc->seg_last = malloc(n * sizeof *sc->seg_last);
    sc->seen = malloc(n * sizeof *sc->seen);
    if (!sc->seg_last || !sc->seen) {
        chain_scan_free(sc);
        return -1;
    }
    for (size_t s = 0; s < n; s++)
        sc->seg_last[s] = -1;
    return 0;
}

void chain_scan_free(chain_scan *sc)
{
    free(sc->hit_end);
    free(sc->hit_next);
    free(sc->seg_last);
    free(sc->seen);
    free(sc->hit_sp);
    free(sc->trail);
    memset(sc, 0, sizeof *sc);
}

/* Room for one more hit in every per-hit array. */
static int grow_hits(chain_scan *sc)
{
    size_t cap = sc->cap_hits ? sc->cap_hits * 2 : 256;
    uint32_t *end = realloc(sc->hit_end, cap * sizeof *end);
    if (end)
        sc->hit_end = end;
    int32_t *next = realloc(sc->hit_next, cap * sizeof *next);
    if (next)
        sc->hit_next = next;
    uint32_t *sp = realloc(sc->hit_sp, cap * sizeof *sp);
    if (sp)
        sc->hit_sp = sp;
    if (!end || !next || !sp)
        return -1;
    sc->cap_hits = cap;
    return 0;
}

void chain_scan_begin(chain_scan *sc, const char *text)
{
    sc->text = text;
    sc->cursor = 0;
    sc->cursor_spaces = 0;
}

/* Spaces in text[from, to): a plain loop the compiler vectorises. */
static uint32_t count_spaces(const char *text, uint32_t from, uint32_t to)
{
    uint32_t n = 0;
    for (uint32_t x = from; x < to; x++)
        n += (text[x] == ' ');
    return n;
}

int chain_scan_hit(chain_scan *sc, uint32_t segment, uint32_t end)
{
    if (sc->n_hits == sc->cap_hits && grow_hits(sc) < 0) {
        sc->failed = 1;
        return -1;
    }
    /* sp(end), counted on from the previous hit: Hyperscan reports in
     * order of end offset, so the whole text is counted at most once; an
     * end before the cursor (not expected) counts again from the start. */
    if (end < sc->cursor) {
        sc->cursor = 0;
        sc->cursor_spaces = 0;
        sc->unordered = 1;
    }
    sc->cursor_spaces += count_spaces(sc->text, sc->cursor, end);
    sc->cursor = end;
    int32_t h = (int32_t)sc->n_hits++;
    sc->hit_end[h] = end;
    sc->hit_sp[h] = sc->cursor_spaces;
    sc->hit_next[h] = sc->seg_last[segment];
    if (sc->seg_last[segment] < 0)
        sc->seen[sc->n_seen++] = segment;
    sc->seg_last[segment] = h;
    return 0;
}

/* Whether a match of the previous link ends 0..gap words before a run that
 * starts at space number start_space: some hit a in from[0..n) with
 * start_space - gap <= sp(a) <= start_space. The join walks hits newest
 * first, so sp(from[]) is decreasing and successive calls for one link come
 * with non-increasing start_space: *j only moves forward, and a link is
 * joined in time linear in the hits (a hostile text repeating a chain's
 * words thousands of times would otherwise cost their product). If the hits
 * came out of order (ordered == 0; not expected of Hyperscan), every a is
 * tried. */
static int reachable(const uint32_t *sp, const uint32_t *from, size_t n, size_t *j,
                     long start_space, unsigned gap, int ordered)
{
    if (!ordered) {
        for (size_t i = 0; i < n; i++) {
            long between = start_space - (long)sp[from[i]];
            if (between >= 0 && between <= (long)gap)
                return 1;
        }
        return 0;
    }
    while (*j < n && (long)sp[from[*j]] > start_space)
        (*j)++;
    return *j < n && (long)sp[from[*j]] >= start_space - (long)gap;
}

/* Room in the trail for `more` hit indices after the first `used`. */
static int trail_room(chain_scan *sc, size_t used, size_t more)
{
    if (used + more <= sc->cap_trail)
        return 0;
    size_t cap = sc->cap_trail ? sc->cap_trail : 256;
    while (cap < used + more)
        cap *= 2;
    uint32_t *t = realloc(sc->trail, cap * sizeof *t);
    if (!t)
        return -1;
    sc->trail = t;
    sc->cap_trail = cap;
    return 0;
}

/* The hit of the link before that a match of a run starting at space
 * number start_space continues, among the feasible ones from[0..n): the
 * nearest (fewest words skipped), as span.c's walk back would pick it. */
static uint32_t nearest(const uint32_t *sp, const uint32_t *from, size_t n, long start_space,
                        unsigned gap)
{
    uint32_t best = from[0];
    long best_sp = -1;
    for (size_t i = 0; i < n; i++) {
        long a = (long)sp[from[i]];
        if (a <= start_space && a >= start_space - (long)gap && a > best_sp) {
            best = from[i];
            best_sp = a;
        }
    }
    return best;
}

/* The byte where a run of `words` words ending at end (one past its
 * trailing space) starts: its first word's first byte. */
static uint32_t run_start(const char *text, uint32_t end, unsigned words)
{
    uint32_t x = end - 1;  /* the trailing space */
    for (unsigned k = 0; k < words && x > 0; k++) {
        x--;
        while (x > 0 && text[x] != ' ')
            x--;
    }
    return x + 1;
}

/* Join one chain: its first end, or 0 if it does not match (no match ends
 * at byte 0: canonical text starts with a space), and in *start where that
 * match starts. Every link's feasible hits (those a match of the links
 * before can reach) are kept in the trail, so the start is found by walking
 * back from the last link's hit. -1 if out of memory. */
static long join_chain(chain_scan *sc, const chain_set *cs, const chain *ch, uint32_t *start)
{
    const chain_link *l = &cs->links[ch->first_link];
    for (uint32_t i = 0; i < ch->n_links; i++)
        if (sc->seg_last[l[i].segment] < 0)
            return 0;
    size_t link_from[RULE_RUNS_MAX + 1];  /* link i's hits: trail[link_from[i] .. [i + 1]) */
    size_t used = 0;
    if (trail_room(sc, 0, sc->n_hits) < 0)
        return -1;
    link_from[0] = 0;
    for (int32_t h = sc->seg_last[l[0].segment]; h >= 0; h = sc->hit_next[h])
        sc->trail[used++] = (uint32_t)h;
    int32_t best = -1;
    for (uint32_t i = 1; i < ch->n_links && used > link_from[i - 1]; i++) {
        int last = (i + 1 == ch->n_links);
        const uint32_t *from = sc->trail + link_from[i - 1];
        size_t n_from = used - link_from[i - 1], j = 0;
        link_from[i] = used;
        if (!last && trail_room(sc, used, sc->n_hits) < 0)
            return -1;
        from = sc->trail + link_from[i - 1];  /* the trail may have moved */
        for (int32_t h = sc->seg_last[l[i].segment]; h >= 0; h = sc->hit_next[h]) {
            /* spaces before this run's first word, minus the one it starts on */
            long start_space = (long)sc->hit_sp[h] - l[i].words;
            if (!reachable(sc->hit_sp, from, n_from, &j, start_space, l[i].gap_before,
                           !sc->unordered))
                continue;
            if (!last)
                sc->trail[used++] = (uint32_t)h;
            else if (best < 0 || sc->hit_end[h] < sc->hit_end[best])
                best = h;
        }
    }
    if (best < 0)
        return 0;
    uint32_t h = (uint32_t)best;
    for (uint32_t i = ch->n_links - 1; i > 0; i--) {
        long start_space = (long)sc->hit_sp[h] - l[i].words;
        h = nearest(sc->hit_sp, sc->trail + link_from[i - 1], link_from[i] - link_from[i - 1],
                    start_space, l[i].gap_before);
    }
    *start = run_start(sc->text, sc->hit_end[h], l[0].words);
    return sc->hit_end[best];
}

int chain_scan_join(chain_scan *sc, const chain_set *cs,
                    void (*found)(uint32_t pattern, uint32_t start, uint32_t end, void *ctx),
                    void *ctx)
{
    if (sc->failed)
        return -1;
    for (size_t i = 0; i < sc->n_seen; i++) {
        uint32_t s = sc->seen[i];
        for (uint32_t k = cs->trigger_from[s]; k < cs->trigger_from[s + 1]; k++) {
            const chain *ch = &cs->chains[cs->trigger_chain[k]];
            uint32_t start = 0;
            long end = join_chain(sc, cs, ch, &start);
            if (end < 0)
                return -1;
            if (end)
                found(ch->pattern, start, (uint32_t)end, ctx);
        }
    }
    return 0;
}

void chain_scan_reset(chain_scan *sc)
{
    for (size_t i = 0; i < sc->n_seen; i++)
        sc->seg_last[sc->seen[i]] = -1;
    sc->n_seen = 0;
    sc->n_hits = 0;
    sc->failed = 0;
    sc->unordered = 0;
}
