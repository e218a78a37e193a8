/* models — the configured learned models; see models.h. */
#include "models.h"

#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>

#include "config.h"
#include "paths.h"

static int is_file(const char *p)
{
    struct stat st;
    return stat(p, &st) == 0 && S_ISREG(st.st_mode);
}

const char *models_default_path(char *path, size_t cap)
{
    /* As the rule pack is found (paths.h): here, beside the binary, or in
     * the installed data directory. */
    paths_find("models/default.model", path, cap);
    return is_file(path) ? path : NULL;
}

void models_release(model **m, int n)
{
    for (int i = 0; i < n; i++)
        model_release(m[i]);
}

int models_load(const char *list, model **out, int max, int *n, char *err, size_t errlen)
{
    *n = 0;
    if (strcmp(list, "none") == 0)
        return 0;
    if (!*list) {
        char buf[PATH_MAX];
        const char *def = models_default_path(buf, sizeof buf);
        if (def && !(out[0] = model_load(def, err, errlen)))
            return -1;
        *n = def ? 1 : 0;
        return 0;
    }
    char buf[CONFIG_PATH];  /* a copy to cut up */
    snprintf(buf, sizeof buf, "%s", list);
    char *save = NULL;
    for (char *p = strtok_r(buf, ",", &save); p; p = strtok_r(NULL, ",", &save)) {
        while (*p == ' ')
            p++;
        size_t len = strlen(p);
        while (len && p[len - 1] == ' ')
            p[--len] = '\0';
        if (!*p)
            continue;
        if (*n == max) {
            snprintf(err, errlen, "model: at most %d models", max);
            models_release(out, *n);
            *n = 0;
            return -1;
        }
        if (!(out[*n] = model_load(p, err, errlen))) {
            models_release(out, *n);
            *n = 0;
            return -1;
        }
        (*n)++;
    }
    return 0;
}
