/* sim_main.c: cxone-sim's command line, start-up and shutdown. */
#include "sim.h"

#include "cxone/base/log.h"
#include "cxone/base/util.h"
#include "cxone/io/pem.h"

#include <errno.h>
#include <getopt.h>
#include <math.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>

#include <arpa/inet.h>

#include <curl/curl.h>
#include <openssl/crypto.h>

#define EXIT_USAGE 2

static const char usage[] =
    "Usage: cxone-sim --listen HOST:PORT [options]\n"
    "\n"
    "A CXone API simulator: real HTTP, OAuth client credentials, contact PATCHes,\n"
    "schedule imports (asynchronous jobs, signed webhooks), rate limits, latency\n"
    "and faults on flags. See docs/cxone-sim.md.\n"
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

static int parse_fields(cxw_sim_opts_t *o, const char *list, char *errstr,
                        size_t errstr_size)
{
        const char *p = list;

        for (size_t i = 0; i < o->n_allowed; i++)
                free(o->allowed[i]);
        o->n_allowed = 0;
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
                                 "--allowed-fields: empty or over-long (>64) field name");
                        return -1;
                }
                if (o->n_allowed == CXW_SIM_FIELDS_MAX) {
                        snprintf(errstr, errstr_size,
                                 "--allowed-fields: more than %d fields",
                                 CXW_SIM_FIELDS_MAX);
                        return -1;
                }
                o->allowed[o->n_allowed] = strndup(b, (size_t)(e - b));
                if (!o->allowed[o->n_allowed]) {
                        snprintf(errstr, errstr_size, "out of memory");
                        return -1;
                }
                o->n_allowed++;
                if (!comma)
                        break;
                p = comma + 1;
                if (!*p) {
                        snprintf(errstr, errstr_size, "--allowed-fields: trailing comma");
                        return -1;
                }
        }
        if (o->n_allowed == 0) {
                snprintf(errstr, errstr_size, "--allowed-fields: empty list");
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

/* @returns 0 to run, 1 when --help/--version was answered, -1 on a bad flag. */
static int parse_args(cxw_sim_opts_t *o, int argc, char **argv, char *errstr,
                      size_t errstr_size)
{
        bool have_listen = false;
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
        if (parse_fields(o, "firstName,lastName,email", errstr, errstr_size) != 0)
                return -1;

        opterr = 0;
        optind = 1;
        while ((c = getopt_long(argc, argv, "", long_opts, NULL)) != -1) {
                int rc = 0;
                switch (c) {
                case OPT_LISTEN:
                        rc = parse_listen(o, optarg, errstr, errstr_size);
                        have_listen = true;
                        break;
                case OPT_CLIENT_ID:
                        rc = set_cred("--client-id", o->client_id, sizeof(o->client_id),
                                      optarg, errstr, errstr_size);
                        break;
                case OPT_CLIENT_SECRET:
                        rc = set_cred("--client-secret", o->client_secret,
                                      sizeof(o->client_secret), optarg, errstr,
                                      errstr_size);
                        break;
                case OPT_TOKEN_TTL:
                        rc = parse_int("--token-ttl", optarg, 1, 365LL * 86400,
                                       &o->token_ttl_s, errstr, errstr_size);
                        break;
                case OPT_TOKEN_FAIL_RATE:
                        rc = parse_num("--token-fail-rate", optarg, 0, 1,
                                       &o->token_fail_rate, errstr, errstr_size);
                        break;
                case OPT_RATE_LIMIT:
                        rc = parse_num("--rate-limit", optarg, 0, 1e9, &o->rate_limit,
                                       errstr, errstr_size);
                        break;
                case OPT_BURST:
                        rc = parse_int("--burst", optarg, 1, 1000000000, &o->burst,
                                       errstr, errstr_size);
                        break;
                case OPT_RETRY_AFTER:
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
                case OPT_LATENCY:
                        rc = parse_int("--latency-ms", optarg, 0, 3600000, &o->latency_ms,
                                       errstr, errstr_size);
                        break;
                case OPT_JITTER:
                        rc = parse_int("--latency-jitter-ms", optarg, 0, 3600000,
                                       &o->latency_jitter_ms, errstr, errstr_size);
                        break;
                case OPT_ERROR_RATE:
                        rc = parse_num("--error-rate", optarg, 0, 1, &o->error_rate,
                                       errstr, errstr_size);
                        break;
                case OPT_DROP_RATE:
                        rc = parse_num("--drop-rate", optarg, 0, 1, &o->drop_rate, errstr,
                                       errstr_size);
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
                        rc = parse_fields(o, optarg, errstr, errstr_size);
                        break;
                case OPT_THREADS:
                        rc = parse_int("--threads", optarg, 1, 256, &i64, errstr,
                                       errstr_size);
                        o->threads = (int)i64;
                        break;
                case OPT_JOB_DURATION:
                        rc = parse_int("--job-duration-ms", optarg, 0, 3600000,
                                       &o->job_duration_ms, errstr, errstr_size);
                        break;
                case OPT_JOB_JITTER:
                        rc = parse_int("--job-duration-jitter-ms", optarg, 0, 3600000,
                                       &o->job_jitter_ms, errstr, errstr_size);
                        break;
                case OPT_JOB_FAIL_RATE:
                        rc = parse_num("--job-fail-rate", optarg, 0, 1, &o->job_fail_rate,
                                       errstr, errstr_size);
                        break;
                case OPT_WEBHOOK_URL:
                        rc = cxw_sim_webhook_check_url(optarg, errstr, errstr_size);
                        if (rc == 0)
                                cxw_strlcpy(o->webhook_url, optarg,
                                            sizeof(o->webhook_url));
                        break;
                case OPT_WEBHOOK_SECRET:
                        rc = set_cred("--webhook-secret", o->webhook_secret,
                                      sizeof(o->webhook_secret), optarg, errstr,
                                      errstr_size);
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
        if (!o->tls_cert != !o->tls_key) {
                snprintf(errstr, errstr_size, "--tls-cert and --tls-key go together");
                return -1;
        }
        return 0;
}

/* 1,024 keep-alive clients need more descriptors than the usual soft limit. */
static void raise_fd_limit(void)
{
        struct rlimit rl;

        if (getrlimit(RLIMIT_NOFILE, &rl) != 0)
                return;
        if (rl.rlim_cur < 16384 && rl.rlim_cur < rl.rlim_max) {
                rl.rlim_cur = rl.rlim_max < 16384 ? rl.rlim_max : 16384;
                (void)setrlimit(RLIMIT_NOFILE, &rl);
        }
}

int main(int argc, char **argv)
{
        char errstr[512];
        cxw_sim_opts_t opts;
        cxw_sim_t *sim = NULL;
        cxw_httpd_t *d = NULL;
        sigset_t set;
        uint16_t port = 0;
        const char *scheme;
        int rc, sig = 0, exit_code = 1;
        bool curl_ready = false;

        rc = parse_args(&opts, argc, argv, errstr, sizeof(errstr));
        if (rc != 0) {
                if (rc < 0)
                        fprintf(stderr, "cxone-sim: %s\nTry 'cxone-sim --help'.\n",
                                errstr);
                exit_code = rc < 0 ? EXIT_USAGE : 0;
                goto out;
        }

        /* Threads inherit this mask, so only sigwait() below sees the signals. */
        sigemptyset(&set);
        sigaddset(&set, SIGINT);
        sigaddset(&set, SIGTERM);
        pthread_sigmask(SIG_BLOCK, &set, NULL);
        signal(SIGPIPE, SIG_IGN);
        raise_fd_limit();
        json_object_seed(0); /* before any thread makes a JSON object */
        if (curl_global_init(CURL_GLOBAL_DEFAULT) != CURLE_OK) {
                snprintf(errstr, sizeof(errstr), "libcurl initialisation failed");
                goto fail;
        }
        curl_ready = true;

        if (opts.tls_cert) {
                /* Checked here, so that a bad file is a bad value (exit 2)
                 * with its reason, not a failure to listen. */
                char *cert = NULL, *key = NULL;
                if (cxw_pem_load_pair("--tls-cert/--tls-key:", opts.tls_cert,
                                      opts.tls_key, &cert, &key, errstr,
                                      sizeof(errstr)) != 0) {
                        exit_code = EXIT_USAGE;
                        goto fail;
                }
                free(cert);
                OPENSSL_cleanse(key, strlen(key));
                free(key);
        }
        sim = cxw_sim_new(&opts, errstr, sizeof(errstr));
        if (!sim) {
                /* Out of memory, or a bad --contacts-file: a bad value. */
                exit_code = EXIT_USAGE;
                goto fail;
        }
        sim->delay = cxw_sim_delay_start(errstr, sizeof(errstr));
        if (!sim->delay)
                goto fail;
        if (opts.webhook_url[0]) {
                sim->webhook = cxw_sim_webhook_start(sim, errstr, sizeof(errstr));
                if (!sim->webhook)
                        goto fail;
        }
        sim->jobs = cxw_sim_jobs_start(sim, errstr, sizeof(errstr));
        if (!sim->jobs)
                goto fail;
        d = cxw_sim_http_start(sim, &port, errstr, sizeof(errstr));
        if (!d)
                goto fail;

        scheme = opts.tls_cert ? "https" : "http";
        printf("listening on %s://%s:%u\n", scheme, opts.host, (unsigned)port);
        fflush(stdout);
        CXW_INFO("sim",
                 "listening on %s://%s:%u (threads %d, rate limit %g/s, latency %lld ms)",
                 scheme, opts.host, (unsigned)port, opts.threads, opts.rate_limit,
                 (long long)opts.latency_ms);

        while (sig != SIGINT && sig != SIGTERM) {
                if (sigwait(&set, &sig) != 0)
                        break;
        }
        CXW_INFO("sim", "signal %d: stopping", sig);

        /* MHD must not be stopped with suspended connections: resume the
         * delayed ones, give them a moment to be answered, then stop. */
        cxw_sim_delay_stop(sim->delay);
        for (int i = 0; i < 50 && atomic_load(&sim->in_flight) > 0; i++) {
                struct timespec ts = {0, 10 * 1000000L};
                nanosleep(&ts, NULL);
        }
        atomic_store(&sim->httpd, NULL);
        cxw_httpd_stop(d);
        /* No request left: stop finishing jobs, then stop sending webhooks. */
        cxw_sim_jobs_stop(sim->jobs);
        cxw_sim_webhook_stop(sim->webhook);
        exit_code = 0;
        goto out;
fail:
        fprintf(stderr, "cxone-sim: %s\n", errstr);
out:
        if (sim) {
                cxw_sim_delay_destroy(sim->delay);
                cxw_sim_jobs_destroy(sim->jobs);
                cxw_sim_webhook_destroy(sim->webhook);
                cxw_sim_destroy(sim);
        }
        if (curl_ready)
                curl_global_cleanup();
        for (size_t i = 0; i < opts.n_allowed; i++)
                free(opts.allowed[i]);
        return exit_code;
}
