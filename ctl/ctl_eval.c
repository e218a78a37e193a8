/*
 * complaintctl eval — measure the rule pack on a labelled corpus (JSON Lines
 * with the expected "labels", "action" and "public_response").
 *
 * Every event is decided as a first contact (no history), which is how the
 * corpus was labelled. Prints per-label precision/recall/F1, micro-F1, macro
 * F1 per family, action and public_response accuracy, the action confusion
 * matrix, and with --errors every event it got wrong.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "ctl.h"
#include "normalise.h"
#include "policy.h"

typedef struct counts {
    long tp[LABEL_COUNT], fp[LABEL_COUNT], fn[LABEL_COUNT];
    long events, action_ok, public_ok;
    long confusion[ACTION_COUNT][ACTION_COUNT];  /* [expected][got] */
    long obf_tp, obf_fp, obf_fn, obf_events;
} counts;

static double f1(long tp, long fp, long fn)
{
    return tp ? 2.0 * (double)tp / (double)(2 * tp + fp + fn) : (fp || fn ? 0.0 : 1.0);
}

/* Does the text carry an obfuscation the normaliser has to undo? A word that
 * mixes scripts, letters with digits or masks, letters stretched to three or
 * more, or single letters strung out with separators. */
static int looks_obfuscated(const char *s)
{
    int word_lat = 0, word_cyr = 0, word_digit = 0, word_mask = 0, singles = 0, prev_single = 0;
    int run = 0, wordlen = 0;
    unsigned prev = 0;
    for (const unsigned char *p = (const unsigned char *)s;; p++) {
        unsigned c = *p;
        int cyr = (c == 0xD0 || c == 0xD1);
        int lat = (c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z');
        int digit = (c >= '0' && c <= '9');
        int mask = (c == '*' || c == '@' || c == '$');
        if (cyr || lat || digit || mask) {
            word_cyr |= cyr;
            word_lat |= lat;
            word_digit |= digit;
            word_mask |= mask;
            if (cyr) {
                unsigned cp = ((c & 0x1F) << 6) | (p[1] & 0x3F);
                run = (cp == prev) ? run + 1 : 1;
                prev = cp;
                p++;
            } else {
                run = ((unsigned)(c | 0x20) == prev) ? run + 1 : 1;
                prev = c | 0x20;
            }
            if (run >= 3 && !digit)
                return 1;
            wordlen++;
            continue;
        }
        if (wordlen) {
            int letters = word_cyr || word_lat;
            if ((word_cyr && word_lat) || (letters && (word_digit || word_mask)))
                return 1;
            int single = (wordlen == 1 && letters);
            singles = single ? (prev_single ? singles + 1 : 1) : 0;
            if (singles >= 3 && c != ' ')
                return 1;
            if (singles >= 4)
                return 1;
            prev_single = single;
        }
        if (!c)
            return 0;
        word_lat = word_cyr = word_digit = word_mask = 0;
        wordlen = 0;
        run = 0;
        prev = 0;
    }
}

static label_set json_labels(json_t *arr, long lineno, int *bad)
{
    label_set s = 0;
    size_t i;
    json_t *v;
    json_array_foreach(arr, i, v)
    {
        int l = json_is_string(v) ? label_from_name(json_string_value(v)) : 0;
        if (!l) {
            fprintf(stderr, "complaintctl: line %ld: unknown label in \"labels\"\n", lineno);
            *bad = 1;
        }
        s |= l ? 1u << l : 0;
    }
    return s;
}

static void print_labels(label_set s)
{
    int first = 1;
    for (int l = 1; l < LABEL_COUNT; l++)
        if (s & (1u << l)) {
            printf("%s%s", first ? "" : ",", label_name(l));
            first = 0;
        }
    if (first)
        printf("-");
}

static void tally(counts *c, label_set want, label_set got, int obf)
{
    for (int l = 1; l < LABEL_COUNT; l++) {
        int w = (want >> l) & 1, g = (got >> l) & 1;
        c->tp[l] += w && g;
        c->fp[l] += !w && g;
        c->fn[l] += w && !g;
        if (obf) {
            c->obf_tp += w && g;
            c->obf_fp += !w && g;
            c->obf_fn += w && !g;
        }
    }
}

static double report(const counts *c)
{
    long tp = 0, fp = 0, fn = 0;
    double fam_sum[4] = {0};
    int fam_n[4] = {0};
    printf("%-22s %9s %9s %9s %6s\n", "label", "precision", "recall", "f1", "n");
    for (int l = 1; l < LABEL_COUNT; l++) {
        double p = c->tp[l] + c->fp[l] ? (double)c->tp[l] / (double)(c->tp[l] + c->fp[l]) : 1.0;
        double r = c->tp[l] + c->fn[l] ? (double)c->tp[l] / (double)(c->tp[l] + c->fn[l]) : 1.0;
        double f = f1(c->tp[l], c->fp[l], c->fn[l]);
        printf("%-22s %9.3f %9.3f %9.3f %6ld\n", label_name(l), p, r, f, c->tp[l] + c->fn[l]);
        tp += c->tp[l];
        fp += c->fp[l];
        fn += c->fn[l];
        fam_sum[label_family_of(l)] += f;
        fam_n[label_family_of(l)]++;
    }
    double micro = f1(tp, fp, fn);
    printf("\nlabel micro-F1 %.3f\n", micro);
    for (int f = 0; f < 4; f++)
        printf("macro-F1 %-13s %.3f\n", family_name((label_family)f), fam_sum[f] / fam_n[f]);
    printf("obfuscated events %ld, their micro-F1 %.3f\n", c->obf_events,
           f1(c->obf_tp, c->obf_fp, c->obf_fn));
    printf("action accuracy %.3f (%ld/%ld)\n", (double)c->action_ok / (double)c->events,
           c->action_ok, c->events);
    printf("public_response accuracy %.3f\n", (double)c->public_ok / (double)c->events);
    printf("\naction confusion (rows expected, columns decided)\n%-18s", "");
    for (int g = 1; g < ACTION_COUNT; g++)
        printf(" %5.5s", action_name(g));
    printf("\n");
    for (int w = 1; w < ACTION_COUNT; w++) {
        printf("%-18s", action_name(w));
        for (int g = 1; g < ACTION_COUNT; g++)
            printf(" %5ld", c->confusion[w][g]);
        printf("\n");
    }
    return micro;
}

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {{"rules", required_argument, 0, 'r'},
                                         {"errors", no_argument, 0, 'e'},
                                         {"min-micro-f1", required_argument, 0, 'm'},
                                         {"min-action-accuracy", required_argument, 0, 'a'},
                                         {0, 0, 0, 0}};
    const char *rules = NULL;
    int show_errors = 0;
    double floor_f1 = 0, floor_action = 0;
    int o;
    optind = 1;
    while ((o = getopt_long(argc, argv, "", opts, NULL)) != -1) {
        if (o == 'r')
            rules = optarg;
        else if (o == 'e')
            show_errors = 1;
        else if (o == 'm')
            floor_f1 = atof(optarg);
        else if (o == 'a')
            floor_action = atof(optarg);
        else
            return CTL_USAGE;
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: complaintctl eval CORPUS.jsonl [--rules DIR] [--errors]\n");
        return CTL_USAGE;
    }
    const char *path = argv[optind];
    rulepack *rp = ctl_load_pack(rules ? rules : ctl_default_rules());
    if (!rp)
        return CTL_USAGE;
    classifier *cl = classifier_new(rp);
    FILE *in = ctl_open_input(path);
    if (!cl || !in) {
        classifier_free(cl);
        rulepack_free(rp);
        return CTL_FAIL;
    }
    policy pol;
    policy_defaults(&pol);
    hist_customer fresh;
    memset(&fresh, 0, sizeof fresh);
    counts c;
    memset(&c, 0, sizeof c);
    char *line = NULL;
    size_t cap = 0;
    long lineno = 0, n;
    int status = 0;
    while ((n = ctl_read_line(in, &line, &cap)) >= 0) {
        lineno++;
        if (n == 0)
            continue;
        json_error_t je;
        json_t *obj = json_loads(line, 0, &je);
        const char *text = obj ? json_string_value(json_object_get(obj, "text")) : NULL;
        const char *id = obj ? json_string_value(json_object_get(obj, "id")) : NULL;
        const char *lang = obj ? json_string_value(json_object_get(obj, "lang")) : NULL;
        const char *chs = obj ? json_string_value(json_object_get(obj, "channel")) : NULL;
        const char *acts = obj ? json_string_value(json_object_get(obj, "action")) : NULL;
        json_t *labs = obj ? json_object_get(obj, "labels") : NULL;
        int bad = !text || !chs || !acts || !json_is_array(labs) || channel_from_name(chs) < 0 ||
                  !action_from_name(acts);
        label_set want = bad ? 0 : json_labels(labs, lineno, &bad);
        class_result cr;
        if (!bad && classify_text(cl, text, strlen(text), channel_from_name(chs), lang, &cr) != 0)
            bad = 1;
        if (bad) {
            fprintf(stderr, "complaintctl: %s:%ld: not a labelled event (text, channel, labels, action)\n",
                    path, lineno);
            status = CTL_USAGE;
            json_decref(obj);
            continue;
        }
        decision d;
        policy_event pe = {.labels = cr.labels, .channel = channel_from_name(chs), .event_id = id};
        policy_decide(&pol, &pe, &fresh, &d);
        int want_action = action_from_name(acts);
        int want_public = json_is_true(json_object_get(obj, "public_response"));
        int obf = looks_obfuscated(text);
        c.events++;
        c.obf_events += obf;
        c.action_ok += d.action == want_action;
        c.public_ok += d.public_response == want_public;
        c.confusion[want_action][d.action]++;
        tally(&c, want, cr.labels, obf);
        if (show_errors && (want != (cr.labels & ~LABEL_FLAG_AT_STAFF) || d.action != want_action)) {
            printf("%s [%s %s%s] want ", id ? id : "?", lang ? lang : "", chs, obf ? " obf" : "");
            print_labels(want);
            printf(" %s, got ", acts);
            print_labels(cr.labels);
            printf(" %s\n    %s\n", action_name(d.action), text);
            for (size_t i = 0; i < cr.n_matches; i++)
                printf("    %s: \"%.*s\"\n", rp->rules[cr.matches[i].rule].id,
                       (int)(cr.matches[i].end - cr.matches[i].start), text + cr.matches[i].start);
        }
        json_decref(obj);
    }
    double micro = c.events ? report(&c) : 0;
    if (status == 0 && floor_f1 > 0 && micro < floor_f1) {
        printf("FAIL: micro-F1 %.3f below the floor %.3f\n", micro, floor_f1);
        status = CTL_FAIL;
    }
    double action_acc = c.events ? (double)c.action_ok / (double)c.events : 0;
    if (status == 0 && floor_action > 0 && action_acc < floor_action) {
        printf("FAIL: action accuracy %.3f below the floor %.3f\n", action_acc, floor_action);
        status = CTL_FAIL;
    }
    free(line);
    if (in != stdin)
        fclose(in);
    classifier_free(cl);
    rulepack_free(rp);
    return status;
}
