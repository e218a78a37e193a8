/* codec — protobuf, JSON and C forms of events and decisions; see codec.h. */
#include "codec.h"

#include <jansson.h>
#include <stdlib.h>
#include <string.h>

#include "labels.h"
#include "utf8.h"

static void json_key(strbuf *sb, const char *k)
{
    strbuf_printf(sb, ",\"%s\":", k);
}

static void json_str_field(strbuf *sb, const char *k, const char *v)
{
    json_key(sb, k);
    strbuf_json_str(sb, v ? v : "", v ? strlen(v) : 0);
}

/* One label of "sources": {"rules":R[,"model":P],"by":SOURCE}. */
static void source_json(strbuf *sb, int first, const Complaint__V1__LabelScore *ls)
{
    const char *n = label_name((int)ls->label);
    strbuf_printf(sb, "%s\"%s\":{\"rules\":%.2f", first ? "" : ",", n ? n : "unknown",
              (double)ls->rule_score);
    if (ls->model_scored)
        strbuf_printf(sb, ",\"model\":%.3f", (double)ls->model_score);
    json_str_field(sb, "by", ls->source && *ls->source ? ls->source : "rules");
    strbuf_putc(sb, '}');
}

/* With the learned layer: where each label came from (the vetoed ones
 * too, in label order), the models' scores, the n-grams behind the model's
 * labels, in the shape complaintctl classify prints them ("sources",
 * "model_scores", "model_evidence"), and the models applied. */
static void model_sources_json(strbuf *sb, const decision_msg *m)
{
    json_key(sb, "sources");
    strbuf_putc(sb, '{');
    size_t a = 0, b = 0;
    while (a < m->n_labels || b < m->n_vetoed) {
        int take_label = b == m->n_vetoed ||
                         (a < m->n_labels && m->labels[a]->label < m->vetoed[b]->label);
        int first = a + b == 0;
        source_json(sb, first, take_label ? m->labels[a++] : m->vetoed[b++]);
    }
    strbuf_putc(sb, '}');
    json_key(sb, "model_scores");
    strbuf_putc(sb, '{');
    for (size_t i = 0; i < m->n_model_scores; i++) {
        const char *n = label_name((int)m->model_scores[i]->label);
        strbuf_printf(sb, "%s\"%s\":%.3f", i ? "," : "", n ? n : "unknown",
                  (double)m->model_scores[i]->model_score);
    }
    strbuf_putc(sb, '}');
    json_key(sb, "model_evidence");
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < m->n_model_evidence; i++) {
        const Complaint__V1__ModelEvidence *e = m->model_evidence[i];
        const char *n = label_name((int)e->label);
        strbuf_printf(sb, "%s{\"label\":\"%s\"", i ? "," : "", n ? n : "unknown");
        json_str_field(sb, "text", e->ngram);
        strbuf_printf(sb, ",\"start\":%u,\"end\":%u,\"weight\":%.3f}", e->start, e->end,
                  (double)e->weight);
    }
    strbuf_putc(sb, ']');
    json_key(sb, "models");
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < m->n_models; i++) {
        if (i)
            strbuf_putc(sb, ',');
        strbuf_json_str(sb, m->models[i], strlen(m->models[i]));
    }
    strbuf_putc(sb, ']');
}

void codec_decision_json(strbuf *sb, const decision_msg *m)
{
    strbuf_puts(sb, "{\"event_id\":");
    strbuf_json_str(sb, m->event_id, strlen(m->event_id));
    json_str_field(sb, "customer_id", m->customer_id);
    strbuf_printf(sb, ",\"seq\":%llu", (unsigned long long)m->seq);
    json_str_field(sb, "action", action_name((int)m->action));
    json_str_field(sb, "channel", channel_name((int)m->channel));
    json_key(sb, "labels");
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < m->n_labels; i++) {
        const char *n = label_name((int)m->labels[i]->label);
        strbuf_printf(sb, "%s\"%s\"", i ? "," : "", n ? n : "unknown");
    }
    strbuf_putc(sb, ']');
    json_key(sb, "scores");
    strbuf_putc(sb, '{');
    for (size_t i = 0; i < m->n_labels; i++) {
        const char *n = label_name((int)m->labels[i]->label);
        strbuf_printf(sb, "%s\"%s\":%.2f", i ? "," : "", n ? n : "unknown", (double)m->labels[i]->score);
    }
    strbuf_putc(sb, '}');
    strbuf_printf(sb, ",\"public_response\":%s,\"manager_review\":%s,\"coach_employee\":%s",
              m->public_response ? "true" : "false", m->manager_review ? "true" : "false",
              m->coach_employee ? "true" : "false");
    strbuf_printf(sb, ",\"compensation_tier\":%u,\"compensation_amount\":%lld", m->compensation_tier,
              (long long)m->compensation_amount);
    if (m->gesture && *m->gesture)
        json_str_field(sb, "gesture", m->gesture);
    json_key(sb, "matches");
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < m->n_matches; i++) {
        const Complaint__V1__RuleMatch *rm = m->matches[i];
        const char *n = label_name((int)rm->label);
        strbuf_printf(sb, "%s{\"rule\":", i ? "," : "");
        strbuf_json_str(sb, rm->rule_id, strlen(rm->rule_id));
        strbuf_printf(sb, ",\"label\":\"%s\",\"start\":%u,\"end\":%u}", n ? n : "unknown", rm->start,
                  rm->end);
    }
    strbuf_putc(sb, ']');
    json_key(sb, "reasons");
    strbuf_putc(sb, '[');
    for (size_t i = 0; i < m->n_reasons; i++) {
        if (i)
            strbuf_putc(sb, ',');
        strbuf_json_str(sb, m->reasons[i], strlen(m->reasons[i]));
    }
    strbuf_putc(sb, ']');
    if (m->n_customer_flags) {
        json_key(sb, "customer_flags");
        strbuf_putc(sb, '[');
        for (size_t i = 0; i < m->n_customer_flags; i++) {
            if (i)
                strbuf_putc(sb, ',');
            strbuf_json_str(sb, m->customer_flags[i], strlen(m->customer_flags[i]));
        }
        strbuf_putc(sb, ']');
    }
    if (m->n_models)
        model_sources_json(sb, m);
    if (m->reject_reason && *m->reject_reason)
        json_str_field(sb, "reject_reason", m->reject_reason);
    if (m->duplicate)
        strbuf_puts(sb, ",\"duplicate\":true");
    if (m->ts_ms)
        strbuf_printf(sb, ",\"ts_ms\":%lld", (long long)m->ts_ms);
    if (m->decided_ms)
        strbuf_printf(sb, ",\"decided_ms\":%lld", (long long)m->decided_ms);
    strbuf_putc(sb, '}');
}

/* ---- JSON -> event ------------------------------------------------------ */

static char *dup_field(json_t *obj, const char *k, const char *alt, int *bad)
{
    json_t *v = json_object_get(obj, k);
    if (!v && alt)
        v = json_object_get(obj, alt);
    if (!v || json_is_null(v))
        return strdup("");
    if (json_is_integer(v)) {
        char buf[32];
        snprintf(buf, sizeof buf, "%lld", (long long)json_integer_value(v));
        return strdup(buf);
    }
    if (!json_is_string(v)) {
        *bad = 1;
        return strdup("");
    }
    return strdup(json_string_value(v));
}

int codec_event_from_json(const char *line, event_msg *ev, char *err, size_t errlen)
{
    complaint__v1__complaint_event__init(ev);
    json_error_t je;
    json_t *o = json_loads(line, JSON_REJECT_DUPLICATES, &je);
    if (!o) {
        snprintf(err, errlen, "invalid JSON at column %d: %s", je.column, je.text);
        return -1;
    }
    if (!json_is_object(o)) {
        json_decref(o);
        snprintf(err, errlen, "expected a JSON object");
        return -1;
    }
    int bad = 0;
    ev->event_id = dup_field(o, "event_id", "id", &bad);
    ev->customer_id = dup_field(o, "customer_id", NULL, &bad);
    ev->text = dup_field(o, "text", NULL, &bad);
    ev->store_id = dup_field(o, "store_id", NULL, &bad);
    ev->employee_id = dup_field(o, "employee_id", NULL, &bad);
    ev->lang = dup_field(o, "lang", NULL, &bad);
    ev->product_category = dup_field(o, "product_category", NULL, &bad);
    int rc = 0;
    if (bad) {
        snprintf(err, errlen, "a string field holds something other than a string");
        rc = -1;
    }
    json_t *ch = json_object_get(o, "channel");
    if (rc == 0 && ch) {
        int c = json_is_string(ch) ? channel_from_name(json_string_value(ch)) : -1;
        if (c < 0) {
            snprintf(err, errlen, "unknown channel (want call, chat, email, review, social or staff_note)");
            rc = -1;
        } else {
            ev->channel = (Complaint__V1__Channel)c;
        }
    }
    json_t *ts = json_object_get(o, "ts_ms");
    if (rc == 0 && ts) {
        if (!json_is_integer(ts)) {
            snprintf(err, errlen, "ts_ms must be an integer");
            rc = -1;
        } else {
            ev->ts_ms = json_integer_value(ts);
        }
    }
    json_t *amt = json_object_get(o, "purchase_amount");
    if (rc == 0 && amt && json_is_integer(amt))
        ev->purchase_amount = json_integer_value(amt);
    json_decref(o);
    if (rc == 0 && (!ev->event_id || !ev->customer_id || !ev->text || !ev->store_id ||
                    !ev->employee_id || !ev->lang || !ev->product_category)) {
        snprintf(err, errlen, "out of memory");
        rc = -1;
    }
    if (rc < 0)
        codec_event_json_free(ev);
    return rc;
}

void codec_event_json_free(event_msg *ev)
{
    free(ev->event_id);
    free(ev->customer_id);
    free(ev->text);
    free(ev->store_id);
    free(ev->employee_id);
    free(ev->lang);
    free(ev->product_category);
    complaint__v1__complaint_event__init(ev);
}

const char *codec_event_invalid(const event_msg *ev, size_t max_text, unsigned skip)
{
    if (!ev->customer_id || !*ev->customer_id)
        return "missing customer_id";
    if (!ev->event_id || !*ev->event_id)
        return "missing event_id";
    if (!ev->text || !*ev->text)
        return "empty text";
    size_t n = strlen(ev->text);
    if (n > max_text)
        return "text over the size limit";
    if (!(skip & EVENT_SKIP_TEXT_UTF8) && !utf8_valid(ev->text, n))
        return "text is not valid UTF-8";
    /* Every string we echo into a decision must be UTF-8, or proto3 runtimes
     * refuse to parse the decision. */
    const char *strings[] = {ev->customer_id, ev->event_id, ev->store_id, ev->employee_id,
                             ev->lang, ev->product_category};
    for (size_t i = 0; i < sizeof strings / sizeof strings[0]; i++)
        if (!utf8_valid_str(strings[i]))
            return "an id or hint field is not valid UTF-8";
    if ((int)ev->channel < 0 || (int)ev->channel >= CHANNEL_COUNT)
        return "unknown channel";
    if (ev->ts_ms < 0 || ev->ts_ms > EVENT_TS_MAX_MS)
        return "ts_ms out of range (0 to 253402300799999, milliseconds since 1970)";
    return NULL;
}
