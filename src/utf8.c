/* utf8 — whole-string validation; the definition is utf8_next in utf8.h. */
#include "utf8.h"

#include <string.h>

int utf8_valid(const char *s, size_t len)
{
    const unsigned char *u = (const unsigned char *)s;
    uint32_t cp;
    for (size_t i = 0; i < len;)
        if (utf8_next(u, len, &i, &cp) < 0)
            return 0;
    return 1;
}

int utf8_valid_str(const char *s)
{
    return !s || utf8_valid(s, strlen(s));
}
