/* fuzz_config.c: a configuration file and the environment overrides
 * through cxw_config_load() (libconfig's parser, the property table, every
 * check). Input: the file's text, then NUL-separated values of the
 * overriding variables in the order of env_names[] (an empty value or a
 * missing one: unset). A first byte '@' loads for cxonectl instead of the
 * worker.
 *
 * The loader reads a path: the text is written to a memfd of this process
 * (a regular file in memory), loaded as /proc/self/fd/N, so stat(), the
 * size check and libconfig's config_read_file() run as on a real file. A
 * file on disk was rewritten per input, and truncating it on an ext4 mounted
 * with discard waits for the device: the harness ran at 150-450 executions/s,
 * mostly blocked. The overrides go into an environment array of the harness
 * (environ), not through setenv(): glibc's setenv() keeps every value ever
 * set, so a million inputs would grow the process without bound.
 *
 * Beyond not crashing: a config is returned (nothing runs out of memory
 * here) and destroyed; every problem is a non-empty line; no problem text
 * holds the client secret set in the environment, nor does the dump of
 * the effective configuration. */
#include "fuzz_common.h"

#include "cxone/base/config.h"

#include <sys/mman.h>
#include <unistd.h>

extern char **environ;

/* Every variable of the property table (config_table.c); the first ten in
 * the order the seeds were written for, the ones added since after them. */
static const char *const env_names[] = {
    "KAFKA_BOOTSTRAP_SERVERS",
    "KAFKA_GROUP_ID",
    "CXONE_BASE_URL",
    "CXONE_TOKEN_URL",
    "CXONE_CLIENT_ID",
    "CXONE_CLIENT_SECRET",
    "CXONE_WEBHOOK_SECRET",
    "CXONE_RATE_LIMIT_RPS",
    "CXONE_WORKER_ADMIN_LISTEN",
    "CXONE_CLIENT_SECRET_FILE",
    "CXONE_ALLOW_INSECURE_HTTP",
    "CXONE_PEER_SECRET",
    "CXONE_PEER_SECRET_FILE",
    "CXONE_WORKER_ID",
    "KAFKA_EXACTLY_ONCE",
    "CXONE_PROFILE",
    "CXONE_ISSUER_URL",
    "CXONE_TENANT_ID",
    "CXONE_ACCESS_KEY_ID",
    "CXONE_ACCESS_KEY_SECRET",
    "CXONE_ACCESS_KEY_SECRET_FILE",
    "CXONE_DFO_BASE_URL",
    "CXONE_CA_FILE",
    "CXONE_CONTACTS_TARGET",
    "CXONE_ADDRESS_BOOK_ID",
};
#define NENV (sizeof(env_names) / sizeof(env_names[0]))

/* The secret given when the input sets none, to look for in the problems. */
#define MARK_SECRET "s3cr3t-Mark-92b1e"

static char path[64]; /* /proc/self/fd/N of the memfd */
static int memfd = -1;

/* The environment of one input: the process's own variables but the ones
 * above (kept from the start), then "NAME=value" of the input's. */
static char **env;           /* NULL-terminated */
static size_t nbase;         /* inherited entries at the start of env */
static char *vars[NENV + 1]; /* this input's "NAME=value" strings */

static void write_file(const uint8_t *data, size_t n)
{
        if (memfd < 0) {
                memfd = memfd_create("cxw-fuzz-config", MFD_CLOEXEC);
                FUZZ_CHECK(memfd >= 0);
                snprintf(path, sizeof(path), "/proc/self/fd/%d", memfd);
        }
        FUZZ_CHECK(ftruncate(memfd, 0) == 0);
        for (off_t off = 0; n > 0;) {
                ssize_t w = pwrite(memfd, data, n, off);
                FUZZ_CHECK(w > 0);
                data += w;
                off += w;
                n -= (size_t)w;
        }
}

static int is_fuzzed(const char *entry)
{
        for (size_t i = 0; i < NENV; i++) {
                size_t n = strlen(env_names[i]);
                if (strncmp(entry, env_names[i], n) == 0 && entry[n] == '=')
                        return 1;
        }
        return 0;
}

static void env_init(void)
{
        size_t n = 0;

        while (environ[n])
                n++;
        env = calloc(n + NENV + 2, sizeof(*env));
        FUZZ_CHECK(env);
        for (size_t i = 0; i < n; i++)
                if (!is_fuzzed(environ[i]))
                        env[nbase++] = environ[i];
        environ = env;
}

/* vars[k] = "name=value" (value: len bytes) for this input. */
static void env_set(size_t k, const char *name, const uint8_t *v, size_t len)
{
        size_t nl = strlen(name);
        char *e = malloc(nl + 1 + len + 1);

        FUZZ_CHECK(e);
        memcpy(e, name, nl);
        e[nl] = '=';
        memcpy(e + nl + 1, v, len);
        e[nl + 1 + len] = '\0';
        vars[k] = e;
}

/* The input's variables into environ. */
static void env_publish(size_t nvars)
{
        for (size_t i = 0; i < nvars; i++)
                env[nbase + i] = vars[i];
        env[nbase + nvars] = NULL;
}

static void env_clear(size_t nvars)
{
        env[nbase] = NULL;
        for (size_t i = 0; i < nvars; i++) {
                free(vars[i]);
                vars[i] = NULL;
        }
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        cxw_config_purpose_t purpose = CXW_CONFIG_FOR_WORKER;
        cxw_config_errors_t errs = {0};
        const char *secret = MARK_SECRET;
        const uint8_t *rest;
        size_t tlen, restlen;
        cxw_config_t *cfg;
        size_t nvars = 0;

        if (size > 0 && data[0] == '@') {
                purpose = CXW_CONFIG_FOR_CTL;
                data++;
                size--;
        }
        fuzz_split(data, size, 0, &tlen, &rest, &restlen);
        write_file(data, tlen);
        if (!env)
                env_init();
        for (size_t i = 0; i < NENV && restlen > 0; i++) {
                size_t vlen;
                const uint8_t *next;
                size_t nextlen;

                fuzz_split(rest, restlen, 0, &vlen, &next, &nextlen);
                if (vlen > 0) {
                        env_set(nvars++, env_names[i], rest, vlen);
                        if (strcmp(env_names[i], "CXONE_CLIENT_SECRET") == 0)
                                secret = NULL; /* the input's own: may be any text */
                }
                rest = next;
                restlen = nextlen;
        }
        if (secret)
                env_set(nvars++, "CXONE_CLIENT_SECRET", (const uint8_t *)MARK_SECRET,
                        strlen(MARK_SECRET));
        env_publish(nvars);
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
        env_clear(nvars);
        return 0;
}
