/*
 * strbuf — a growable byte string. An allocation failure is sticky: later
 * appends do nothing and strbuf_failed() says so, so a builder checks once at the
 * end. The buffer is always NUL-terminated once anything was appended.
 */
#ifndef COMPLAINTD_STRBUF_H
#define COMPLAINTD_STRBUF_H

#include <stddef.h>

typedef struct strbuf {
    char  *buf;
    size_t len;
    size_t cap;
    int    failed;
} strbuf;

#define STRBUF_INIT {NULL, 0, 0, 0}

void strbuf_append(strbuf *sb, const char *s, size_t n);
void strbuf_puts(strbuf *sb, const char *s);
void strbuf_printf(strbuf *sb, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void strbuf_putc(strbuf *sb, char c);
/* Append s as a JSON string literal, quotes included (s is UTF-8). */
void strbuf_json_str(strbuf *sb, const char *s, size_t n);
int  strbuf_failed(const strbuf *sb);
/* Hand the buffer to the caller (who frees it); sb is reset. NULL on failure. */
char *strbuf_take(strbuf *sb);
void strbuf_reset(strbuf *sb);   /* len = 0, keep the memory */
void strbuf_free(strbuf *sb);

/* In place, for "key = value" lines: skip leading blanks, cut trailing blanks
 * and the line end. Returns the first kept character of s. */
char *str_trim(char *s);

#endif
