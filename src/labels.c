/* labels — name tables for the taxonomy; see labels.h. */
#include "labels.h"

#include <string.h>

static const char *const label_names[LABEL_COUNT] = {
    NULL, "insult", "profanity", "threat", "harassment", "humiliation",
    "blackmail", "public_shaming_threat", "legal_threat", "excessive_demand",
    "promo_abuse", "broken_promise", "product_defect", "service_failure",
    "refund_request", "gratitude", "staff_blame",
};

static const char *const action_names[ACTION_COUNT] = {
    "REJECT", "END_RELATIONSHIP", "PROTECT_EMPLOYEE", "ESCALATE_CENTRAL",
    "HOLD_LINE", "RESOLVE_LOCAL", "ACKNOWLEDGE",
};

static const char *const channel_names[CHANNEL_COUNT] = {
    "", "call", "chat", "email", "review", "social", "staff_note",
};

static const char *const family_names[] = {"toxicity", "extremism", "constructive", "other"};

const char *label_name(int label)
{
    return (label > 0 && label < LABEL_COUNT) ? label_names[label] : NULL;
}

int label_from_name(const char *s)
{
    for (int i = 1; i < LABEL_COUNT; i++)
        if (strcmp(s, label_names[i]) == 0)
            return i;
    return 0;
}

label_family label_family_of(int label)
{
    label_set bit = (label > 0 && label < LABEL_COUNT) ? LABEL_BIT(label) : 0;
    if (bit & FAMILY_TOXICITY_LABELS)
        return FAMILY_TOXICITY;
    if (bit & FAMILY_EXTREMISM_LABELS)
        return FAMILY_EXTREMISM;
    if (bit & FAMILY_CONSTRUCTIVE_LABELS)
        return FAMILY_CONSTRUCTIVE;
    return FAMILY_OTHER;
}

const char *family_name(label_family f) { return family_names[f]; }

const char *action_name(int action)
{
    return (action >= 0 && action < ACTION_COUNT) ? action_names[action] : "REJECT";
}

int action_from_name(const char *s)
{
    for (int i = 1; i < ACTION_COUNT; i++)
        if (strcmp(s, action_names[i]) == 0)
            return i;
    return 0;
}

const char *channel_name(int channel)
{
    return (channel >= 0 && channel < CHANNEL_COUNT) ? channel_names[channel] : "";
}

int channel_from_name(const char *s)
{
    for (int i = 0; i < CHANNEL_COUNT; i++)
        if (strcmp(s, channel_names[i]) == 0)
            return i;
    return -1;
}

int channel_is_public(int channel) { return channel == CHANNEL_REVIEW || channel == CHANNEL_SOCIAL; }

int label_on_channel(int label, int channel)
{
    return label != LABEL_STAFF_BLAME || channel == CHANNEL_STAFF_NOTE;
}

uint32_t lang_bit(const char *lang)
{
    if (!lang)
        return 0;
    if (strcmp(lang, "ru") == 0)
        return LANG_RU;
    if (strcmp(lang, "uk") == 0)
        return LANG_UK;
    if (strcmp(lang, "pl") == 0)
        return LANG_PL;
    if (strcmp(lang, "en") == 0)
        return LANG_EN;
    return 0;
}
