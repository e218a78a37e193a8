/*
 * labels — the taxonomy's names: labels, actions and channels, and their
 * conversion to and from the lower-case (labels, channels) and upper-case
 * (actions) spellings used in JSON and rule files. The numbers are the
 * protobuf enum values of proto/complaint.proto.
 */
#ifndef COMPLAINTD_LABELS_H
#define COMPLAINTD_LABELS_H

#include <stdint.h>

/* complaint.v1.Label; 0 is "unspecified". Grouped by family, in order. */
typedef enum {
    LABEL_INSULT = 1, LABEL_PROFANITY, LABEL_THREAT, LABEL_HARASSMENT, LABEL_HUMILIATION,
    LABEL_BLACKMAIL, LABEL_PUBLIC_SHAMING_THREAT, LABEL_LEGAL_THREAT, LABEL_EXCESSIVE_DEMAND,
    LABEL_PROMO_ABUSE,
    LABEL_BROKEN_PROMISE, LABEL_PRODUCT_DEFECT, LABEL_SERVICE_FAILURE, LABEL_REFUND_REQUEST,
    LABEL_GRATITUDE, LABEL_STAFF_BLAME,
    LABEL_COUNT  /* 17: one past the last label */
} label_id;

/* complaint.v1.Action; 0 is a reject. */
typedef enum {
    ACTION_REJECT = 0, ACTION_END_RELATIONSHIP, ACTION_PROTECT_EMPLOYEE, ACTION_ESCALATE_CENTRAL,
    ACTION_HOLD_LINE, ACTION_RESOLVE_LOCAL, ACTION_ACKNOWLEDGE,
    ACTION_COUNT
} action_id;

/* complaint.v1.Channel; 0 is "unspecified" (an unknown channel). */
typedef enum {
    CHANNEL_UNSPECIFIED = 0, CHANNEL_CALL, CHANNEL_CHAT, CHANNEL_EMAIL, CHANNEL_REVIEW,
    CHANNEL_SOCIAL, CHANNEL_STAFF_NOTE,
    CHANNEL_COUNT
} channel_id;

typedef uint32_t label_set;  /* bit n set = label n present */
#define LABEL_BIT(l) (1u << (l))

/* Each family's labels as a set, derived from the enum's order. */
#define LABELS_FROM_TO(a, b) (((1u << ((b) + 1)) - 1) & ~((1u << (a)) - 1))
#define FAMILY_TOXICITY_LABELS LABELS_FROM_TO(LABEL_INSULT, LABEL_HUMILIATION)
#define FAMILY_EXTREMISM_LABELS LABELS_FROM_TO(LABEL_BLACKMAIL, LABEL_PROMO_ABUSE)
#define FAMILY_CONSTRUCTIVE_LABELS LABELS_FROM_TO(LABEL_BROKEN_PROMISE, LABEL_REFUND_REQUEST)
#define FAMILY_OTHER_LABELS LABELS_FROM_TO(LABEL_GRATITUDE, LABEL_STAFF_BLAME)

/* Not a label: set in a label_set when a rule marked "target staff" fired,
 * i.e. the words are aimed at the employee ("profanity aimed at staff"
 * protects the employee; profanity as an interjection does not). */
#define LABEL_FLAG_AT_STAFF (1u << 31)

/* Families, for reporting (macro F1 per family) and for policy. */
typedef enum { FAMILY_TOXICITY, FAMILY_EXTREMISM, FAMILY_CONSTRUCTIVE, FAMILY_OTHER } label_family;

const char *label_name(int label);          /* "insult"; NULL if out of range or 0 */
int         label_from_name(const char *s); /* 0 if unknown */
label_family label_family_of(int label);
const char *family_name(label_family f);

const char *action_name(int action);        /* "PROTECT_EMPLOYEE"; "REJECT" for 0 */
int         action_from_name(const char *s);/* 0 if unknown */

const char *channel_name(int channel);      /* "staff_note"; "" for 0 */
int         channel_from_name(const char *s);/* -1 if unknown, 0 for "" */
int         channel_is_public(int channel);
/* Whether label can describe an event of channel at all (the taxonomy:
 * staff_blame exists only in an employee's own note; an unknown channel is
 * not one). Every other label may come from any channel. */
int         label_on_channel(int label, int channel);

/* The languages of the pack, as bits of a rule's language mask. */
enum { LANG_RU = 1, LANG_UK = 2, LANG_PL = 4, LANG_EN = 8 };

/* LANG_* bit for a language hint ("ru", "uk", "pl", "en"); 0 if unknown/empty. */
uint32_t lang_bit(const char *lang);

#endif
