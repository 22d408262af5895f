/* fuzz_config.c: a configuration file and the environment overrides
 * through cxw_config_load() (libconfig's parser, the property table, every
 * check). Input: the file's text, then NUL-separated values of the
 * overriding variables in the order of env_names[] (an empty value or a
 * missing one: unset). A first byte '@' loads for cxonectl instead of the
 * worker. The text is written to a temporary file of this process, since
 * the loader reads a path.
 *
 * Beyond not crashing: a config is returned (nothing runs out of memory
 * here) and destroyed; every problem is a non-empty line; no problem text
 * holds the client secret set in the environment, nor does the dump of
 * the effective configuration. */
#include "fuzz_common.h"

#include "cxone/base/config.h"

#include <fcntl.h>
#include <unistd.h>

static const char *const env_names[] = {
    "KAFKA_BOOTSTRAP_SERVERS",  "KAFKA_GROUP_ID",       "CXONE_BASE_URL",
    "CXONE_TOKEN_URL",          "CXONE_CLIENT_ID",      "CXONE_CLIENT_SECRET",
    "CXONE_WEBHOOK_SECRET",     "CXONE_RATE_LIMIT_RPS", "CXONE_WORKER_ADMIN_LISTEN",
    "CXONE_CLIENT_SECRET_FILE",
};
#define NENV (sizeof(env_names) / sizeof(env_names[0]))

/* The secret given when the input sets none, to look for in the problems. */
#define MARK_SECRET "s3cr3t-Mark-92b1e"

static char path[64]; /* the file of this process, in $TMPDIR */

static void remove_file(void)
{
        if (path[0])
                unlink(path);
}

static void write_file(const uint8_t *data, size_t n)
{
        int fd;

        if (!path[0]) {
                const char *tmp = getenv("TMPDIR");
                snprintf(path, sizeof(path), "%s/cxw-fuzz-config.XXXXXX",
                         tmp && *tmp && strlen(tmp) < 32 ? tmp : "/tmp");
                fd = mkstemp(path);
                FUZZ_CHECK(fd >= 0);
                close(fd);
                atexit(remove_file);
        }
        fd = open(path, O_WRONLY | O_TRUNC);
        FUZZ_CHECK(fd >= 0);
        while (n > 0) {
                ssize_t w = write(fd, data, n);
                FUZZ_CHECK(w > 0);
                data += w;
                n -= (size_t)w;
        }
        close(fd);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        cxw_config_purpose_t purpose = CXW_CONFIG_FOR_WORKER;
        cxw_config_errors_t errs = {0};
        const char *secret = MARK_SECRET;
        const uint8_t *rest;
        size_t tlen, restlen;
        cxw_config_t *cfg;

        if (size > 0 && data[0] == '@') {
                purpose = CXW_CONFIG_FOR_CTL;
                data++;
                size--;
        }
        fuzz_split(data, size, 0, &tlen, &rest, &restlen);
        write_file(data, tlen);
        for (size_t i = 0; i < NENV; i++)
                unsetenv(env_names[i]);
        setenv("CXONE_CLIENT_SECRET", MARK_SECRET, 1);
        for (size_t i = 0; i < NENV && restlen > 0; i++) {
                size_t vlen;
                const uint8_t *next;
                size_t nextlen;
                char *v;

                fuzz_split(rest, restlen, 0, &vlen, &next, &nextlen);
                v = fuzz_strndup(rest, vlen);
                if (vlen > 0)
                        setenv(env_names[i], v, 1);
                if (strcmp(env_names[i], "CXONE_CLIENT_SECRET") == 0 && vlen > 0)
                        secret = NULL; /* the input's own: may be any text */
                free(v);
                rest = next;
                restlen = nextlen;
        }
        /* the marker is looked for only when no other value holds it (the
         * fuzzer learns it from the strstr() below) */
        if (secret && memmem(data, size, secret, strlen(secret)))
                secret = NULL;

        cfg = cxw_config_load(path, purpose, &errs);
        FUZZ_CHECK(cfg != NULL);
        for (size_t i = 0; i < errs.cnt; i++) {
                FUZZ_CHECK(errs.v[i] && errs.v[i][0]);
                if (secret)
                        FUZZ_CHECK(strstr(errs.v[i], secret) == NULL);
        }
        cxw_config_errors_clear(&errs);
        {
                /* the effective config, as --check-config prints it */
                char *dump = NULL;
                size_t dlen = 0;
                FILE *f = open_memstream(&dump, &dlen);
                FUZZ_CHECK(f);
                cxw_config_dump(cfg, f);
                fclose(f);
                if (secret)
                        FUZZ_CHECK(strstr(dump, secret) == NULL);
                free(dump);
        }
        cxw_config_destroy(cfg);
        return 0;
}
