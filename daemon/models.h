/*
 * models — the learned models a configuration names (config key `model`):
 * a comma-separated list of model files; empty means the repository's or
 * installation's default model when there is one (models/default.model,
 * found as the rule pack is: paths.h), and "none" the rules alone.
 */
#ifndef COMPLAINTD_MODELS_H
#define COMPLAINTD_MODELS_H

#include <stddef.h>

#include "model.h"

/* The default model's path (written into path[0..cap)), or NULL if there
 * is none. */
const char *models_default_path(char *path, size_t cap);

/* Load every model of list into out[0..*n) (references the caller releases
 * with models_release). On a bad file: -1, nothing kept, and err says
 * "PATH: problem". At most max models. */
int models_load(const char *list, model **out, int max, int *n /* OUT */, char *err,
                size_t errlen);
void models_release(model **m, int n);

#endif
