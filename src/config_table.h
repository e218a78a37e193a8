/*
 * config_table — tier.*, matrix.* and authority.* keys (config_table.c),
 * for config.c. Errors go to err as "KEY: problem" or "KEY = VALUE: want ...".
 */
#ifndef COMPLAINTD_CONFIG_TABLE_H
#define COMPLAINTD_CONFIG_TABLE_H

#include <stddef.h>

#include "config.h"

int config_is_table_key(const char *key);

/* Set one table key from its text value. */
int config_table_set(config *c, const char *key, const char *value, char *err, size_t errlen);

/* What the key means, spelt one way (two spellings of one matrix cell give
 * the same text): duplicates are found by comparing these. */
int config_table_canonical(const char *key, char *out, size_t cap, char *err, size_t errlen);

#endif
