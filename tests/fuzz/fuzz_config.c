/*
 * Fuzz target config: the input is a config file. config_load_file must
 * return 0, or -1 with a message naming the file.
 */
#include <stdio.h>
#include <string.h>

#include "config.h"
#include "fuzz_common.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
    char path[512];
    snprintf(path, sizeof path, "%s/fuzz.conf", fuzz_tmpdir());
    fuzz_write_file(path, data, size);

    config c;
    config_defaults(&c);
    char err[2048] = "";
    int rc = config_load_file(&c, path, err, sizeof err);
    FUZZ_CHECK(rc == 0 || rc == -1, "config_load_file returned %d", rc);
    if (rc < 0)
        FUZZ_CHECK(strstr(err, path) || fuzz_known(err), "the message does not name the file: '%s'",
                   err);
    else
        FUZZ_CHECK(err[0] == '\0', "success with a message: '%s'", err);
    return 0;
}
