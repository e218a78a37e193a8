/*
 * rule_regex — one alternative of a rule expression -> its regex, runs and
 * span program, in one pass over its tokens.
 *
 * DESIGN: the rule author writes words as people spell them; each literal
 * piece is run through the same canonicaliser as event text (norm_text), so
 * rule and text agree on case, diacritics, look-alikes and squeezed repeats
 * without the author thinking about it. Word edges are the spaces of the
 * canonical form, so a pattern is " w1 w2 " and never needs \b.
 *
 * Each word is canonicalised once: the whole regex is written once, the
 * runs of a cut alternative are slices of it (between its gaps), and the
 * span items are recorded beside it.
 */
#include "rule_regex.h"

#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalise.h"
#include "strbuf.h"

enum { MAX_TOKENS = 64, MAX_GAP = 50 };

/* The alternative being compiled. */
typedef struct builder {
    strbuf    re;             /* the whole regex */
    strbuf    globs;          /* span item words, back to back */
    span_item items[MAX_TOKENS];
    int       n_items;
    int       either_at;      /* span item index of "~~N", or -1 */
    int       record;         /* 0 while writing the second order of "~~N" */
    size_t    run_from[MAX_TOKENS + 1], run_to[MAX_TOKENS + 1];  /* runs' bytes in re */
    int       n_runs;
    norm_buf  nb;
} builder;

typedef struct token {
    const char *s;
    size_t      len;
    int         gap;     /* >= 0: a gap token "~N"; -1: a word */
    int         either;  /* "~~N": either order */
} token;

/* Bytes that may stand in a regex unescaped: canonical text is lower case. */
static void put_escaped(strbuf *sb, const char *s, size_t n)
{
    static const char hex[] = "0123456789abcdef";
    for (size_t i = 0; i < n; i++) {
        unsigned char c = (unsigned char)s[i];
        if ((c >= 'a' && c <= 'z') || (c >= '0' && c <= '9')) {
            strbuf_putc(sb, (char)c);
        } else {  /* by hand: printf per byte was a tenth of loading a pack */
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            strbuf_append(sb, esc, 4);
        }
    }
}

/* Canonicalise one literal piece of a word; it must stay one word. */
static int canon_piece(norm_buf *nb, const char *s, size_t n, char *err, size_t errlen)
{
    if (norm_text(nb, s, n) != NORM_OK) {
        snprintf(err, errlen, "word '%.*s' is not valid UTF-8", (int)n, s);
        return -1;
    }
    /* " piece " -> "piece" in place */
    if (nb->len < 3 || memchr(nb->text + 1, ' ', nb->len - 2) != NULL) {
        snprintf(err, errlen, "'%.*s' is not one word after canonicalising", (int)n, s);
        return -1;
    }
    memmove(nb->text, nb->text + 1, nb->len - 2);
    nb->len -= 2;
    nb->text[nb->len] = '\0';
    return 0;
}

static size_t utf8_chars(const char *s, size_t n, size_t *starts /* OUT, n+1 */)
{
    size_t k = 0;
    for (size_t i = 0; i < n; i++)
        if (((unsigned char)s[i] & 0xC0) != 0x80)
            starts[k++] = i;
    starts[k] = n;
    return k;
}

/* Masked spellings of a literal word w: some first letters, '*', some last
 * letters ("f*k", "п*ц", "бл*ть"). The canonicaliser squeezes "***" to "*". */
static void put_masked(strbuf *sb, const char *w, size_t n)
{
    size_t starts[256];
    size_t k = n < 255 ? utf8_chars(w, n, starts) : 0;
    if (k < 3)
        return;
    strbuf_puts(sb, "|(?:");
    for (size_t i = 1; i < k; i++) {
        if (i > 1)
            strbuf_putc(sb, '|');
        put_escaped(sb, w, starts[i]);
    }
    strbuf_puts(sb, ")\\x2a(?:");
    for (size_t i = 1; i < k; i++) {
        if (i > 1)
            strbuf_putc(sb, '|');
        put_escaped(sb, w + starts[i], n - starts[i]);
    }
    strbuf_putc(sb, ')');
}

/* Append to the span item word being written. */
static void put_glob(builder *b, const char *s, size_t n)
{
    if (b->record)
        strbuf_append(&b->globs, s, n);
}

static int put_word(builder *b, const token *t, int mask, char *err, size_t errlen)
{
    const char *s = t->s, *end = t->s + t->len;
    int leading = (*s == '*');
    int trailing = (end[-1] == '*');
    int pieces = 0;
    int single_literal = 0;

    if (t->len == 1 && leading) {
        snprintf(err, errlen, "a lone '*' is not a word (use a gap: ~1)");
        return -1;
    }
    for (const char *p = t->s; p + 1 < end; p++)
        if (p[0] == '*' && p[1] == '*') {
            snprintf(err, errlen, "'%.*s': '**' is not allowed", (int)t->len, t->s);
            return -1;
        }
    if (leading)
        s++;
    /* Count the literal pieces first: masking applies to one-piece words. */
    for (const char *p = s; p < end;) {
        const char *star = memchr(p, '*', (size_t)(end - p));
        const char *stop = star ? star : end;
        if (stop > p)
            pieces++;
        p = star ? star + 1 : end;
    }
    single_literal = (pieces == 1 && !leading);
    if (single_literal && mask) {
        /* Only words of three letters or more get masked forms. */
        size_t letters = 0;
        for (const char *p = s; p < end && *p != '*'; p++)
            letters += ((unsigned char)*p & 0xC0) != 0x80;
        mask = letters >= 3;
    }

    size_t glob_from = b->globs.len;
    if (single_literal && mask)
        strbuf_puts(&b->re, "(?:");
    if (leading) {
        strbuf_puts(&b->re, "[^ ]*");
        put_glob(b, "*", 1);
    }
    int first = 1;
    for (const char *p = s; p < end;) {
        const char *star = memchr(p, '*', (size_t)(end - p));
        const char *stop = star ? star : end;
        if (stop > p) {
            if (!first) {
                strbuf_puts(&b->re, "[^ ]*");
                put_glob(b, "*", 1);
            }
            if (canon_piece(&b->nb, p, (size_t)(stop - p), err, errlen) < 0)
                return -1;
            put_escaped(&b->re, b->nb.text, b->nb.len);
            put_glob(b, b->nb.text, b->nb.len);
            first = 0;
        }
        p = star ? star + 1 : end;
    }
    if (single_literal && mask) {
        /* nb still holds the single piece */
        put_masked(&b->re, b->nb.text, b->nb.len);
        strbuf_putc(&b->re, ')');
    }
    if (trailing) {
        strbuf_puts(&b->re, "[^ ]*");
        put_glob(b, "*", 1);
    }
    if (b->record)
        b->items[b->n_items++] =
            (span_item){(uint32_t)glob_from, (uint16_t)(b->globs.len - glob_from), -1};
    return 0;
}

static void put_gap(builder *b, int n, int either)
{
    if (n == 0)
        strbuf_putc(&b->re, ' ');  /* Hyperscan refuses the repeat {0,0} */
    else
        strbuf_printf(&b->re, " (?:[^ ]+ ){0,%d}", n);
    if (!b->record)
        return;
    if (either)
        b->either_at = b->n_items;
    b->items[b->n_items++] = (span_item){0, 0, (int16_t)n};
}

/* Words and ordered gaps of tokens [from, to): "w1 w2 (?:[^ ]+ ){0,3}w3".
 * Where each run of words between the gaps lies in the regex is noted
 * (run_from, run_to) for the chain scan's segments. */
static int put_sequence(builder *b, const token *tk, int from, int to, int mask, char *err,
                        size_t errlen)
{
    if (from >= to || tk[from].gap >= 0 || tk[to - 1].gap >= 0) {
        snprintf(err, errlen, "a gap must stand between two words");
        return -1;
    }
    b->n_runs = 0;
    b->run_from[0] = b->re.len;
    for (int i = from; i < to; i++) {
        if (tk[i].gap >= 0) {
            if (tk[i + 1].gap >= 0) {
                snprintf(err, errlen, "two gaps in a row");
                return -1;
            }
            b->run_to[b->n_runs++] = b->re.len;
            put_gap(b, tk[i].gap, 0);
            b->run_from[b->n_runs] = b->re.len;
            continue;
        }
        if (i > from && tk[i - 1].gap < 0)
            strbuf_putc(&b->re, ' ');
        if (put_word(b, &tk[i], mask, err, errlen) < 0)
            return -1;
    }
    b->run_to[b->n_runs++] = b->re.len;
    return 0;
}

static int tokenize(const char *alt, token *tk, int *ntk, char *err, size_t errlen)
{
    int n = 0;
    for (const char *p = alt; *p;) {
        while (*p == ' ' || *p == '\t')
            p++;
        if (!*p)
            break;
        const char *q = p;
        while (*q && *q != ' ' && *q != '\t')
            q++;
        if (n == MAX_TOKENS) {
            snprintf(err, errlen, "more than %d words in one alternative", MAX_TOKENS);
            return -1;
        }
        token t = {p, (size_t)(q - p), -1, 0};
        if (*p == '~') {
            const char *d = p + 1;
            if (*d == '~') {
                t.either = 1;
                d++;
            }
            char *endp;
            long g = strtol(d, &endp, 10);
            if (endp != q || d == q || g < 0 || g > MAX_GAP) {
                snprintf(err, errlen, "bad gap '%.*s' (want ~N or ~~N, N from 0 to %d)",
                         (int)t.len, p, MAX_GAP);
                return -1;
            }
            t.gap = (int)g;
        }
        tk[n++] = t;
        p = q;
    }
    if (n == 0) {
        snprintf(err, errlen, "empty alternative");
        return -1;
    }
    *ntk = n;
    return 0;
}

/* The runs of the sequence just written, each " run " (rule_regex.h), with
 * their word counts and the gaps between them from the tokens. */
static int take_runs(builder *b, const token *tk, int ntk, rule_runs *out)
{
    unsigned words = 0;
    int run = 0;
    for (int i = 0; i < ntk; i++) {
        if (tk[i].gap < 0) {
            words++;
            continue;
        }
        out->words[run++] = words;
        out->gap_before[run] = (unsigned)tk[i].gap;
        words = 0;
    }
    out->words[run] = words;
    out->gap_before[0] = 0;
    for (int r = 0; r < b->n_runs; r++) {
        size_t n = b->run_to[r] - b->run_from[r];
        char *re = malloc(n + 3);
        if (!re)
            return -1;
        re[0] = ' ';
        memcpy(re + 1, b->re.buf + b->run_from[r], n);
        re[n + 1] = ' ';
        re[n + 2] = '\0';
        out->regex[out->n++] = re;
    }
    return 0;
}

static int build(builder *b, const token *tk, int ntk, int either_at, int mask, rule_alt *out,
                 char *err, size_t errlen)
{
    strbuf_putc(&b->re, ' ');
    if (either_at < 0) {
        if (put_sequence(b, tk, 0, ntk, mask, err, errlen) < 0)
            return -1;
    } else {
        /* (?:A gap B|B gap A); the span items say it once: "A ~~N B" */
        strbuf_puts(&b->re, "(?:");
        if (put_sequence(b, tk, 0, either_at, mask, err, errlen) < 0)
            return -1;
        put_gap(b, tk[either_at].gap, 1);
        if (put_sequence(b, tk, either_at + 1, ntk, mask, err, errlen) < 0)
            return -1;
        strbuf_putc(&b->re, '|');
        b->record = 0;
        if (put_sequence(b, tk, either_at + 1, ntk, mask, err, errlen) < 0)
            return -1;
        put_gap(b, tk[either_at].gap, 0);
        if (put_sequence(b, tk, 0, either_at, mask, err, errlen) < 0)
            return -1;
        strbuf_putc(&b->re, ')');
    }
    strbuf_putc(&b->re, ' ');
    /* Cut at the gaps when there are some, no "~~N", and not too many. */
    if (either_at < 0 && b->n_runs >= 2 && b->n_runs <= RULE_RUNS_MAX && !strbuf_failed(&b->re) &&
        take_runs(b, tk, ntk, &out->runs) < 0) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    return 0;
}

int rule_alt_compile(const char *alt, int mask, rule_alt *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    out->span.either_at = -1;
    token tk[MAX_TOKENS];
    int ntk, either_at = -1;
    if (tokenize(alt, tk, &ntk, err, errlen) < 0)
        return -1;
    for (int i = 0; i < ntk; i++) {
        if (!tk[i].either)
            continue;
        if (either_at >= 0) {
            snprintf(err, errlen, "only one '~~N' per alternative");
            return -1;
        }
        either_at = i;
    }

    builder *b = calloc(1, sizeof *b);
    if (!b) {
        snprintf(err, errlen, "out of memory");
        return -1;
    }
    b->record = 1;
    b->either_at = -1;
    norm_buf_init(&b->nb);
    int rc = build(b, tk, ntk, either_at, mask, out, err, errlen);
    span_item *items = NULL;
    if (rc == 0) {
        items = malloc((size_t)b->n_items * sizeof *items);
        if (!items || strbuf_failed(&b->re) || strbuf_failed(&b->globs) || b->globs.len == 0) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
    }
    if (rc == 0) {
        memcpy(items, b->items, (size_t)b->n_items * sizeof *items);
        out->regex = strbuf_take(&b->re);
        out->span = (span_prog){strbuf_take(&b->globs), items, (uint16_t)b->n_items,
                                (int16_t)b->either_at, (uint8_t)mask};
    } else {
        free(items);
        rule_runs_free(&out->runs);
    }
    norm_buf_free(&b->nb);
    strbuf_free(&b->re);
    strbuf_free(&b->globs);
    free(b);
    return rc;
}

void rule_alt_free(rule_alt *a)
{
    free(a->regex);
    a->regex = NULL;
    rule_runs_free(&a->runs);
    span_prog_free(&a->span);
}

char *rule_regex(const char *alt, int mask, char *err, size_t errlen)
{
    rule_alt a;
    if (rule_alt_compile(alt, mask, &a, err, errlen) < 0)
        return NULL;
    char *re = a.regex;
    a.regex = NULL;
    rule_alt_free(&a);
    return re;
}

void rule_runs_free(rule_runs *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->regex[i]);
    r->n = 0;
}
