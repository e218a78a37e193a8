/*
 * complaintctl eval — measure the rule pack on a labelled corpus (JSON Lines
 * with the expected "labels", "action" and "public_response").
 *
 * Every event is decided as a first contact (no history), which is how the
 * corpus was labelled. Prints per-label precision/recall/F1, micro-F1, macro
 * F1 per family, action and public_response accuracy, the action confusion
 * matrix, and with --errors every event it got wrong. With a model (the
 * default one unless --no-model, and any --model), every figure is given for
 * the rules alone, the model alone and the two combined, side by side; the
 * floors (--min-*) and the confusion matrix are the combined ones.
 *
 * --gold-labels decides every event from its expected labels instead (plus
 * the rules' at-staff flag, which the corpus does not label): the action
 * accuracy a perfect labeller would get from the policy, i.e. how much of the
 * action error is label error and how much is the policy's.
 */
#include <getopt.h>
#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "classify.h"
#include "ctl.h"
#include "model.h"
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

/* The three ways of labelling that eval compares side by side. */
enum { MODE_RULES, MODE_MODEL, MODE_COMBINED, MODE_COUNT };

typedef struct summary {
    double micro, family[4], obf, action, public_ok;
} summary;

static void summarise(const counts *c, summary *s)
{
    long tp = 0, fp = 0, fn = 0;
    double fam_sum[4] = {0};
    int fam_n[4] = {0};
    for (int l = 1; l < LABEL_COUNT; l++) {
        tp += c->tp[l];
        fp += c->fp[l];
        fn += c->fn[l];
        fam_sum[label_family_of(l)] += f1(c->tp[l], c->fp[l], c->fn[l]);
        fam_n[label_family_of(l)]++;
    }
    s->micro = f1(tp, fp, fn);
    for (int f = 0; f < 4; f++)
        s->family[f] = fam_sum[f] / fam_n[f];
    s->obf = f1(c->obf_tp, c->obf_fp, c->obf_fn);
    s->action = c->events ? (double)c->action_ok / (double)c->events : 0;
    s->public_ok = c->events ? (double)c->public_ok / (double)c->events : 0;
}

/* Per label precision/recall/F1 of the modes in use, the summaries side by
 * side, and the action confusion of the last mode. Returns the last mode's
 * micro-F1 (combined, or rules alone without a model). */
static double report(const counts *cs, const char *const *mode_name, int n_modes, int json)
{
    summary sm[MODE_COUNT];
    for (int m = 0; m < n_modes; m++)
        summarise(&cs[m], &sm[m]);
    const counts *c = &cs[n_modes - 1];
    if (json) {
        printf("{\"events\":%ld", c->events);
        for (int m = 0; m < n_modes; m++) {
            printf(",\"%s\":{\"micro_f1\":%.4f,\"action_accuracy\":%.4f,\"public_accuracy\":%.4f,"
                   "\"obfuscated_f1\":%.4f", mode_name[m], sm[m].micro, sm[m].action,
                   sm[m].public_ok, sm[m].obf);
            for (int f = 0; f < 4; f++)
                printf(",\"macro_f1_%s\":%.4f", family_name((label_family)f), sm[m].family[f]);
            printf(",\"labels\":{");
            for (int l = 1; l < LABEL_COUNT; l++)
                printf("%s\"%s\":%.4f", l > 1 ? "," : "", label_name(l),
                       f1(cs[m].tp[l], cs[m].fp[l], cs[m].fn[l]));
            printf("}}");
        }
        printf("}\n");
        return sm[n_modes - 1].micro;
    }
    printf("%-22s", "label");
    for (int m = 0; m < n_modes; m++)
        printf(" | %-8s %5s %5s %5s", mode_name[m], "P", "R", "F1");
    printf(" %6s\n", "n");
    for (int l = 1; l < LABEL_COUNT; l++) {
        printf("%-22s", label_name(l));
        for (int m = 0; m < n_modes; m++) {
            const counts *k = &cs[m];
            double p = k->tp[l] + k->fp[l] ? (double)k->tp[l] / (double)(k->tp[l] + k->fp[l]) : 1.0;
            double r = k->tp[l] + k->fn[l] ? (double)k->tp[l] / (double)(k->tp[l] + k->fn[l]) : 1.0;
            printf(" | %-8s %5.3f %5.3f %5.3f", "", p, r, f1(k->tp[l], k->fp[l], k->fn[l]));
        }
        printf(" %6ld\n", c->tp[l] + c->fn[l]);
    }
    printf("\n%-26s", "");
    for (int m = 0; m < n_modes; m++)
        printf(" %9s", mode_name[m]);
    printf("\n%-26s", "label micro-F1");
    for (int m = 0; m < n_modes; m++)
        printf(" %9.3f", sm[m].micro);
    for (int f = 0; f < 4; f++) {
        printf("\nmacro-F1 %-17s", family_name((label_family)f));
        for (int m = 0; m < n_modes; m++)
            printf(" %9.3f", sm[m].family[f]);
    }
    printf("\n%-26s", "obfuscated micro-F1");
    for (int m = 0; m < n_modes; m++)
        printf(" %9.3f", sm[m].obf);
    printf("\n%-26s", "action accuracy");
    for (int m = 0; m < n_modes; m++)
        printf(" %9.3f", sm[m].action);
    printf("\n%-26s", "public_response accuracy");
    for (int m = 0; m < n_modes; m++)
        printf(" %9.3f", sm[m].public_ok);
    printf("\n(%ld events, %ld obfuscated)\n", c->events, c->obf_events);
    printf("\naction confusion, %s (rows expected, columns decided)\n%-18s",
           mode_name[n_modes - 1], "");
    for (int g = 1; g < ACTION_COUNT; g++)
        printf(" %5.5s", action_name(g));
    printf("\n");
    for (int w = 1; w < ACTION_COUNT; w++) {
        printf("%-18s", action_name(w));
        for (int g = 1; g < ACTION_COUNT; g++)
            printf(" %5ld", c->confusion[w][g]);
        printf("\n");
    }
    return sm[n_modes - 1].micro;
}

int cmd_eval(int argc, char **argv)
{
    static const struct option opts[] = {{"rules", required_argument, 0, 'r'},
                                         {"errors", no_argument, 0, 'e'},
                                         {"min-micro-f1", required_argument, 0, 'm'},
                                         {"min-action-accuracy", required_argument, 0, 'a'},
                                         {"model", required_argument, 0, 'M'},
                                         {"no-model", no_argument, 0, 'N'},
                                         {"json", no_argument, 0, 'j'},
                                         {"gold-labels", no_argument, 0, 'g'},
                                         {0, 0, 0, 0}};
    const char *rules = NULL;
    const char *model_paths[CTL_MODELS_MAX];
    int n_model_paths = 0, no_model = 0, json = 0, gold = 0;
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
        else if (o == 'M' && n_model_paths < CTL_MODELS_MAX)
            model_paths[n_model_paths++] = optarg;
        else if (o == 'N')
            no_model = 1;
        else if (o == 'j')
            json = 1;
        else if (o == 'g')
            gold = no_model = 1; /* the labels are given: no model to consult */
        else
            return CTL_USAGE;
    }
    if (optind >= argc) {
        fprintf(stderr, "usage: complaintctl eval CORPUS.jsonl [--rules DIR] [--model MODEL]... "
                        "[--no-model] [--gold-labels] [--errors] [--json]\n");
        return CTL_USAGE;
    }
    if (gold && n_model_paths) {
        fprintf(stderr, "complaintctl: eval: --gold-labels decides from the expected labels; "
                        "it takes no --model\n");
        return CTL_USAGE;
    }
    const char *path = argv[optind];
    rulepack *rp = ctl_load_pack(rules ? rules : ctl_default_rules());
    if (!rp)
        return CTL_USAGE;
    ctl_models models;
    int mrc = ctl_models_open(&models, model_paths, n_model_paths, no_model);
    if (mrc) {
        rulepack_free(rp);
        return mrc;
    }
    int n_modes = models.n ? MODE_COUNT : 1;
    /* Without a model the one mode is the rules alone, or the gold labels. */
    const char *const mode_name[MODE_COUNT] = {gold ? "gold" : "rules", "model", "combined"};
    classifier *cl = classifier_new(rp);
    FILE *in = ctl_open_input(path);
    if (!cl || !in) {
        ctl_models_close(&models);
        classifier_free(cl);
        rulepack_free(rp);
        return CTL_FAIL;
    }
    policy pol;
    policy_defaults(&pol);
    hist_customer fresh;
    memset(&fresh, 0, sizeof fresh);
    counts cs[MODE_COUNT];
    memset(cs, 0, sizeof cs);
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
        classify_result cr;
        model_result mr;
        if (!bad && classify_text(cl, text, strlen(text), channel_from_name(chs), lang, &cr) != 0)
            bad = 1;
        if (!bad && ctl_models_apply(&models, text, strlen(text), classifier_canonical(cl),
                                     channel_from_name(chs), &cr, &mr) < 0)
            bad = 1;
        if (bad) {
            fprintf(stderr, "complaintctl: %s:%ld: not a labelled event (text, channel, labels, action)\n",
                    path, lineno);
            status = CTL_USAGE;
            json_decref(obj);
            continue;
        }
        /* rules alone; the model alone (its own thresholds); combined */
        label_set got[MODE_COUNT] = {cr.labels, mr.alone, model_combine(cr.labels, &mr)};
        if (n_modes == 1)
            got[0] = gold ? want | (cr.labels & LABEL_FLAG_AT_STAFF) : cr.labels;
        int want_action = action_from_name(acts);
        int want_public = json_is_true(json_object_get(obj, "public_response"));
        int obf = looks_obfuscated(text);
        decision d;
        for (int m = 0; m < n_modes; m++) {
            counts *c = &cs[m];
            policy_event pe = {.labels = got[m], .channel = channel_from_name(chs), .event_id = id};
            policy_decide(&pol, &pe, &fresh, &d);
            c->events++;
            c->obf_events += obf;
            c->action_ok += d.action == want_action;
            c->public_ok += d.public_response == want_public;
            c->confusion[want_action][d.action]++;
            tally(c, want, got[m], obf);
        }
        label_set final = got[n_modes - 1];
        if (show_errors && (want != (final & ~LABEL_FLAG_AT_STAFF) || d.action != want_action)) {
            printf("%s [%s %s%s] want ", id ? id : "?", lang ? lang : "", chs, obf ? " obf" : "");
            print_labels(want);
            printf(" %s, got ", acts);
            print_labels(final);
            printf(" %s\n    %s\n", action_name(d.action), text);
            for (size_t i = 0; i < cr.n_matches; i++)
                printf("    %s: \"%.*s\"\n", rp->rules[cr.matches[i].rule].id,
                       (int)(cr.matches[i].end - cr.matches[i].start), text + cr.matches[i].start);
            for (size_t i = 0; i < mr.n_ev; i++)
                if (final & LABEL_BIT(mr.ev[i].label))
                    printf("    model %s %.2f: \"%.*s\"\n", label_name(mr.ev[i].label),
                           (double)mr.ev[i].weight, (int)(mr.ev[i].end - mr.ev[i].start),
                           text + mr.ev[i].start);
        }
        json_decref(obj);
    }
    const counts *c = &cs[n_modes - 1];
    double micro = c->events ? report(cs, mode_name, n_modes, json) : 0;
    if (status == 0 && floor_f1 > 0 && micro < floor_f1) {
        printf("FAIL: micro-F1 %.3f below the floor %.3f\n", micro, floor_f1);
        status = CTL_FAIL;
    }
    double action_acc = c->events ? (double)c->action_ok / (double)c->events : 0;
    if (status == 0 && floor_action > 0 && action_acc < floor_action) {
        printf("FAIL: action accuracy %.3f below the floor %.3f\n", action_acc, floor_action);
        status = CTL_FAIL;
    }
    free(line);
    if (in != stdin)
        fclose(in);
    ctl_models_close(&models);
    classifier_free(cl);
    rulepack_free(rp);
    return status;
}
