/*
 * rules — parse a rule pack directory and compile it (see rules.h and
 * rules/README.md).
 *
 * DESIGN: parsing fills growable arrays (rules, clauses, patterns); every
 * alternative of a clause is parsed once (rule_alt_compile) into one
 * Hyperscan pattern whose id indexes pattern_clause, its span program, and
 * when it has word gaps a chain. Compilation and the disk cache live in
 * hs_compile.c.
 * Errors are reported once, as "file:line: rule ID: problem", and stop the
 * load: a half-loaded pack would label silently wrong.
 */
#include "rules.h"

#include <ctype.h>
#include <dirent.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>

#include "grow.h"
#include "hs_compile.h"
#include "rule_regex.h"
#include "strbuf.h"

enum { MAX_LINE = 8192 };

typedef struct loader {
    rulepack *rp;
    size_t    cap_rules, cap_clauses, cap_patterns;
    const char *file;
    int       line;
    rule     *cur;          /* rule being read, or NULL */
    int       cur_mask;     /* generate masked spellings for cur */
    char    **unless_lines; /* cur's unless clauses, added after its match clauses */
    int      *unless_line_no;
    size_t    n_unless, cap_unless;
    char     *err;
    size_t    errlen;
} loader;

static int fail(loader *ld, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
static int fail(loader *ld, const char *fmt, ...)
{
    char msg[512];
    va_list ap;
    va_start(ap, fmt);
    vsnprintf(msg, sizeof msg, fmt, ap);
    va_end(ap);
    if (ld->cur)
        snprintf(ld->err, ld->errlen, "%s:%d: rule %s: %s", ld->file, ld->line, ld->cur->id, msg);
    else
        snprintf(ld->err, ld->errlen, "%s:%d: %s", ld->file, ld->line, msg);
    return -1;
}

static int grow(void **arr, size_t *cap, size_t need, size_t elem)
{
    void *p = grow_array(*arr, cap, need, elem, 64);
    if (!p)
        return -1;
    *arr = p;
    return 0;
}

/* Split "a b c" in place into words; returns the count. */
static int split_words(char *s, char **words, int max)
{
    int n = 0;
    for (char *tok = strtok(s, " \t"); tok && n < max; tok = strtok(NULL, " \t"))
        words[n++] = tok;
    return n;
}

/* Resize *arr to n elements; on failure *arr is left as it was (and still
 * owned by whoever owned it), so nothing leaks and nothing dangles. */
static int resize(void **arr, size_t n, size_t elem)
{
    void *p = realloc(*arr, n * elem);
    if (!p)
        return -1;
    *arr = p;
    return 0;
}

/* Add a compiled alternative as the pack's next pattern, taking its regex
 * and span program; its runs, if cut, become a chain (chain.h). On failure
 * (out of memory) what was not taken is still a's. */
static int add_pattern(loader *ld, uint32_t clause, rule_alt *a)
{
    rulepack *rp = ld->rp;
    size_t cap = ld->cap_patterns;
    if (grow((void **)&rp->patterns, &cap, rp->n_patterns + 1, sizeof(char *)) < 0)
        return -1;
    /* Every parallel array grows to the new capacity before it is recorded,
     * so a failure part way leaves them all usable for n_patterns. */
    if (cap != ld->cap_patterns &&
        (resize((void **)&rp->pattern_clause, cap, sizeof(uint32_t)) < 0 ||
         resize((void **)&rp->pattern_line, cap, sizeof(int)) < 0 ||
         resize((void **)&rp->pattern_span, cap, sizeof(span_prog)) < 0))
        return -1;
    ld->cap_patterns = cap;
    size_t i = rp->n_patterns++;
    rp->patterns[i] = a->regex;
    rp->pattern_clause[i] = clause;
    rp->pattern_line[i] = ld->line;
    rp->pattern_span[i] = a->span;
    a->regex = NULL;
    a->span = (span_prog){.either_at = -1};
    /* With word gaps: scanned as runs of words (chain.h). */
    return a->runs.n == 0 ? 0 : chain_set_add(&rp->chains, (uint32_t)i, &a->runs);
}

/* One clause: each '|' alternative becomes one pattern, parsed once. */
static int add_clause(loader *ld, char *expr)
{
    rulepack *rp = ld->rp;
    uint32_t clause = (uint32_t)rp->n_clauses;
    if (grow((void **)&rp->clause_rule, &ld->cap_clauses, rp->n_clauses + 1, sizeof(uint32_t)) < 0)
        return fail(ld, "%s", "out of memory");
    rp->clause_rule[rp->n_clauses++] = (uint32_t)(ld->cur - rp->rules);
    ld->cur->n_clauses++;

    char *save = NULL;
    int alts = 0;
    for (char *alt = strtok_r(expr, "|", &save); alt; alt = strtok_r(NULL, "|", &save)) {
        alt = str_trim(alt);
        if (!*alt)
            return fail(ld, "%s", "empty alternative between '|'");
        char msg[256];
        /* Masked spellings are how people hide swear words and insults;
         * generating them for every rule would only slow the database. */
        int mask = ld->cur_mask && (ld->cur->label == LABEL_INSULT || ld->cur->label == LABEL_PROFANITY);
        rule_alt a;
        if (rule_alt_compile(alt, mask, &a, msg, sizeof msg) < 0)
            return fail(ld, "%s", msg);
        int rc = add_pattern(ld, clause, &a);
        rule_alt_free(&a);
        if (rc < 0)
            return fail(ld, "%s", "out of memory");
        alts++;
    }
    if (alts == 0)
        return fail(ld, "%s", "empty expression");
    return 0;
}

/* Close the rule being read: check it, then add its unless clauses. */
static int end_rule(loader *ld)
{
    rule *r = ld->cur;
    if (!r)
        return 0;
    int rc = 0;
    if (r->label == 0)
        rc = fail(ld, "%s", "has no label");
    else if (r->n_match == 0)
        rc = fail(ld, "%s", "has no match line");
    for (size_t i = 0; i < ld->n_unless; i++) {
        if (rc == 0) {
            ld->line = ld->unless_line_no[i];
            rc = add_clause(ld, ld->unless_lines[i]);
        }
        free(ld->unless_lines[i]);
    }
    ld->n_unless = 0;
    ld->cur = NULL;
    return rc;
}

static int start_rule(loader *ld, const char *id, uint32_t file_lang)
{
    rulepack *rp = ld->rp;
    for (size_t i = 0; i < rp->n_rules; i++)
        if (strcmp(rp->rules[i].id, id) == 0) {
            char msg[600];
            snprintf(msg, sizeof msg, "rule id '%s' is duplicate (first at %s:%d)", id,
                     rp->rules[i].file, rp->rules[i].line);
            return fail(ld, "%s", msg);
        }
    if (grow((void **)&rp->rules, &ld->cap_rules, rp->n_rules + 1, sizeof(rule)) < 0)
        return fail(ld, "%s", "out of memory");
    rule *r = &rp->rules[rp->n_rules++];
    memset(r, 0, sizeof *r);
    r->id = strdup(id);
    r->file = strdup(ld->file);
    r->line = ld->line;
    r->weight = 1.0f;
    r->lang_mask = file_lang;
    r->first_clause = (uint32_t)rp->n_clauses;
    ld->cur = r;
    ld->cur_mask = 1;
    return (r->id && r->file) ? 0 : fail(ld, "%s", "out of memory");
}

static int parse_float(loader *ld, const char *s, float *out)
{
    char *end;
    errno = 0;
    double v = strtod(s, &end);
    if (errno || *end || end == s || v < 0 || v > 1000)
        return fail(ld, "'%s' is not a number from 0 to 1000", s);
    *out = (float)v;
    return 0;
}

static int parse_rule_key(loader *ld, char *key, char *rest)
{
    rule *r = ld->cur;
    char *words[32];
    if ((strcmp(key, "match") == 0 || strcmp(key, "unless") == 0) && r->label == 0)
        return fail(ld, "%s", "'label' must come before the match and unless lines");
    if (strcmp(key, "match") == 0) {
        /* match clauses are added as they come; unless clauses wait for the
         * end of the rule so a rule's clauses stay [match..., unless...] */
        if (r->n_clauses != r->n_match)
            return fail(ld, "%s", "internal: clause order");
        if (add_clause(ld, rest) < 0)
            return -1;
        r->n_match++;
        return 0;
    }
    if (strcmp(key, "unless") == 0) {
        size_t cap = ld->cap_unless;
        if (grow((void **)&ld->unless_lines, &cap, ld->n_unless + 1, sizeof(char *)) < 0 ||
            (cap != ld->cap_unless && resize((void **)&ld->unless_line_no, cap, sizeof(int)) < 0))
            return fail(ld, "%s", "out of memory");
        ld->cap_unless = cap;
        char *copy = strdup(rest);
        if (!copy)
            return fail(ld, "%s", "out of memory");
        ld->unless_line_no[ld->n_unless] = ld->line;
        ld->unless_lines[ld->n_unless++] = copy;
        return 0;
    }
    if (strcmp(key, "nomask") == 0) {
        ld->cur_mask = 0;
        if (r->n_clauses)
            return fail(ld, "%s", "'nomask' must come before the match lines");
        return 0;
    }
    int n = split_words(rest, words, 32);
    if (strcmp(key, "label") == 0) {
        if (n != 1 || (r->label = label_from_name(words[0])) == 0)
            return fail(ld, "unknown label '%s'", n ? words[0] : "");
        return 0;
    }
    if (strcmp(key, "weight") == 0) {
        if (n != 1)
            return fail(ld, "%s", "weight takes one number");
        return parse_float(ld, words[0], &r->weight);
    }
    if (strcmp(key, "lang") == 0) {
        r->lang_mask = 0;
        for (int i = 0; i < n; i++) {
            if (strcmp(words[i], "any") == 0)
                continue;
            uint32_t b = lang_bit(words[i]);
            if (!b)
                return fail(ld, "unknown language '%s' (ru, uk, pl, en or any)", words[i]);
            r->lang_mask |= b;
        }
        return 0;
    }
    if (strcmp(key, "channel") == 0) {
        for (int i = 0; i < n; i++) {
            int ch = channel_from_name(words[i]);
            if (ch <= 0)
                return fail(ld, "unknown channel '%s'", words[i]);
            r->channel_mask |= 1u << ch;
        }
        return 0;
    }
    if (strcmp(key, "target") == 0) {
        if (n != 1 || strcmp(words[0], "staff") != 0)
            return fail(ld, "%s", "target takes one word: staff");
        r->at_staff = 1;
        return 0;
    }
    if (strcmp(key, "cancels") == 0) {
        for (int i = 0; i < n; i++) {
            int l = label_from_name(words[i]);
            if (!l)
                return fail(ld, "unknown label '%s'", words[i]);
            r->cancels |= 1u << l;
        }
        return 0;
    }
    return fail(ld, "unknown key '%s' (label, weight, lang, channel, match, unless, cancels, target, nomask)", key);
}

static int parse_threshold(loader *ld, char *rest)
{
    char *words[4];
    int n = split_words(rest, words, 4);
    int l = n == 2 ? label_from_name(words[0]) : 0;
    if (!l)
        return fail(ld, "%s", "threshold takes a label and a number");
    return parse_float(ld, words[1], &ld->rp->threshold[l]);
}

/* The default language of a file "family.LANG.rules". */
static uint32_t file_lang(const char *name)
{
    const char *dot = strchr(name, '.');
    if (!dot)
        return 0;
    char lang[8] = {0};
    const char *end = strchr(dot + 1, '.');
    if (!end || end - dot - 1 >= (long)sizeof lang)
        return 0;
    memcpy(lang, dot + 1, (size_t)(end - dot - 1));
    return lang_bit(lang);
}

static int parse_line(loader *ld, char *raw, uint32_t flang)
{
    char *hash = strchr(raw, '#');
    if (hash)
        *hash = '\0';
    int indented = (raw[0] == ' ' || raw[0] == '\t');
    char *line = str_trim(raw);
    if (!*line)
        return 0;
    char *rest = line;
    while (*rest && *rest != ' ' && *rest != '\t')
        rest++;
    if (*rest)
        *rest++ = '\0';
    rest = str_trim(rest);

    if (!indented) {
        if (end_rule(ld) < 0)
            return -1;
        if (strcmp(line, "rule") == 0) {
            if (!*rest || strpbrk(rest, " \t"))
                return fail(ld, "%s", "'rule' takes one id");
            return start_rule(ld, rest, flang);
        }
        if (strcmp(line, "threshold") == 0)
            return parse_threshold(ld, rest);
        return fail(ld, "expected 'rule ID' or 'threshold LABEL N', got '%s'", line);
    }
    if (!ld->cur)
        return fail(ld, "%s", "indented line outside a rule");
    return parse_rule_key(ld, line, rest);
}

static int load_file(loader *ld, const char *path, const char *name)
{
    FILE *f = fopen(path, "r");
    if (!f) {
        snprintf(ld->err, ld->errlen, "%s: %s", path, strerror(errno));
        return -1;
    }
    ld->file = path;
    ld->line = 0;
    uint32_t flang = file_lang(name);
    char buf[MAX_LINE];
    int rc = 0;
    while (rc == 0 && fgets(buf, sizeof buf, f)) {
        ld->line++;
        size_t got = strlen(buf);
        if (!strchr(buf, '\n') && !feof(f) && got == sizeof buf - 1)
            rc = fail(ld, "line longer than %d bytes", MAX_LINE - 1);
        else if (!strchr(buf, '\n') && !feof(f))
            rc = fail(ld, "%s", "line holds a NUL byte");
        else
            rc = parse_line(ld, buf, flang);
    }
    if (rc == 0)
        rc = end_rule(ld);
    fclose(f);
    return rc;
}

static int cmp_str(const void *a, const void *b)
{
    return strcmp(*(char *const *)a, *(char *const *)b);
}

/* Sorted *.rules names in dir; caller frees each and the array. */
static char **list_rule_files(const char *dir, size_t *n, char *err, size_t errlen)
{
    DIR *d = opendir(dir);
    if (!d) {
        snprintf(err, errlen, "%s: %s", dir, strerror(errno));
        return NULL;
    }
    char **names = NULL;
    size_t cap = 0;
    *n = 0;
    struct dirent *de;
    while ((de = readdir(d)) != NULL) {
        size_t len = strlen(de->d_name);
        if (len < 7 || strcmp(de->d_name + len - 6, ".rules") != 0 || de->d_name[0] == '.')
            continue;
        char *name = strdup(de->d_name);
        if (!name || grow((void **)&names, &cap, *n + 1, sizeof(char *)) < 0) {
            free(name);
            break;
        }
        names[(*n)++] = name;
    }
    closedir(d);
    if (*n == 0) {
        snprintf(err, errlen, "%s: no *.rules files", dir);
        free(names);
        return NULL;
    }
    qsort(names, *n, sizeof(char *), cmp_str);
    return names;
}

rulepack *rulepack_load(const char *dir, const char *cache_dir, char *err, size_t errlen)
{
    rulepack *rp = calloc(1, sizeof *rp);
    if (!rp) {
        snprintf(err, errlen, "out of memory");
        return NULL;
    }
    for (int l = 0; l < LABEL_COUNT; l++)
        rp->threshold[l] = 1.0f;
    loader ld = {.rp = rp, .err = err, .errlen = errlen};
    size_t nfiles = 0;
    char **files = list_rule_files(dir, &nfiles, err, errlen);
    int rc = files ? 0 : -1;
    for (size_t i = 0; i < nfiles; i++) {
        if (rc == 0) {
            char path[4096];
            snprintf(path, sizeof path, "%s/%s", dir, files[i]);
            rc = load_file(&ld, path, files[i]);
        }
        free(files[i]);
    }
    free(files);
    for (size_t i = 0; i < ld.n_unless; i++)  /* left over when a rule failed midway */
        free(ld.unless_lines[i]);
    free(ld.unless_lines);
    free(ld.unless_line_no);
    if (rc == 0 && rp->n_patterns == 0) {
        snprintf(err, errlen, "%s: the pack defines no rules", dir);
        rc = -1;
    }
    if (rc == 0 && chain_set_finish(&rp->chains) < 0) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc == 0)
        rc = hs_compile_build(rp, cache_dir, err, errlen);
    if (rc < 0) {
        rulepack_free(rp);
        return NULL;
    }
    return rp;
}

void rulepack_free(rulepack *rp)
{
    if (!rp)
        return;
    for (size_t i = 0; i < rp->n_rules; i++) {
        free(rp->rules[i].id);
        free(rp->rules[i].file);
    }
    for (size_t i = 0; i < rp->n_patterns; i++) {
        free(rp->patterns[i]);
        span_prog_free(&rp->pattern_span[i]);
    }
    free(rp->pattern_span);
    free(rp->rules);
    free(rp->clause_rule);
    free(rp->pattern_clause);
    free(rp->pattern_line);
    free(rp->patterns);
    chain_set_free(&rp->chains);
    if (rp->db_mem_len)
        munmap(rp->db, rp->db_mem_len);
    else
        hs_free_database(rp->db);
    free(rp);
}

int rulepack_export(const rulepack *rp, const char *path)
{
    FILE *f = fopen(path, "w");
    if (!f)
        return -1;
    for (size_t i = 0; i < rp->n_patterns; i++) {
        const rule *r = &rp->rules[rp->clause_rule[rp->pattern_clause[i]]];
        fprintf(f, "%s\t%s\n", r->id, rp->patterns[i]);
    }
    return fclose(f) == 0 ? 0 : -1;
}
