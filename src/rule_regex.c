/*
 * rule_regex — one alternative of a rule expression -> Hyperscan regex.
 *
 * DESIGN: the rule author writes words as people spell them; each literal
 * piece is run through the same canonicaliser as event text (norm_text), so
 * rule and text agree on case, diacritics, look-alikes and squeezed repeats
 * without the author thinking about it. Word edges are the spaces of the
 * canonical form, so a pattern is " w1 w2 " and never needs \b.
 */
#include "rule_regex.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "normalise.h"
#include "strbuf.h"

enum { MAX_TOKENS = 64, MAX_GAP = 50 };

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
            sb_putc(sb, (char)c);
        } else {  /* by hand: printf per byte was a tenth of loading a pack */
            char esc[4] = {'\\', 'x', hex[c >> 4], hex[c & 15]};
            sb_append(sb, esc, 4);
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
    sb_puts(sb, "|(?:");
    for (size_t i = 1; i < k; i++) {
        if (i > 1)
            sb_putc(sb, '|');
        put_escaped(sb, w, starts[i]);
    }
    sb_puts(sb, ")\\x2a(?:");
    for (size_t i = 1; i < k; i++) {
        if (i > 1)
            sb_putc(sb, '|');
        put_escaped(sb, w + starts[i], n - starts[i]);
    }
    sb_putc(sb, ')');
}

static int put_word(strbuf *sb, strbuf *prog, norm_buf *nb, const token *t, int mask, char *err,
                    size_t errlen)
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

    if (single_literal && mask)
        sb_puts(sb, "(?:");
    if (leading) {
        sb_puts(sb, "[^ ]*");
        sb_putc(prog, '*');
    }
    int first = 1;
    for (const char *p = s; p < end;) {
        const char *star = memchr(p, '*', (size_t)(end - p));
        const char *stop = star ? star : end;
        if (stop > p) {
            if (!first) {
                sb_puts(sb, "[^ ]*");
                sb_putc(prog, '*');
            }
            if (canon_piece(nb, p, (size_t)(stop - p), err, errlen) < 0)
                return -1;
            put_escaped(sb, nb->text, nb->len);
            sb_append(prog, nb->text, nb->len);
            first = 0;
        }
        p = star ? star + 1 : end;
    }
    if (single_literal && mask) {
        /* nb still holds the single piece */
        put_masked(sb, nb->text, nb->len);
        sb_putc(sb, ')');
    }
    if (trailing) {
        sb_puts(sb, "[^ ]*");
        sb_putc(prog, '*');
    }
    return 0;
}

static void put_gap(strbuf *sb, strbuf *prog, int n, int either)
{
    if (n == 0)
        sb_putc(sb, ' ');  /* Hyperscan refuses the repeat {0,0} */
    else
        sb_printf(sb, " (?:[^ ]+ ){0,%d}", n);
    sb_printf(prog, either ? " ~~%d " : " ~%d ", n);
}

/* Words and ordered gaps of tokens [from, to): "w1 w2 (?:[^ ]+ ){0,3}w3". */
static int put_sequence(strbuf *sb, strbuf *prog, norm_buf *nb, const token *tk, int from, int to,
                        int mask, char *err, size_t errlen)
{
    if (from >= to || tk[from].gap >= 0 || tk[to - 1].gap >= 0) {
        snprintf(err, errlen, "a gap must stand between two words");
        return -1;
    }
    for (int i = from; i < to; i++) {
        if (tk[i].gap >= 0) {
            if (tk[i + 1].gap >= 0) {
                snprintf(err, errlen, "two gaps in a row");
                return -1;
            }
            put_gap(sb, prog, tk[i].gap, 0);
            continue;
        }
        if (i > from && tk[i - 1].gap < 0) {
            sb_putc(sb, ' ');
            sb_putc(prog, ' ');
        }
        if (put_word(sb, prog, nb, &tk[i], mask, err, errlen) < 0)
            return -1;
    }
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

char *rule_regex(const char *alt, int mask, char **prog_out, char *err, size_t errlen)
{
    token tk[MAX_TOKENS];
    int ntk, either_at = -1;
    if (tokenize(alt, tk, &ntk, err, errlen) < 0)
        return NULL;
    for (int i = 0; i < ntk; i++) {
        if (!tk[i].either)
            continue;
        if (either_at >= 0) {
            snprintf(err, errlen, "only one '~~N' per alternative");
            return NULL;
        }
        either_at = i;
    }

    strbuf sb = STRBUF_INIT, prog = STRBUF_INIT, scratch = STRBUF_INIT;
    norm_buf nb;
    norm_buf_init(&nb);
    int rc;
    sb_putc(&sb, ' ');
    if (either_at < 0) {
        rc = put_sequence(&sb, &prog, &nb, tk, 0, ntk, mask, err, errlen);
    } else {
        /* (?:A gap B|B gap A); the program says it once: "A ~~N B" */
        sb_puts(&sb, "(?:");
        rc = put_sequence(&sb, &prog, &nb, tk, 0, either_at, mask, err, errlen);
        if (rc == 0) {
            put_gap(&sb, &prog, tk[either_at].gap, 1);
            rc = put_sequence(&sb, &prog, &nb, tk, either_at + 1, ntk, mask, err, errlen);
        }
        if (rc == 0) {
            sb_putc(&sb, '|');
            rc = put_sequence(&sb, &scratch, &nb, tk, either_at + 1, ntk, mask, err, errlen);
        }
        if (rc == 0) {
            put_gap(&sb, &scratch, tk[either_at].gap, 0);
            rc = put_sequence(&sb, &scratch, &nb, tk, 0, either_at, mask, err, errlen);
        }
        sb_putc(&sb, ')');
    }
    sb_putc(&sb, ' ');
    norm_buf_free(&nb);
    sb_free(&scratch);
    if (rc == 0 && (sb_failed(&sb) || sb_failed(&prog))) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc < 0) {
        sb_free(&sb);
        sb_free(&prog);
        return NULL;
    }
    if (prog_out)
        *prog_out = sb_take(&prog);
    else
        sb_free(&prog);
    return sb_take(&sb);
}

int rule_regex_runs(const char *alt, int mask, rule_runs *out, char *err, size_t errlen)
{
    memset(out, 0, sizeof *out);
    token tk[MAX_TOKENS];
    int ntk;
    if (tokenize(alt, tk, &ntk, err, errlen) < 0)
        return -1;
    int gaps = 0;
    for (int i = 0; i < ntk; i++) {
        if (tk[i].either)
            return 0;
        gaps += tk[i].gap >= 0;
    }
    if (gaps == 0 || gaps + 1 > RULE_RUNS_MAX)
        return 0;

    norm_buf nb;
    norm_buf_init(&nb);
    strbuf prog = STRBUF_INIT;  /* put_sequence writes one; unused here */
    int rc = 0;
    for (int from = 0; from < ntk && rc == 0;) {
        int to = from;
        while (to < ntk && tk[to].gap < 0)
            to++;
        strbuf sb = STRBUF_INIT;
        sb_putc(&sb, ' ');
        rc = put_sequence(&sb, &prog, &nb, tk, from, to, mask, err, errlen);
        sb_putc(&sb, ' ');
        if (rc == 0 && sb_failed(&sb)) {
            snprintf(err, errlen, "out of memory");
            rc = -1;
        }
        if (rc < 0) {
            sb_free(&sb);
            break;
        }
        out->gap_before[out->n] = from > 0 ? (unsigned)tk[from - 1].gap : 0;
        out->words[out->n] = (unsigned)(to - from);
        out->regex[out->n++] = sb_take(&sb);
        from = to + 1;  /* past the gap */
    }
    norm_buf_free(&nb);
    sb_free(&prog);
    if (rc < 0)
        rule_runs_free(out);
    return rc;
}

void rule_runs_free(rule_runs *r)
{
    for (size_t i = 0; i < r->n; i++)
        free(r->regex[i]);
    r->n = 0;
}
