/*
 * gen_stream — a realistic synthetic stream of complaint events for the
 * benchmarks.
 *
 *   gen_stream [--events N] [--customers N] [--zipf S] [--seed N]
 *              [--format pb|jsonl] [--out FILE]
 *
 * Each event mixes the four languages (ru 40%, uk 20%, pl 20%, en 20%), the
 * six channels, and the taxonomy's label families in roughly the proportions a
 * retail chain sees: most complaints are constructive (late deliveries,
 * defects, poor service, refunds), a minority is toxic or extremist, some are
 * thanks, some carry nothing actionable. Texts are assembled from phrase
 * fragments written for this generator (not taken from any corpus), with
 * neutral filler so that messages are 150-700 bytes, and with the usual
 * obfuscation on part of the toxic words (д.у.р.а, дуууура).
 *
 * Customers are drawn from a Zipf law (s = 1.1 by default) over N distinct
 * customers: a few customers send most complaints. Event ids are unique and of
 * fixed width ("e" + 15 digits) so that loadgen can rewrite them in place when
 * it replays a corpus more than once.
 *
 * --format pb (default): records of a 4-byte little-endian length followed by
 * a serialized complaint.v1.ComplaintEvent. jsonl: JSON Lines as read by
 * complaintctl classify / send.
 */
#define _GNU_SOURCE
#include <getopt.h>
#include <math.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "complaint.pb-c.h"

/* ---- random numbers ------------------------------------------------------ */

static uint64_t rng_state;

static uint64_t rnd(void)
{
    /* splitmix64 */
    uint64_t z = (rng_state += 0x9E3779B97F4A7C15ull);
    z = (z ^ (z >> 30)) * 0xBF58476D1CE4E5B9ull;
    z = (z ^ (z >> 27)) * 0x94D049BB133111EBull;
    return z ^ (z >> 31);
}

static double rnd01(void) { return (double)(rnd() >> 11) * (1.0 / 9007199254740992.0); }
static unsigned rndn(unsigned n) { return (unsigned)(rnd01() * n); }

/* ---- Zipf over 1..n by rejection-inversion (Hörmann and Derflinger 1996):
 * O(1) memory, so 10M customers cost nothing to set up. */

typedef struct zipf {
    double s, n, hx1, hn, sv;
} zipf;

static double helper1(double x) { return fabs(x) > 1e-8 ? log1p(x) / x : 1 - x * (0.5 - x * (1.0 / 3 - x / 4)); }
static double helper2(double x) { return fabs(x) > 1e-8 ? expm1(x) / x : 1 + x / 2 * (1 + x / 3 * (1 + x / 4)); }
static double zh(const zipf *z, double x) { return exp(-z->s * log(x)); }
static double zH(const zipf *z, double x)
{
    double lx = log(x);
    return helper2((1 - z->s) * lx) * lx;
}
static double zHinv(const zipf *z, double x)
{
    double t = x * (1 - z->s);
    if (t < -1)
        t = -1;
    return exp(helper1(t) * x);
}

static void zipf_init(zipf *z, double s, uint64_t n)
{
    z->s = s;
    z->n = (double)n;
    z->hx1 = zH(z, 1.5) - 1;
    z->hn = zH(z, z->n + 0.5);
    z->sv = 2 - zHinv(z, zH(z, 2.5) - zh(z, 2));
}

static uint64_t zipf_next(const zipf *z)
{
    for (;;) {
        double u = z->hn + rnd01() * (z->hx1 - z->hn);
        double x = zHinv(z, u);
        double k = floor(x + 0.5);
        if (k < 1)
            k = 1;
        else if (k > z->n)
            k = z->n;
        if (k - x <= z->sv || u >= zH(z, k + 0.5) - zh(z, k))
            return (uint64_t)k;
    }
}

/* ---- phrase fragments ----------------------------------------------------- */

enum { RU, UK, PL, EN, NLANG };
static const char *lang_code[NLANG] = {"ru", "uk", "pl", "en"};

enum cat {
    C_PROMISE, C_DEFECT, C_SERVICE, C_REFUND, C_INSULT, C_PROFANITY, C_THREAT, C_HUMILIATION,
    C_HARASSMENT, C_BLACKMAIL, C_SHAMING, C_LEGAL, C_EXCESSIVE, C_PROMO, C_THANKS, C_BLAME,
    C_NEUTRAL, NCAT
};

/* Share of events whose main theme is each category, in per mille.
 * Constructive ~52%, toxicity ~12%, extremism ~10%, thanks 10%, staff notes 4%,
 * nothing actionable 12%. */
static const int cat_weight[NCAT] = {
    [C_PROMISE] = 140, [C_DEFECT] = 140, [C_SERVICE] = 120, [C_REFUND] = 120,
    [C_INSULT] = 40, [C_PROFANITY] = 30, [C_THREAT] = 15, [C_HUMILIATION] = 25,
    [C_HARASSMENT] = 10, [C_BLACKMAIL] = 30, [C_SHAMING] = 25, [C_LEGAL] = 25,
    [C_EXCESSIVE] = 15, [C_PROMO] = 10, [C_THANKS] = 100, [C_BLAME] = 40, [C_NEUTRAL] = 115};

#define MAXF 8
static const char *frag[NLANG][NCAT][MAXF] = {
    [RU] = {
        [C_PROMISE] = {"Мне обещали доставку во вторник, но курьер так и не появился.",
                       "Сказали, что заказ будет готов через три дня, прошла уже неделя.",
                       "Вы пообещали перезвонить до обеда и никто не позвонил.",
                       "Доставку переносили четыре раза, обещанные сроки давно прошли."},
        [C_DEFECT] = {"Пылесос сломался через неделю после покупки.",
                      "Куртка оказалась бракованной: шов разошёлся в первый же день.",
                      "Чайник протекает, на дне трещина.",
                      "Йогурт был просрочен, срок годности истёк вчера."},
        [C_SERVICE] = {"Продавец был груб и отвернулся, когда я задала вопрос.",
                       "Простояла в очереди сорок минут, работала одна касса.",
                       "Консультант не знал ничего о товаре и отправил меня на склад.",
                       "Менеджер разговаривал со мной очень невежливо."},
        [C_REFUND] = {"Прошу вернуть деньги за этот товар.",
                      "Хочу обменять его на исправный или получить возврат.",
                      "Верните, пожалуйста, стоимость доставки.",
                      "Прошу оформить возврат средств на карту."},
        [C_INSULT] = {"Ты дура, а не продавец.", "Ваш кассир просто дебил.",
                      "Вы там все тупые что ли?", "Менеджер ваш идиот и хам."},
        [C_PROFANITY] = {"Да пошли вы все нахер со своим сервисом.", "Это просто пиздец, а не магазин.",
                         "Опять эта херня с доставкой, блядь."},
        [C_THREAT] = {"Я тебя найду после смены, поговорим по-другому.",
                      "Ещё раз так ответишь, я тебе морду набью."},
        [C_HUMILIATION] = {"Ты вообще читать умеешь?", "Знай своё место, ты тут обслуживаешь меня.",
                           "Молчи и делай, что я говорю."},
        [C_HARASSMENT] = {"Девушка, дай свой номер, сходим вечером куда-нибудь.",
                          "У вашей кассирши такая фигура, я бы её пригласил к себе."},
        [C_BLACKMAIL] = {"Если не дадите скидку, напишу отзыв везде, пусть все знают.",
                         "Дайте мне бесплатную доставку, иначе выложу всё в соцсети."},
        [C_SHAMING] = {"Напишу отзыв на отзовике и в яндекс картах.",
                       "Пусть все знают, как вы обращаетесь с клиентами."},
        [C_LEGAL] = {"Я подам на вас в суд.", "Обращусь в Роспотребнадзор и к юристу.",
                     "Мой адвокат свяжется с вами."},
        [C_EXCESSIVE] = {"Вы мне должны как минимум полную стоимость и ещё сверху.",
                         "Требую обслуживать меня бесплатно целый год."},
        [C_PROMO] = {"Акция закончилась вчера, но сделайте для меня исключение.",
                     "Промокод истёк, всё равно примените его, это нечестно."},
        [C_THANKS] = {"Спасибо большое консультанту Ольге за помощь!",
                      "Всё сделали быстро и вежливо, благодарю.",
                      "Огромное спасибо мастеру, починил за полчаса."},
        [C_BLAME] = {"Клиентка не слушала меня и сама была неправа.",
                     "Покупатель вёл себя агрессивно, он сам виноват."},
        [C_NEUTRAL] = {"Заказ номер 48213 оформлял на сайте.", "Магазин на Садовой, вход со двора.",
                       "Покупала в прошлую субботу около шести вечера.",
                       "Чек и фотографии прилагаю к письму.", "Я ваш постоянный покупатель уже пять лет.",
                       "Карта лояльности оформлена на мужа."},
    },
    [UK] = {
        [C_PROMISE] = {"Мені обіцяли доставку в понеділок, але кур'єр не приїхав.",
                       "Замовлення мали привезти ще минулого тижня.",
                       "Ви пообіцяли передзвонити і ніхто не передзвонив."},
        [C_DEFECT] = {"Праска зламалася через два дні.", "Черевики виявилися бракованими, підошва відклеїлась.",
                      "Телевізор не вмикається після першого запуску."},
        [C_SERVICE] = {"Продавчиня була груба і не хотіла допомагати.",
                       "Стояв у черзі пів години, каса працювала одна.",
                       "Консультант нічого не знав і відправив мене до іншого відділу."},
        [C_REFUND] = {"Прошу повернути гроші за товар.", "Хочу обміняти на справний або отримати повернення коштів.",
                      "Поверніть, будь ласка, вартість доставки."},
        [C_INSULT] = {"Ти дурепа, а не касирка.", "Ваш менеджер просто дебіл.", "Ви там усі тупі чи що?"},
        [C_PROFANITY] = {"Та йдіть ви всі нахуй з таким сервісом.", "Це просто пиздець, а не магазин."},
        [C_THREAT] = {"Я тебе знайду після зміни.", "Ще раз так скажеш, я тобі пику наб'ю."},
        [C_HUMILIATION] = {"Ти взагалі читати вмієш?", "Знай своє місце і роби, що кажу."},
        [C_HARASSMENT] = {"Дівчино, дай свій номер, підемо ввечері кудись."},
        [C_BLACKMAIL] = {"Якщо не дасте знижку, напишу відгук скрізь, нехай всі знають.",
                         "Дайте безкоштовну доставку, інакше викладу все в соцмережі."},
        [C_SHAMING] = {"Напишу відгук у гугл картах і в інстаграмі.", "Нехай всі знають, як ви працюєте."},
        [C_LEGAL] = {"Я подам на вас до суду.", "Звернуся до Держпродспоживслужби та до юриста."},
        [C_EXCESSIVE] = {"Ви мені винні щонайменше повну вартість і ще компенсацію зверху."},
        [C_PROMO] = {"Акція закінчилася вчора, але зробіть для мене виняток."},
        [C_THANKS] = {"Щиро дякую консультантці за допомогу!", "Все зробили швидко і ввічливо, дякую."},
        [C_BLAME] = {"Клієнт не слухав мене і сам був винен.", "Покупець поводився агресивно, сам винен."},
        [C_NEUTRAL] = {"Замовлення номер 77120 оформлював на сайті.", "Магазин на Хрещатику, біля входу в метро.",
                       "Купувала в суботу ввечері.", "Чек і фото додаю до листа."},
    },
    [PL] = {
        [C_PROMISE] = {"Obiecaliście dostawę w piątek, a kurier nie przyjechał.",
                       "Zamówienie miało być gotowe w trzy dni, minął tydzień.",
                       "Obiecano mi telefon zwrotny i nikt nie zadzwonił."},
        [C_DEFECT] = {"Odkurzacz przestał działać po tygodniu.", "Kurtka jest wadliwa, szew puścił pierwszego dnia.",
                      "Czajnik jest zepsuty, przecieka od spodu."},
        [C_SERVICE] = {"Sprzedawczyni była niemiła i odwróciła się plecami.",
                       "Stałam w kolejce czterdzieści minut, czynna była jedna kasa.",
                       "Konsultant nic nie wiedział o produkcie."},
        [C_REFUND] = {"Proszę o zwrot pieniędzy za ten towar.", "Chcę wymienić na sprawny albo dostać zwrot.",
                      "Proszę zwrócić koszt dostawy."},
        [C_INSULT] = {"Jesteś głupia, a nie kasjerka.", "Wasz kierownik to idiota.", "Ty debilu, nie umiesz liczyć?"},
        [C_PROFANITY] = {"Co to kurwa za obsługa.", "Pierdolę taki sklep."},
        [C_THREAT] = {"Znajdę cię po zmianie.", "Jeszcze raz tak powiesz, to dostaniesz w mordę."},
        [C_HUMILIATION] = {"Czytać nie umiesz?", "Znaj swoje miejsce i rób, co mówię."},
        [C_HARASSMENT] = {"Daj mi swój numer, skoczymy wieczorem na drinka."},
        [C_BLACKMAIL] = {"Jeśli nie dacie rabatu, opiszę was wszędzie w internecie.",
                         "Dajcie darmową dostawę, inaczej wrzucę wszystko na facebooka."},
        [C_SHAMING] = {"Napiszę opinię na google i na facebooku.", "Niech wszyscy wiedzą, jak traktujecie klientów."},
        [C_LEGAL] = {"Podam was do sądu.", "Zgłoszę sprawę do rzecznika konsumentów i do prawnika."},
        [C_EXCESSIVE] = {"Należy mi się co najmniej pełny zwrot i jeszcze odszkodowanie."},
        [C_PROMO] = {"Promocja skończyła się wczoraj, ale zróbcie dla mnie wyjątek."},
        [C_THANKS] = {"Bardzo dziękuję pani z obsługi za pomoc!", "Wszystko załatwione szybko i uprzejmie, dzięki."},
        [C_BLAME] = {"Klient nie słuchał mnie i sam był winny.", "Klientka była agresywna, sama sobie winna."},
        [C_NEUTRAL] = {"Zamówienie numer 55310 złożyłem przez stronę.", "Sklep przy Marszałkowskiej, wejście od podwórza.",
                       "Kupowałam w sobotę wieczorem.", "Paragon i zdjęcia w załączniku."},
    },
    [EN] = {
        [C_PROMISE] = {"You promised delivery on Tuesday and nobody came.",
                       "I was told it would be ready in three days, it has been a week.",
                       "The order was supposed to arrive last Friday."},
        [C_DEFECT] = {"The vacuum cleaner stopped working after a week.", "The jacket is faulty, a seam came apart on day one.",
                      "The kettle is broken and leaks from the bottom."},
        [C_SERVICE] = {"The cashier was rude and turned her back on me.", "I waited forty minutes in the queue with one till open.",
                       "The assistant was unhelpful and knew nothing about the product."},
        [C_REFUND] = {"I would like a refund for this item.", "Please replace it or give me my money back.",
                      "Refund the delivery fee, please."},
        [C_INSULT] = {"You are an idiot, not a manager.", "Your staff are morons.", "What a useless moron at the till."},
        [C_PROFANITY] = {"What the fuck is wrong with this shop.", "This is bullshit service."},
        [C_THREAT] = {"I know where you work, wait until your shift ends.", "Say that again and I'll kill you."},
        [C_HUMILIATION] = {"Can you even read?", "Know your place and do what I tell you."},
        [C_HARASSMENT] = {"Give me your number, we could get drinks after your shift."},
        [C_BLACKMAIL] = {"Give me a discount or I will post reviews everywhere.",
                         "Free delivery for me, otherwise I share this with all my followers."},
        [C_SHAMING] = {"I will post this on Yelp and Trustpilot.", "Everyone will know how you treat customers."},
        [C_LEGAL] = {"I will take you to court.", "My lawyer will contact you, and I am reporting you to trading standards."},
        [C_EXCESSIVE] = {"You owe me at least the full price plus compensation.", "I want free groceries for a year."},
        [C_PROMO] = {"The promo code expired yesterday but honor it anyway, it is unfair."},
        [C_THANKS] = {"Many thanks to Anna at the desk, she was so helpful!", "Problem solved in minutes, great service."},
        [C_BLAME] = {"The customer refused to listen and was aggressive.", "He did not listen to me, it was his own fault."},
        [C_NEUTRAL] = {"Order 30412 was placed on the website.", "The store on High Street, next to the bank.",
                       "I shopped there on Saturday evening.", "Receipt and photos are attached."},
    },
};

static size_t nfrag(int lang, int cat)
{
    size_t n = 0;
    while (n < MAXF && frag[lang][cat][n])
        n++;
    return n;
}

/* ---- text assembly ------------------------------------------------------- */

typedef struct buf {
    char  *p;
    size_t len, cap;
} buf;

static void put(buf *b, const char *s, size_t n)
{
    if (b->len + n + 1 > b->cap) {
        b->cap = (b->len + n + 1) * 2;
        b->p = realloc(b->p, b->cap);
    }
    memcpy(b->p + b->len, s, n);
    b->len += n;
    b->p[b->len] = 0;
}
static void puts_(buf *b, const char *s) { put(b, s, strlen(s)); }

static size_t u8len(unsigned char c) { return c < 0x80 ? 1 : c < 0xE0 ? 2 : c < 0xF0 ? 3 : 4; }

/* Append a fragment; with obf set, disguise its longest word the way
 * customers do: "д.у.р.а", or a letter repeated. */
static void put_fragment(buf *b, const char *f, int obf)
{
    if (!obf) {
        puts_(b, f);
        return;
    }
    /* find the longest word (bytes between spaces/punctuation) */
    size_t best = 0, best_len = 0, i = 0, n = strlen(f);
    while (i < n) {
        while (i < n && (f[i] == ' ' || f[i] == ',' || f[i] == '.' || f[i] == '?' || f[i] == '!'))
            i++;
        size_t s = i;
        while (i < n && !(f[i] == ' ' || f[i] == ',' || f[i] == '.' || f[i] == '?' || f[i] == '!'))
            i++;
        if (i - s > best_len) {
            best = s;
            best_len = i - s;
        }
    }
    put(b, f, best);
    int mode = (int)rndn(2);
    size_t k = best, end = best + best_len, nth = 0;
    while (k < end) {
        size_t cl = u8len((unsigned char)f[k]);
        if (mode == 0 && nth > 0)
            put(b, ".", 1);
        put(b, f + k, cl);
        if (mode == 1 && nth == 1) {
            put(b, f + k, cl);
            put(b, f + k, cl);
        }
        k += cl;
        nth++;
    }
    puts_(b, f + end);
}

static int pick_cat(void)
{
    int r = (int)rndn(1000);
    for (int c = 0; c < NCAT; c++) {
        if (r < cat_weight[c])
            return c;
        r -= cat_weight[c];
    }
    return C_NEUTRAL;
}

static int is_toxic(int c) { return c >= C_INSULT && c <= C_HARASSMENT; }

/* Channels: chat 30%, call 22%, email 20%, review 12%, social 10%; staff notes
 * are their own category. */
static int pick_channel(int cat)
{
    if (cat == C_BLAME)
        return COMPLAINT__V1__CHANNEL__STAFF_NOTE;
    int r = (int)rndn(94);
    if (r < 30) return COMPLAINT__V1__CHANNEL__CHAT;
    if (r < 52) return COMPLAINT__V1__CHANNEL__CALL;
    if (r < 72) return COMPLAINT__V1__CHANNEL__EMAIL;
    if (r < 84) return COMPLAINT__V1__CHANNEL__REVIEW;
    return COMPLAINT__V1__CHANNEL__SOCIAL;
}

static const char *channel_name(int ch)
{
    static const char *n[] = {"", "call", "chat", "email", "review", "social", "staff_note"};
    return n[ch];
}

static void build_text(buf *b, int lang, int cat)
{
    b->len = 0;
    if (b->p)
        b->p[0] = 0;
    int filler_before = (int)rndn(3), filler_after = 1 + (int)rndn(3);
    for (int i = 0; i < filler_before; i++) {
        puts_(b, frag[lang][C_NEUTRAL][rndn((unsigned)nfrag(lang, C_NEUTRAL))]);
        puts_(b, " ");
    }
    put_fragment(b, frag[lang][cat][rndn((unsigned)nfrag(lang, cat))], is_toxic(cat) && rndn(100) < 15);
    /* a second theme in 35% of events: complaints rarely say one thing */
    if (cat != C_NEUTRAL && cat != C_BLAME && rndn(100) < 35) {
        int c2;
        do
            c2 = pick_cat();
        while (c2 == C_BLAME);
        puts_(b, " ");
        put_fragment(b, frag[lang][c2][rndn((unsigned)nfrag(lang, c2))], is_toxic(c2) && rndn(100) < 15);
    }
    for (int i = 0; i < filler_after; i++) {
        puts_(b, " ");
        puts_(b, frag[lang][C_NEUTRAL][rndn((unsigned)nfrag(lang, C_NEUTRAL))]);
    }
}

static void json_str(FILE *f, const char *s)
{
    fputc('"', f);
    for (; *s; s++) {
        unsigned char c = (unsigned char)*s;
        if (c == '"' || c == '\\')
            fprintf(f, "\\%c", c);
        else if (c < 0x20)
            fprintf(f, "\\u%04x", c);
        else
            fputc(c, f);
    }
    fputc('"', f);
}

static void usage(void)
{
    fprintf(stderr, "usage: gen_stream [--events N] [--customers N] [--zipf S] [--seed N] "
                    "[--format pb|jsonl] [--out FILE]\n");
    exit(2);
}

int main(int argc, char **argv)
{
    uint64_t events = 100000, customers = 100000, seed = 1;
    double s = 1.1;
    const char *format = "pb", *out = "-";
    static const struct option opts[] = {{"events", 1, 0, 'n'}, {"customers", 1, 0, 'c'},
                                         {"zipf", 1, 0, 'z'},   {"seed", 1, 0, 's'},
                                         {"format", 1, 0, 'f'}, {"out", 1, 0, 'o'},
                                         {0, 0, 0, 0}};
    int o;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        switch (o) {
        case 'n': events = strtoull(optarg, NULL, 10); break;
        case 'c': customers = strtoull(optarg, NULL, 10); break;
        case 'z': s = atof(optarg); break;
        case 's': seed = strtoull(optarg, NULL, 10); break;
        case 'f': format = optarg; break;
        case 'o': out = optarg; break;
        default: usage();
        }
    }
    int pb = strcmp(format, "pb") == 0;
    if (!pb && strcmp(format, "jsonl") != 0)
        usage();
    if (customers < 1 || s <= 0)
        usage();
    FILE *f = strcmp(out, "-") == 0 ? stdout : fopen(out, "wb");
    if (!f) {
        perror(out);
        return 1;
    }
    static char iobuf[1 << 20];
    setvbuf(f, iobuf, _IOFBF, sizeof iobuf);
    rng_state = seed * 0x2545F4914F6CDD1Dull + 1;
    zipf z;
    zipf_init(&z, s, customers);
    buf text = {0};
    uint8_t *packed = NULL;
    size_t packed_cap = 0;
    static const char *cats[] = {"electronics", "clothing", "grocery", "home", "beauty", "toys"};
    const int64_t t0 = 1700000000000;
    for (uint64_t i = 0; i < events; i++) {
        unsigned lr = rndn(10);
        int lang = lr < 4 ? RU : lr < 6 ? UK : lr < 8 ? PL : EN;
        int cat = pick_cat();
        int ch = pick_channel(cat);
        build_text(&text, lang, cat);
        char eid[24], cid[24], store[16], emp[16];
        snprintf(eid, sizeof eid, "e%015llu", (unsigned long long)i);
        snprintf(cid, sizeof cid, "c%llu", (unsigned long long)zipf_next(&z));
        snprintf(store, sizeof store, "s%03u", rndn(500));
        snprintf(emp, sizeof emp, "emp%05u", rndn(20000));
        /* lang hint present on 80% of events, as producers often omit it */
        const char *lh = rndn(10) < 8 ? lang_code[lang] : "";
        int64_t ts = t0 + (int64_t)i * 37;
        int64_t amount = (int64_t)rndn(100) < 60 ? (int64_t)(500 + rndn(50000)) : 0;
        const char *pc = cats[rndn(6)];
        if (pb) {
            Complaint__V1__ComplaintEvent ev = COMPLAINT__V1__COMPLAINT_EVENT__INIT;
            ev.event_id = eid;
            ev.customer_id = cid;
            ev.channel = (Complaint__V1__Channel)ch;
            ev.text = text.p;
            ev.ts_ms = ts;
            ev.store_id = store;
            ev.employee_id = emp;
            ev.lang = (char *)lh;
            ev.product_category = (char *)pc;
            ev.purchase_amount = amount;
            size_t n = complaint__v1__complaint_event__get_packed_size(&ev);
            if (n > packed_cap) {
                packed_cap = n * 2;
                packed = realloc(packed, packed_cap);
            }
            complaint__v1__complaint_event__pack(&ev, packed);
            uint8_t le[4] = {(uint8_t)n, (uint8_t)(n >> 8), (uint8_t)(n >> 16), (uint8_t)(n >> 24)};
            fwrite(le, 1, 4, f);
            fwrite(packed, 1, n, f);
        } else {
            fprintf(f, "{\"event_id\":\"%s\",\"customer_id\":\"%s\",\"channel\":\"%s\",\"lang\":\"%s\","
                       "\"store_id\":\"%s\",\"employee_id\":\"%s\",\"product_category\":\"%s\","
                       "\"purchase_amount\":%lld,\"ts_ms\":%lld,\"text\":",
                    eid, cid, channel_name(ch), lh, store, emp, pc, (long long)amount, (long long)ts);
            json_str(f, text.p);
            fputs("}\n", f);
        }
    }
    if (fclose(f) != 0) {
        perror(out);
        return 1;
    }
    free(text.p);
    free(packed);
    return 0;
}
