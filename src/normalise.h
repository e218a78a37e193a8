/*
 * normalise — turn raw complaint text into the canonical bytes the rules scan.
 *
 * Hyperscan's Unicode mode is slow and large (design.md), so every event is
 * first rewritten into a small canonical form and scanned with plain byte
 * patterns. The same function canonicalises the words of the rule pack, so a
 * rule written "Дура" and a customer's "Д.У.Р.А" or "дууурa" meet in the middle.
 *
 * The canonical form:
 *   - words separated by exactly one space, with one space before the first
 *     word and after the last: " w1 w2 ... wn " (empty input gives " ");
 *   - letters folded to lower case (Latin, Latin-1, Polish, Cyrillic incl.
 *     Ukrainian); Polish and other Latin diacritics stripped (ł->l, ó->o, ...);
 *     ё->е, ґ->г;
 *   - in a word whose script is Cyrillic, Latin look-alikes become Cyrillic
 *     (a e o p c x y k m t h b i -> а е о р с х у к м т н в і), and digits and
 *     symbols swapped for letters too (0->о 3->з 4->ч 6->б @->а); in a Latin
 *     word the reverse (а->a, ..., 0->o 1->i 3->e 4->a @->a $->s 5->s);
 *   - runs of one repeated letter squeezed to one ("дуууура" -> "дура",
 *     "ванна" -> "вана": rules are canonicalised the same way);
 *   - separators inside a word dropped: single letters joined by . - _ or
 *     spaced out ("д.у.р.а", "k u r w a", "i-d-i-o-t") become one word;
 *     apostrophes inside words (п'ять, don't) are dropped;
 *   - masking symbols inside a word ("п***ц", "f**k") become one '*';
 *   - all other punctuation is a word boundary; digits-only tokens are kept.
 *
 * Every canonical byte remembers the byte range of the original text it came
 * from, so a match span in canonical text maps back to original bytes.
 *
 * Ownership: a norm_buf owns its arrays; reuse one per thread across calls
 * (it only grows), free it with norm_buf_free.
 */
#ifndef COMPLAINTD_NORMALISE_H
#define COMPLAINTD_NORMALISE_H

#include <stddef.h>
#include <stdint.h>

typedef struct norm_buf {
    char     *text;      /* canonical bytes, NUL-terminated */
    size_t    len;       /* bytes in text, not counting the NUL */
    uint32_t *src_start; /* [len] first original byte that produced text[i] */
    uint32_t *src_end;   /* [len] one past the last original byte of text[i] */
    size_t    cap;       /* allocated entries in each array */
} norm_buf;

enum {
    NORM_OK = 0,
    NORM_EUTF8 = -1,    /* input is not valid UTF-8 */
    NORM_ENOMEM = -2,
    NORM_ETOOBIG = -3,  /* input longer than UINT32_MAX - 1 bytes */
};

void norm_buf_init(norm_buf *nb);
void norm_buf_free(norm_buf *nb);

/* Canonicalise src[0..len) into nb (previous content replaced).
 * Returns NORM_OK, or an error above; on error nb->len is 0. */
int norm_text(norm_buf *nb, const char *src, size_t len);

/* Map a canonical byte range [cstart, cend) back to the original text.
 * Leading/trailing spaces in the range are skipped. Returns 0, or -1 if the
 * range holds no word byte. */
int norm_span(const norm_buf *nb, size_t cstart, size_t cend,
              uint32_t *orig_start /* OUT */, uint32_t *orig_end /* OUT */);

#endif
