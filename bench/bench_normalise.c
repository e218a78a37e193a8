/*
 * bench_normalise — throughput of norm_text on complaint-sized messages.
 *
 * Builds MESSAGES messages of about MSG_BYTES bytes from sample sentences in
 * Russian, Ukrainian, Polish and English (some obfuscated the way customers
 * do it), normalises them once to warm up, then ROUNDS times against one
 * reused norm_buf, as a worker thread would, and prints MB/s of input: the
 * best round and the median one.
 *
 *   bench_normalise [rounds]
 */
#define _POSIX_C_SOURCE 200809L
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "normalise.h"

enum { MESSAGES = 4000, MSG_BYTES = 400, DEFAULT_ROUNDS = 50 };

static const char *sentences[] = {
    /* ru */
    "Заказ №48213 обещали привезти в понедельник, а курьер так и не приехал. ",
    "Ты Д.У.Р.А или просто не умеешь работать?! ",
    "Верните деньги за бракованный чайник, он перестал греть через два дня. ",
    "дуууура ты, а не менеджер, п***ц просто... ",
    "Если не дадите скидку 50%, напишу отзывы везде, пусть все знают! ",
    "Спасибо большое мастеру Ивану, всё сделали быстро и аккуратно. ",
    "Кассир нахамила мне, я в шоке от такого обслуживания. ",
    "ты д0лб0ёб и 4мо, верни мои 3000руб! ",
    /* uk */
    "Замовлення не доставили вчасно, чекаю вже третій тиждень. ",
    "П'ять разів дзвонила, ніхто не відповів, це жах. ",
    "Ви ІДІОТИ, поверніть гроші або я піду до суду! ",
    "Дякую за швидку допомогу, ґудзик пришили чудово. ",
    /* pl */
    "Zamówienie miało być w piątek, a kurier nie przyjechał. ",
    "Jesteś głupia k u r w a, oddaj pieniądze! ",
    "Reklamuję wadliwy odkurzacz, przestał działać po tygodniu. ",
    "glupia obsluga, nigdy wiecej nie kupie w tym sklepie. ",
    /* en */
    "You promised delivery on Monday and nobody showed up. ",
    "Your staff are i-d-i-o-t-s, f**k this shop!!! ",
    "I want a full refund or I will post reviews everywhere. ",
    "Thanks a lot, the cashier was really helpful and kind. ",
    "this is the w0rst s3rvice ever, $h1t quality, l0sers. ",
};

static double seconds(clockid_t clock)
{
    struct timespec ts;
    clock_gettime(clock, &ts);
    return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

static int cmp_double(const void *a, const void *b)
{
    double x = *(const double *)a, y = *(const double *)b;
    return (x > y) - (x < y);
}

/* A message of about MSG_BYTES: random sentences until it is long enough. */
static size_t build_message(char *buf, size_t cap, uint32_t *seed)
{
    const size_t ns = sizeof sentences / sizeof *sentences;
    size_t n = 0;
    while (n < MSG_BYTES) {
        *seed = *seed * 1103515245u + 12345u;
        const char *s = sentences[(*seed >> 16) % ns];
        size_t l = strlen(s);
        if (n + l >= cap)
            break;
        memcpy(buf + n, s, l);
        n += l;
    }
    return n;
}

int main(int argc, char **argv)
{
    int rounds = argc > 1 ? atoi(argv[1]) : DEFAULT_ROUNDS;
    if (rounds <= 0)
        rounds = DEFAULT_ROUNDS;

    enum { SLOT = MSG_BYTES * 2 };
    char *msgs = malloc((size_t)MESSAGES * SLOT);
    size_t *lens = malloc(MESSAGES * sizeof *lens);
    if (!msgs || !lens) {
        fprintf(stderr, "bench_normalise: malloc() failed\n");
        return 1;
    }
    uint32_t seed = 42;
    size_t total = 0;
    for (int m = 0; m < MESSAGES; m++) {
        lens[m] = build_message(msgs + (size_t)m * SLOT, SLOT, &seed);
        total += lens[m];
    }

    norm_buf nb;
    norm_buf_init(&nb);
    size_t check = 0;
    for (int m = 0; m < MESSAGES; m++) { /* warm-up: grows the buffer once */
        if (norm_text(&nb, msgs + (size_t)m * SLOT, lens[m]) != NORM_OK) {
            fprintf(stderr, "bench_normalise: message %d refused\n", m);
            return 1;
        }
    }

    /* Each round is timed alone, in this thread's CPU time (a busy machine
     * deschedules us, which is not normalise's cost) and in wall time. The
     * best round is the code's speed, the median says how noisy it was. */
    double *cpu = malloc((size_t)rounds * sizeof *cpu);
    double *wall = malloc((size_t)rounds * sizeof *wall);
    if (!cpu || !wall) {
        fprintf(stderr, "bench_normalise: malloc() failed\n");
        return 1;
    }
    for (int r = 0; r < rounds; r++) {
        double c0 = seconds(CLOCK_THREAD_CPUTIME_ID), w0 = seconds(CLOCK_MONOTONIC);
        for (int m = 0; m < MESSAGES; m++) {
            norm_text(&nb, msgs + (size_t)m * SLOT, lens[m]);
            check += nb.len;
        }
        cpu[r] = seconds(CLOCK_THREAD_CPUTIME_ID) - c0;
        wall[r] = seconds(CLOCK_MONOTONIC) - w0;
    }
    qsort(cpu, (size_t)rounds, sizeof *cpu, cmp_double);
    qsort(wall, (size_t)rounds, sizeof *wall, cmp_double);
    double mb = (double)total / 1e6;
    printf("messages: %d per round, avg %zu bytes, %.1f MB per round, %d rounds\n", MESSAGES,
           total / MESSAGES, mb, rounds);
    printf("cpu time:  best %.1f MB/s (%.0f messages/s), median %.1f MB/s\n", mb / cpu[0],
           MESSAGES / cpu[0], mb / cpu[rounds / 2]);
    printf("wall time: best %.1f MB/s, median %.1f MB/s [check %zu]\n", mb / wall[0],
           mb / wall[rounds / 2], check);
    free(cpu);
    free(wall);
    norm_text(&nb, msgs, lens[0]);
    printf("sample: %.*s\n    -> %s\n", (int)lens[0], msgs, nb.text);

    norm_buf_free(&nb);
    free(msgs);
    free(lens);
    return 0;
}
