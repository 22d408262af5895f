/* sim_options.c: cxone-sim's command line: the --help text, every flag,
 * its default and its bounds, into a cxw_sim_opts_t. */
#include "sim.h"

#include "cxone/base/log.h"
#include "cxone/base/util.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <arpa/inet.h>

static const char usage[] =
    "Usage: cxone-sim --listen HOST:PORT [options]\n"
    "\n"
    "A CXone API simulator: real HTTP(S), OAuth client credentials, contact PATCHes,\n"
    "schedule imports (asynchronous jobs, signed webhooks), rate limits, latency\n"
    "and faults on flags; with --profile cxone the real platform's shapes instead\n"
    "(OIDC discovery, access-key tokens, DFO custom fields, address books).\n"
    "See docs/cxone-sim.md.\n"
    "\n"
    "  --listen HOST:PORT          IPv4 address or localhost; PORT 0 picks a free\n"
    "                              port. Prints 'listening on http(s)://HOST:PORT'.\n"
    "  --client-id ID              OAuth client id (default test-client)\n"
    "  --client-secret S           OAuth client secret (default test-secret)\n"
    "  --token-ttl SECONDS         expires_in of issued tokens (default 3600)\n"
    "  --token-fail-rate R         fraction 0..1 of token requests answered 503\n"
    "  --rate-limit RPS            token bucket over /api/ requests, 0 = off (default)\n"
    "  --burst N                   bucket size (default 20)\n"
    "  --retry-after MODE          on 429: seconds (default), date or none\n"
    "  --latency-ms N              delay before answering /api/ requests (default 0)\n"
    "  --latency-jitter-ms N       plus a uniform random 0..N ms (default 0)\n"
    "  --error-rate R              fraction 0..1 of /api/ requests answered 500/502/503\n"
    "  --drop-rate R               fraction 0..1 of /api/ requests closed unanswered\n"
    "  --contacts-file FILE        only the ids listed (one a line) exist\n"
    "  --unknown-contact-prefix P  ids starting with P do not exist (404)\n"
    "  --no-email-validation       accept any string as email\n"
    "  --allowed-fields LIST       PATCH fields allowed, comma-separated\n"
    "                              (default firstName,lastName,email)\n"
    "  --job-duration-ms N         time a schedule import job takes (default 2000)\n"
    "  --job-duration-jitter-ms N  plus a uniform random 0..N ms (default 0)\n"
    "  --job-fail-rate R           fraction 0..1 of import jobs that end FAILED\n"
    "  --webhook-url URL           POST finished jobs to http://127.0.0.1:PORT/path\n"
    "  --webhook-secret S          HMAC-SHA256 key signing them (needs --webhook-url)\n"
    "  --tls-cert FILE             serve HTTPS with this PEM certificate (chain)\n"
    "  --tls-key FILE              and its unencrypted PEM key; both or neither\n"
    "  --profile seed|cxone        the API served (default seed)\n"
    "  --tenant-id ID              cxone: the tenant (default\n"
    "                              11eb2b4a-5c3d-4e6f-8a9b-0c1d2e3f4a5b)\n"
    "  --area AREA                 cxone: area in cxone-configuration (default na1)\n"
    "  --domain DOMAIN             cxone: domain there (default niceincontact.com)\n"
    "  --dfo-base-url URL          cxone: dfo_endpoint there (default the sim's own)\n"
    "  --access-key-id ID          cxone: password grant username\n"
    "                              (default test-access-key-id)\n"
    "  --access-key-secret S       cxone: its password (default test-access-key-secret)\n"
    "  --custom-fields LIST        cxone: custom field idents, comma-separated\n"
    "                              (default firstName,lastName,email)\n"
    "  --admin-prefix P            cxone: path before /address-books\n"
    "                              (default /inContactAPI/services/v30.0)\n"
    "  --address-books LIST        cxone: address book ids, comma-separated (default "
    "1001)\n"
    "  --latency-per-entry-ms N    cxone: address-book PUTs wait N ms more per entry\n"
    "  --threads N                 HTTP worker threads (default 2)\n"
    "  --seed N                    random seed, to repeat a fault run\n"
    "  --log-level LEVEL           error, warn, info (default) or debug\n"
    "  --help                      this text\n"
    "  --version                   the version\n";

enum {
        OPT_LISTEN = 256,
        OPT_CLIENT_ID,
        OPT_CLIENT_SECRET,
        OPT_TOKEN_TTL,
        OPT_TOKEN_FAIL_RATE,
        OPT_RATE_LIMIT,
        OPT_BURST,
        OPT_RETRY_AFTER,
        OPT_LATENCY,
        OPT_JITTER,
        OPT_ERROR_RATE,
        OPT_DROP_RATE,
        OPT_CONTACTS_FILE,
        OPT_UNKNOWN_PREFIX,
        OPT_NO_EMAIL,
        OPT_ALLOWED,
        OPT_THREADS,
        OPT_JOB_DURATION,
        OPT_JOB_JITTER,
        OPT_JOB_FAIL_RATE,
        OPT_WEBHOOK_URL,
        OPT_WEBHOOK_SECRET,
        OPT_SEED,
        OPT_TLS_CERT,
        OPT_TLS_KEY,
        OPT_PROFILE,
        OPT_TENANT_ID,
        OPT_AREA,
        OPT_DOMAIN,
        OPT_DFO_BASE_URL,
        OPT_ACCESS_KEY_ID,
        OPT_ACCESS_KEY_SECRET,
        OPT_CUSTOM_FIELDS,
        OPT_ADMIN_PREFIX,
        OPT_ADDRESS_BOOKS,
        OPT_LATENCY_PER_ENTRY,
        OPT_LOG_LEVEL,
        OPT_HELP,
        OPT_VERSION,
};

static const struct option long_opts[] = {
    {"listen", required_argument, NULL, OPT_LISTEN},
    {"client-id", required_argument, NULL, OPT_CLIENT_ID},
    {"client-secret", required_argument, NULL, OPT_CLIENT_SECRET},
    {"token-ttl", required_argument, NULL, OPT_TOKEN_TTL},
    {"token-fail-rate", required_argument, NULL, OPT_TOKEN_FAIL_RATE},
    {"rate-limit", required_argument, NULL, OPT_RATE_LIMIT},
    {"burst", required_argument, NULL, OPT_BURST},
    {"retry-after", required_argument, NULL, OPT_RETRY_AFTER},
    {"latency-ms", required_argument, NULL, OPT_LATENCY},
    {"latency-jitter-ms", required_argument, NULL, OPT_JITTER},
    {"error-rate", required_argument, NULL, OPT_ERROR_RATE},
    {"drop-rate", required_argument, NULL, OPT_DROP_RATE},
    {"contacts-file", required_argument, NULL, OPT_CONTACTS_FILE},
    {"unknown-contact-prefix", required_argument, NULL, OPT_UNKNOWN_PREFIX},
    {"no-email-validation", no_argument, NULL, OPT_NO_EMAIL},
    {"allowed-fields", required_argument, NULL, OPT_ALLOWED},
    {"threads", required_argument, NULL, OPT_THREADS},
    {"job-duration-ms", required_argument, NULL, OPT_JOB_DURATION},
    {"job-duration-jitter-ms", required_argument, NULL, OPT_JOB_JITTER},
    {"job-fail-rate", required_argument, NULL, OPT_JOB_FAIL_RATE},
    {"webhook-url", required_argument, NULL, OPT_WEBHOOK_URL},
    {"webhook-secret", required_argument, NULL, OPT_WEBHOOK_SECRET},
    {"seed", required_argument, NULL, OPT_SEED},
    {"tls-cert", required_argument, NULL, OPT_TLS_CERT},
    {"tls-key", required_argument, NULL, OPT_TLS_KEY},
    {"profile", required_argument, NULL, OPT_PROFILE},
    {"tenant-id", required_argument, NULL, OPT_TENANT_ID},
    {"area", required_argument, NULL, OPT_AREA},
    {"domain", required_argument, NULL, OPT_DOMAIN},
    {"dfo-base-url", required_argument, NULL, OPT_DFO_BASE_URL},
    {"access-key-id", required_argument, NULL, OPT_ACCESS_KEY_ID},
    {"access-key-secret", required_argument, NULL, OPT_ACCESS_KEY_SECRET},
    {"custom-fields", required_argument, NULL, OPT_CUSTOM_FIELDS},
    {"admin-prefix", required_argument, NULL, OPT_ADMIN_PREFIX},
    {"address-books", required_argument, NULL, OPT_ADDRESS_BOOKS},
    {"latency-per-entry-ms", required_argument, NULL, OPT_LATENCY_PER_ENTRY},
    {"log-level", required_argument, NULL, OPT_LOG_LEVEL},
    {"help", no_argument, NULL, OPT_HELP},
    {"version", no_argument, NULL, OPT_VERSION},
    {NULL, 0, NULL, 0},
};

static int parse_int(const char *flag, const char *s, int64_t min, int64_t max,
                     int64_t *out, char *errstr, size_t errstr_size)
{
        char *end;
        long long v;

        errno = 0;
        v = strtoll(s, &end, 10);
        if (errno || end == s || *end || v < min || v > max) {
                snprintf(errstr, errstr_size,
                         "%s: '%s' is not an integer from %lld to %lld", flag, s,
                         (long long)min, (long long)max);
                return -1;
        }
        *out = v;
        return 0;
}

static int parse_num(const char *flag, const char *s, double min, double max, double *out,
                     char *errstr, size_t errstr_size)
{
        char *end;
        double v;

        errno = 0;
        v = strtod(s, &end);
        if (errno || end == s || *end || !isfinite(v) || v < min || v > max) {
                snprintf(errstr, errstr_size, "%s: '%s' is not a number from %g to %g",
                         flag, s, min, max);
                return -1;
        }
        *out = v;
        return 0;
}

static int parse_listen(cxw_sim_opts_t *o, const char *s, char *errstr,
                        size_t errstr_size)
{
        const char *colon = strrchr(s, ':');
        struct in_addr a;
        size_t hlen;
        int64_t port;

        if (!colon || colon == s) {
                snprintf(errstr, errstr_size, "--listen: '%s' is not HOST:PORT", s);
                return -1;
        }
        hlen = (size_t)(colon - s);
        if (hlen >= sizeof(o->host)) {
                snprintf(errstr, errstr_size, "--listen: host too long");
                return -1;
        }
        memcpy(o->host, s, hlen);
        o->host[hlen] = '\0';
        if (strcmp(o->host, "localhost") == 0) {
                cxw_strlcpy(o->addr, "127.0.0.1", sizeof(o->addr));
        } else if (inet_pton(AF_INET, o->host, &a) == 1) {
                cxw_strlcpy(o->addr, o->host, sizeof(o->addr));
        } else {
                snprintf(errstr, errstr_size,
                         "--listen: host '%s' is not an IPv4 address or localhost",
                         o->host);
                return -1;
        }
        if (parse_int("--listen port", colon + 1, 0, 65535, &port, errstr, errstr_size) !=
            0)
                return -1;
        o->port = (uint16_t)port;
        return 0;
}

/* A comma-separated list of names for flag into names[] / *n (the old list
 * freed). */
static int parse_names(const char *flag, char **names, size_t *n, const char *list,
                       char *errstr, size_t errstr_size)
{
        const char *p = list;

        for (size_t i = 0; i < *n; i++)
                free(names[i]);
        *n = 0;
        while (*p) {
                const char *comma = strchr(p, ',');
                const char *end = comma ? comma : p + strlen(p);
                const char *b = p, *e = end;

                while (b < e && (*b == ' ' || *b == '\t'))
                        b++;
                while (e > b && (e[-1] == ' ' || e[-1] == '\t'))
                        e--;
                if (e == b || e - b > 64) {
                        snprintf(errstr, errstr_size,
                                 "%s: empty or over-long (>64) field name", flag);
                        return -1;
                }
                if (*n == CXW_SIM_FIELDS_MAX) {
                        snprintf(errstr, errstr_size, "%s: more than %d fields", flag,
                                 CXW_SIM_FIELDS_MAX);
                        return -1;
                }
                names[*n] = strndup(b, (size_t)(e - b));
                if (!names[*n]) {
                        snprintf(errstr, errstr_size, "out of memory");
                        return -1;
                }
                (*n)++;
                if (!comma)
                        break;
                p = comma + 1;
                if (!*p) {
                        snprintf(errstr, errstr_size, "%s: trailing comma", flag);
                        return -1;
                }
        }
        if (*n == 0) {
                snprintf(errstr, errstr_size, "%s: empty list", flag);
                return -1;
        }
        return 0;
}

/* A printable ASCII value without spaces of 1 to size-1 characters. */
static int set_text(const char *flag, char *dst, size_t size, const char *v, char *errstr,
                    size_t errstr_size)
{
        for (const char *p = v; *p; p++) {
                if (*p <= ' ' || *p > '~') {
                        snprintf(errstr, errstr_size,
                                 "%s: only printable characters without spaces", flag);
                        return -1;
                }
        }
        if (!*v || strlen(v) >= size) {
                snprintf(errstr, errstr_size, "%s: must be 1 to %zu characters", flag,
                         size - 1);
                return -1;
        }
        cxw_strlcpy(dst, v, size);
        return 0;
}

/* An http:// or https:// URL without a trailing slash. */
static int set_url(const char *flag, char *dst, size_t size, const char *v, char *errstr,
                   size_t errstr_size)
{
        size_t n = strlen(v);

        if (set_text(flag, dst, size, v, errstr, errstr_size) != 0)
                return -1;
        if ((strncmp(v, "http://", 7) != 0 && strncmp(v, "https://", 8) != 0) ||
            v[n - 1] == '/' || n <= 8) {
                snprintf(errstr, errstr_size,
                         "%s: want http(s)://HOST[:PORT][/PATH] without a trailing /",
                         flag);
                dst[0] = '\0';
                return -1;
        }
        return 0;
}

static int set_cred(const char *flag, char *dst, size_t size, const char *v, char *errstr,
                    size_t errstr_size)
{
        /* The value is not echoed: it may be a secret. */
        if (!*v || strlen(v) >= size) {
                snprintf(errstr, errstr_size, "%s: must be 1 to %zu characters", flag,
                         size - 1);
                return -1;
        }
        cxw_strlcpy(dst, v, size);
        return 0;
}

/* The flags that only set one field: a number within bounds, or a text
 * (checked as set_text(), set_cred() or set_url() do). The rest are cases of
 * their own in cxw_sim_opts_parse(). */
enum flag_kind { FLAG_INT, FLAG_NUM, FLAG_TEXT, FLAG_CRED, FLAG_URL };

#define FIELD(f) offsetof(cxw_sim_opts_t, f), sizeof(((cxw_sim_opts_t *)0)->f)

static const struct flag {
        int opt;
        const char *name;
        enum flag_kind kind;
        double min, max;  /* FLAG_INT, FLAG_NUM */
        size_t off, size; /* the field in cxw_sim_opts_t */
} flags[] = {
    {OPT_CLIENT_ID, "--client-id", FLAG_CRED, 0, 0, FIELD(client_id)},
    {OPT_CLIENT_SECRET, "--client-secret", FLAG_CRED, 0, 0, FIELD(client_secret)},
    {OPT_TOKEN_TTL, "--token-ttl", FLAG_INT, 1, 365.0 * 86400, FIELD(token_ttl_s)},
    {OPT_TOKEN_FAIL_RATE, "--token-fail-rate", FLAG_NUM, 0, 1, FIELD(token_fail_rate)},
    {OPT_RATE_LIMIT, "--rate-limit", FLAG_NUM, 0, 1e9, FIELD(rate_limit)},
    {OPT_BURST, "--burst", FLAG_INT, 1, 1e9, FIELD(burst)},
    {OPT_LATENCY, "--latency-ms", FLAG_INT, 0, 3600000, FIELD(latency_ms)},
    {OPT_JITTER, "--latency-jitter-ms", FLAG_INT, 0, 3600000, FIELD(latency_jitter_ms)},
    {OPT_ERROR_RATE, "--error-rate", FLAG_NUM, 0, 1, FIELD(error_rate)},
    {OPT_DROP_RATE, "--drop-rate", FLAG_NUM, 0, 1, FIELD(drop_rate)},
    {OPT_JOB_DURATION, "--job-duration-ms", FLAG_INT, 0, 3600000, FIELD(job_duration_ms)},
    {OPT_JOB_JITTER, "--job-duration-jitter-ms", FLAG_INT, 0, 3600000,
     FIELD(job_jitter_ms)},
    {OPT_JOB_FAIL_RATE, "--job-fail-rate", FLAG_NUM, 0, 1, FIELD(job_fail_rate)},
    {OPT_WEBHOOK_SECRET, "--webhook-secret", FLAG_CRED, 0, 0, FIELD(webhook_secret)},
    {OPT_TENANT_ID, "--tenant-id", FLAG_TEXT, 0, 0, FIELD(tenant_id)},
    {OPT_AREA, "--area", FLAG_TEXT, 0, 0, FIELD(area)},
    {OPT_DOMAIN, "--domain", FLAG_TEXT, 0, 0, FIELD(domain)},
    {OPT_DFO_BASE_URL, "--dfo-base-url", FLAG_URL, 0, 0, FIELD(dfo_base_url)},
    {OPT_ACCESS_KEY_ID, "--access-key-id", FLAG_CRED, 0, 0, FIELD(access_key_id)},
    {OPT_ACCESS_KEY_SECRET, "--access-key-secret", FLAG_CRED, 0, 0,
     FIELD(access_key_secret)},
    {OPT_ADMIN_PREFIX, "--admin-prefix", FLAG_TEXT, 0, 0, FIELD(admin_prefix)},
    {OPT_LATENCY_PER_ENTRY, "--latency-per-entry-ms", FLAG_INT, 0, 10000,
     FIELD(latency_per_entry_ms)},
};

static int set_flag(const struct flag *f, cxw_sim_opts_t *o, const char *v, char *errstr,
                    size_t errstr_size)
{
        void *dst = (char *)o + f->off;

        switch (f->kind) {
        case FLAG_INT:
                return parse_int(f->name, v, (int64_t)f->min, (int64_t)f->max, dst,
                                 errstr, errstr_size);
        case FLAG_NUM:
                return parse_num(f->name, v, f->min, f->max, dst, errstr, errstr_size);
        case FLAG_TEXT:
                return set_text(f->name, dst, f->size, v, errstr, errstr_size);
        case FLAG_CRED:
                return set_cred(f->name, dst, f->size, v, errstr, errstr_size);
        case FLAG_URL:
                return set_url(f->name, dst, f->size, v, errstr, errstr_size);
        }
        return -1;
}

static const struct flag *find_flag(int opt)
{
        for (size_t i = 0; i < sizeof(flags) / sizeof(flags[0]); i++)
                if (flags[i].opt == opt)
                        return &flags[i];
        return NULL;
}

int cxw_sim_opts_parse(cxw_sim_opts_t *o, int argc, char **argv, char *errstr,
                       size_t errstr_size)
{
        bool have_listen = false, retry_after_given = false;
        int64_t i64;
        int c;

        memset(o, 0, sizeof(*o));
        cxw_strlcpy(o->client_id, "test-client", sizeof(o->client_id));
        cxw_strlcpy(o->client_secret, "test-secret", sizeof(o->client_secret));
        o->token_ttl_s = 3600;
        o->burst = 20;
        o->retry_after = CXW_SIM_RETRY_SECONDS;
        o->email_validation = true;
        o->threads = 2;
        o->job_duration_ms = 2000;
        cxw_strlcpy(o->tenant_id, "11eb2b4a-5c3d-4e6f-8a9b-0c1d2e3f4a5b",
                    sizeof(o->tenant_id));
        cxw_strlcpy(o->area, "na1", sizeof(o->area));
        cxw_strlcpy(o->domain, "niceincontact.com", sizeof(o->domain));
        cxw_strlcpy(o->access_key_id, "test-access-key-id", sizeof(o->access_key_id));
        cxw_strlcpy(o->access_key_secret, "test-access-key-secret",
                    sizeof(o->access_key_secret));
        if (parse_names("--allowed-fields", o->allowed, &o->n_allowed,
                        "firstName,lastName,email", errstr, errstr_size) != 0 ||
            parse_names("--custom-fields", o->idents, &o->n_idents,
                        "firstName,lastName,email", errstr, errstr_size) != 0 ||
            parse_names("--address-books", o->books, &o->n_books, "1001", errstr,
                        errstr_size) != 0)
                return -1;
        cxw_strlcpy(o->admin_prefix, "/inContactAPI/services/v30.0",
                    sizeof(o->admin_prefix));

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
                int rc = 0;
                switch (c) {
                case OPT_LISTEN:
                        rc = parse_listen(o, optarg, errstr, errstr_size);
                        have_listen = true;
                        break;
                case OPT_RETRY_AFTER:
                        retry_after_given = true;
                        if (!strcmp(optarg, "seconds")) {
                                o->retry_after = CXW_SIM_RETRY_SECONDS;
                        } else if (!strcmp(optarg, "date")) {
                                o->retry_after = CXW_SIM_RETRY_DATE;
                        } else if (!strcmp(optarg, "none")) {
                                o->retry_after = CXW_SIM_RETRY_NONE;
                        } else {
                                snprintf(
                                    errstr, errstr_size,
                                    "--retry-after: '%s' is not seconds, date or none",
                                    optarg);
                                rc = -1;
                        }
                        break;
                case OPT_CONTACTS_FILE:
                        o->contacts_file = optarg;
                        break;
                case OPT_UNKNOWN_PREFIX:
                        if (!*optarg || strlen(optarg) > CXW_SIM_ID_MAX) {
                                snprintf(errstr, errstr_size,
                                         "--unknown-contact-prefix: must be 1 to %d "
                                         "characters",
                                         CXW_SIM_ID_MAX);
                                rc = -1;
                        } else {
                                cxw_strlcpy(o->unknown_prefix, optarg,
                                            sizeof(o->unknown_prefix));
                        }
                        break;
                case OPT_NO_EMAIL:
                        o->email_validation = false;
                        break;
                case OPT_ALLOWED:
                        rc = parse_names("--allowed-fields", o->allowed, &o->n_allowed,
                                         optarg, errstr, errstr_size);
                        break;
                case OPT_THREADS:
                        rc = parse_int("--threads", optarg, 1, 256, &i64, errstr,
                                       errstr_size);
                        o->threads = (int)i64;
                        break;
                case OPT_WEBHOOK_URL:
                        rc = cxw_sim_webhook_check_url(optarg, errstr, errstr_size);
                        if (rc == 0)
                                cxw_strlcpy(o->webhook_url, optarg,
                                            sizeof(o->webhook_url));
                        break;
                case OPT_SEED:
                        rc = parse_int("--seed", optarg, 0, INT64_MAX, &i64, errstr,
                                       errstr_size);
                        /* 0 would mean "from the clock": map it to a fixed seed. */
                        o->seed = i64 ? (uint64_t)i64 : 0x5EEDULL;
                        break;
                case OPT_TLS_CERT:
                        o->tls_cert = optarg;
                        break;
                case OPT_TLS_KEY:
                        o->tls_key = optarg;
                        break;
                case OPT_PROFILE:
                        if (!strcmp(optarg, "seed")) {
                                o->profile = CXW_SIM_PROFILE_SEED;
                        } else if (!strcmp(optarg, "cxone")) {
                                o->profile = CXW_SIM_PROFILE_CXONE;
                        } else {
                                snprintf(errstr, errstr_size,
                                         "--profile: '%.64s' is not seed or cxone",
                                         optarg);
                                rc = -1;
                        }
                        break;
                case OPT_CUSTOM_FIELDS:
                        rc = parse_names("--custom-fields", o->idents, &o->n_idents,
                                         optarg, errstr, errstr_size);
                        break;
                case OPT_ADDRESS_BOOKS:
                        rc = parse_names("--address-books", o->books, &o->n_books, optarg,
                                         errstr, errstr_size);
                        break;
                case OPT_LOG_LEVEL:
                        if (cxw_log_set_level(optarg) != 0) {
                                snprintf(
                                    errstr, errstr_size,
                                    "--log-level: '%s' is not error, warn, info or debug",
                                    optarg);
                                rc = -1;
                        }
                        break;
                case OPT_HELP:
                        fputs(usage, stdout);
                        return 1;
                case OPT_VERSION:
                        printf("cxone-sim %s\n", CXW_VERSION);
                        return 1;
                case ':':
                        snprintf(errstr, errstr_size, "%s needs a value",
                                 argv[optind - 1]);
                        rc = -1;
                        break;
                default:
                        if (find_flag(c)) {
                                rc = set_flag(find_flag(c), o, optarg, errstr,
                                              errstr_size);
                                break;
                        }
                        if (optopt && optopt >= OPT_LISTEN)
                                snprintf(errstr, errstr_size, "%s needs a value",
                                         argv[optind - 1]);
                        else
                                snprintf(errstr, errstr_size, "unknown option %s",
                                         argv[optind - 1]);
                        rc = -1;
                        break;
                }
                if (rc != 0)
                        return -1;
        }
        if (optind < argc) {
                snprintf(errstr, errstr_size, "unexpected argument '%s'", argv[optind]);
                return -1;
        }
        if (!have_listen) {
                snprintf(errstr, errstr_size, "--listen HOST:PORT is required");
                return -1;
        }
        /* Webhooks are signed or not sent: the receiver must be able to trust
         * them. */
        if (!o->webhook_url[0] != !o->webhook_secret[0]) {
                snprintf(errstr, errstr_size,
                         "--webhook-url and --webhook-secret go together");
                return -1;
        }
        /* The cxone profile never says when to come back (no Retry-After):
         * a --retry-after would be ignored, so it is refused. */
        if (o->profile == CXW_SIM_PROFILE_CXONE && retry_after_given) {
                snprintf(errstr, errstr_size,
                         "--retry-after is for the seed profile: --profile cxone answers "
                         "429 without Retry-After");
                return -1;
        }
        if (!o->tls_cert != !o->tls_key) {
                snprintf(errstr, errstr_size, "--tls-cert and --tls-key go together");
                return -1;
        }
        return cxw_sim_ab_opts_check(o, errstr, errstr_size);
}

void cxw_sim_opts_free(cxw_sim_opts_t *o)
{
        for (size_t i = 0; i < o->n_allowed; i++)
                free(o->allowed[i]);
        o->n_allowed = 0;
        for (size_t i = 0; i < o->n_idents; i++)
                free(o->idents[i]);
        o->n_idents = 0;
        for (size_t i = 0; i < o->n_books; i++)
                free(o->books[i]);
        o->n_books = 0;
}
