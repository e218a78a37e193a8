/*
 * labels — the taxonomy's names: labels, actions and channels, and their
 * conversion to and from the lower-case (labels, channels) and upper-case
 * (actions) spellings used in JSON and rule files. The numbers are the
 * protobuf enum values of proto/complaint.proto.
 */
#ifndef COMPLAINTD_LABELS_H
#define COMPLAINTD_LABELS_H

#include <stdint.h>

enum { LABEL_COUNT = 17 };  /* 1..16 are labels, 0 is "unspecified" */
enum { ACTION_COUNT = 7 };
enum { CHANNEL_COUNT = 7 };

typedef uint32_t label_set;  /* bit n set = label n present */

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

#endif
