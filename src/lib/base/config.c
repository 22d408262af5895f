/* config.c: one property table; a libconfig file and the environment are read
 * through it into cxw_config_t, checked, dumped and documented from it. */
#include "cxone/base/config.h"
#include "cxone/base/util.h"

#include <ctype.h>
#include <errno.h>
#include <fcntl.h>
#include <libconfig.h>
#include <limits.h>
#include <math.h>
#include <stdarg.h>
#include <stdbool.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>
#include <unistd.h>

/* Every input from outside has a bound. */
#define MAX_FILE_BYTES   (1024 * 1024) /* the config file */
#define MAX_STR_BYTES    4096          /* any string value */
#define MAX_LIST_ITEMS   256           /* any list */
#define MAX_SECRET_BYTES 4096          /* the client secret file */
#define MAX_ERRORS       100           /* problems listed; then one "more" line */
#define MAX_PATH_CHARS   256           /* a dotted key in the file */

typedef enum {
        PT_STR,
        PT_INT,
        PT_INT64,
        PT_DBL,
        PT_BOOL,
        PT_LIST,
} ptype_t;

/* Checks on a value. Those marked (worker) concern the CXone side and run
 * only for CXW_CONFIG_FOR_WORKER: cxonectl talks to Kafka only. */
enum {
        PF_NONEMPTY = 1 << 0,  /* string or list must not be empty */
        PF_TOPIC = 1 << 1,     /* a Kafka topic name */
        PF_PROPS = 1 << 2,     /* list of "name=value" */
        PF_LOGLEVEL = 1 << 3,  /* error|warn|info|debug */
        PF_LISTEN = 1 << 4,    /* "" or HOST:PORT */
        PF_URL = 1 << 5,       /* (worker) http(s) URL with a host */
        PF_REQUIRED = 1 << 6,  /* (worker) must be set */
        PF_METHOD = 1 << 7,    /* (worker) PATCH|PUT|POST */
        PF_CONTACTID = 1 << 8, /* (worker) contains "{contactId}" */
        PF_IDENTS = 1 << 9,    /* (worker) non-empty list of identifiers */
        PF_SECRET = 1 << 10,   /* never shown anywhere */
        PF_FILE = 1 << 11,     /* path of a file holding the secret */
        PF_DERIVED = 1 << 12,  /* "" means: computed after loading */
        PF_VALUES = 1 << 13,   /* (worker) non-empty list of API values */
        PF_ASSIGN = 1 << 14,   /* cooperative-sticky|eager */
};

typedef struct prop_s {
        const char *path; /* dotted: group.key */
        ptype_t type;
        size_t off;      /* offsetof into cxw_config_t */
        const char *def; /* default, in the env syntax; lists comma-separated */
        double min, max; /* numbers only */
        const char *env; /* override, or NULL */
        int flags;
        const char *doc_def; /* shown instead of def in the reference, or NULL */
        const char *desc;
} prop_t;

#define OFF(f) offsetof(cxw_config_t, f)
#define MS_MAX 3600000.0 /* one hour */

/* The table. The order is the order of the reference, the dump and the
 * example config/cxone-worker.conf. */
static const prop_t props[] = {
    /* kafka */
    {"kafka.bootstrap_servers", PT_STR, OFF(bootstrap_servers), "127.0.0.1:9092", 0, 0,
     "KAFKA_BOOTSTRAP_SERVERS", PF_NONEMPTY, NULL,
     "Kafka brokers, comma-separated host:port."},
    {"kafka.group_id", PT_STR, OFF(group_id), "cxone-worker", 0, 0, "KAFKA_GROUP_ID",
     PF_NONEMPTY, NULL, "Consumer group shared by all worker replicas."},
    {"kafka.properties", PT_LIST, OFF(kafka_props), "", 0, 0, NULL, PF_PROPS, NULL,
     "librdkafka properties for consumer and producer, each `name=value`, passed "
     "through unchanged."},
    {"kafka.consumer_properties", PT_LIST, OFF(consumer_props), "", 0, 0, NULL, PF_PROPS,
     NULL, "librdkafka properties for the consumer only, each `name=value`."},
    {"kafka.producer_properties", PT_LIST, OFF(producer_props), "", 0, 0, NULL, PF_PROPS,
     NULL, "librdkafka properties for the producer only, each `name=value`."},
    {"kafka.statistics_interval_ms", PT_INT, OFF(kafka_stats_interval_ms), "5000", 100,
     MS_MAX, NULL, 0, NULL,
     "How often the worker's consumer takes librdkafka's statistics: the consumer lag "
     "of each assigned partition (`cxw_consumer_lag` on /metrics) and whether brokers "
     "are up (`/readyz`)."},
    {"kafka.assignment", PT_STR, OFF(kafka_assignment), "cooperative-sticky", 0, 0, NULL,
     PF_ASSIGN, NULL,
     "How the group moves partitions when a replica joins or leaves. "
     "`cooperative-sticky` (incremental): only the partitions that must move are "
     "revoked, the others keep working through the rebalance. `eager`: every join or "
     "leave revokes every partition of every replica (librdkafka's `range,roundrobin`). "
     "All replicas of a group must agree; switching a running group takes two rolling "
     "restarts (docs/operations.md, Scaling out and in). `partition.assignment.strategy` "
     "in kafka.consumer_properties overrides it."},
    {"kafka.static_membership", PT_BOOL, OFF(kafka_static_membership), "false", 0, 0,
     NULL, 0, NULL,
     "Static group membership: `group.instance.id` = worker.id, so a replica that "
     "restarts within `session.timeout.ms` gets its partitions back without a "
     "rebalance. worker.id must then be stable and unique per replica (the pod name of a "
     "StatefulSet); a replica that stops holds its partitions until its session times "
     "out (docs/operations.md)."},
    {"kafka.topics.contact_updates", PT_STR, OFF(topic_contacts), "cxone.contact-updates",
     0, 0, NULL, PF_NONEMPTY | PF_TOPIC, NULL, "Topic of contact update requests."},
    {"kafka.topics.schedule_imports", PT_STR, OFF(topic_schedules),
     "cxone.schedule-imports", 0, 0, NULL, PF_NONEMPTY | PF_TOPIC, NULL,
     "Topic of schedule import requests."},
    {"kafka.topics.results", PT_STR, OFF(topic_results), "cxone.results", 0, 0, NULL,
     PF_NONEMPTY | PF_TOPIC, NULL, "Topic of outcomes, one per request."},
    {"kafka.topics.audit", PT_STR, OFF(topic_audit), "cxone.audit", 0, 0, NULL,
     PF_NONEMPTY | PF_TOPIC, NULL, "Topic of audit events."},
    {"kafka.topics.dlq", PT_STR, OFF(topic_dlq), "cxone.dlq", 0, 0, NULL,
     PF_NONEMPTY | PF_TOPIC, NULL,
     "Dead-letter topic: copies of rejected and failed requests."},
    {"kafka.topics.budget", PT_STR, OFF(topic_budget), "cxone.budget", 0, 0, NULL,
     PF_TOPIC, NULL,
     "Topic where replicas report whether they have demand, so that idle ones lend "
     "their rate share to busy ones, and their 429 trips, so that all pause together "
     "and share one estimate of CXone's rate; \"\" turns both off (each replica keeps "
     "assigned / all partitions of `rate.rps` and, with a share below 1, the plain "
     "cut on a 429)."},

    /* cxone */
    {"cxone.base_url", PT_STR, OFF(base_url), "http://127.0.0.1:8080", 0, 0,
     "CXONE_BASE_URL", PF_URL, NULL,
     "CXone API base URL (https://; http:// only to loopback, or with "
     "cxone.allow_insecure_http)."},
    {"cxone.token_url", PT_STR, OFF(token_url), "", 0, 0, "CXONE_TOKEN_URL",
     PF_URL | PF_DERIVED, "{base_url}/oauth/token",
     "OAuth token endpoint (client credentials); empty means `{base_url}/oauth/token`."},
    {"cxone.allow_insecure_http", PT_BOOL, OFF(allow_insecure_http), "false", 0, 0,
     "CXONE_ALLOW_INSECURE_HTTP", 0, NULL,
     "Accept `http://` in cxone.base_url and cxone.token_url for a host that is not "
     "loopback (127.0.0.0/8, ::1, localhost), which sends the client secret and the "
     "access token in clear text; logged as a warning. Off: such a URL is an error. "
     "Loopback is always accepted over http://."},
    {"cxone.client_id", PT_STR, OFF(client_id), "", 0, 0, "CXONE_CLIENT_ID", PF_REQUIRED,
     NULL, "OAuth client id. Required by the worker."},
    {"cxone.client_secret", PT_STR, OFF(client_secret), "", 0, 0, "CXONE_CLIENT_SECRET",
     PF_REQUIRED | PF_SECRET, NULL,
     "OAuth client secret. Required by the worker: set it, or client_secret_file, not "
     "both. Prefer the environment or a file over this key."},
    {"cxone.client_secret_file", PT_STR, OFF(client_secret_file), "", 0, 0,
     "CXONE_CLIENT_SECRET_FILE", PF_FILE, NULL,
     "File holding the client secret (at most 4 KiB; one trailing newline is removed)."},
    {"cxone.scope", PT_STR, OFF(scope), "", 0, 0, NULL, 0, NULL,
     "OAuth scope for the token request; may be empty."},
    {"cxone.contacts.path", PT_STR, OFF(contacts_path), "/api/v2/contacts/{contactId}", 0,
     0, NULL, PF_CONTACTID, NULL,
     "Path of the contact update call; `{contactId}` is replaced by the contact id."},
    {"cxone.contacts.method", PT_STR, OFF(contacts_method), "PATCH", 0, 0, NULL,
     PF_METHOD, NULL, "HTTP method of the contact update call."},
    {"cxone.contacts.fields", PT_LIST, OFF(contact_fields), "firstName,lastName,email", 0,
     0, NULL, PF_IDENTS, NULL,
     "Fields a contact update may change; any other field is rejected."},

    /* schedule imports */
    {"cxone.schedules.import_path", PT_STR, OFF(schedules_import_path),
     "/api/v2/wfm/schedules/import", 0, 0, NULL, PF_NONEMPTY, NULL,
     "Path of the schedule import call (POST, answered 202 with a jobId)."},
    {"cxone.schedules.job_path", PT_STR, OFF(schedules_job_path),
     "/api/v2/wfm/async-jobs/{jobId}", 0, 0, NULL, PF_NONEMPTY, NULL,
     "Path of the async job status call (GET); `{jobId}` is replaced by the job id."},
    {"schedules.max_concurrent", PT_INT, OFF(schedules_max_concurrent), "3", 1, 1000,
     NULL, 0, NULL,
     "Schedule imports in progress at once in one replica (submitted, job not ended); "
     "the rest wait in order."},
    {"schedules.poll_interval_ms", PT_INT, OFF(schedules_poll_interval_ms), "1000", 10,
     MS_MAX, NULL, 0, NULL,
     "First delay between polls of an import job; it grows x1.5. With webhooks "
     "on (webhooks.secret and worker.admin_listen set) polls start at "
     "poll_max_interval_ms."},
    {"schedules.poll_max_interval_ms", PT_INT, OFF(schedules_poll_max_interval_ms),
     "10000", 10, MS_MAX, NULL, 0, NULL, "Longest delay between polls of an import job."},
    {"schedules.max_wait_ms", PT_INT, OFF(schedules_max_wait_ms), "1800000", 1000, MS_MAX,
     NULL, 0, NULL, "Longest wait for an import job to end; then the import is failed."},
    {"schedules.max_shift_minutes", PT_INT, OFF(schedules_max_shift_minutes), "960", 1,
     10080, NULL, 0, NULL, "Longest shift accepted by validation."},
    {"schedules.max_entries", PT_INT, OFF(schedules_max_entries), "5000", 1, 1000000,
     NULL, 0, NULL, "Most schedule entries in one import."},
    {"schedules.validation_modes", PT_LIST, OFF(schedules_validation_modes),
     "STRICT,LENIENT", 0, 0, NULL, PF_VALUES, NULL,
     "Values an import's `validationMode` may have (matched exactly); any other is "
     "rejected. Passed to CXone unchanged: `STRICT` asks it to refuse an import with "
     "any invalid entry, `LENIENT` to import the valid entries (the worker validates "
     "every entry before sending either way)."},
    {"schedules.conflict_resolutions", PT_LIST, OFF(schedules_conflict_resolutions),
     "AUTO_RESOLVE,OVERWRITE,SKIP,FAIL", 0, 0, NULL, PF_VALUES, NULL,
     "Values an import's `conflictResolution` may have (matched exactly); any other is "
     "rejected. Passed to CXone unchanged, which decides what to do with shifts that "
     "overlap shifts already in the calendar: `AUTO_RESOLVE` lets CXone resolve them, "
     "`OVERWRITE` replaces the old shifts, `SKIP` leaves the import's conflicting "
     "entries out, `FAIL` fails the import."},
    {"webhooks.secret", PT_STR, OFF(webhook_secret), "", 0, 0, "CXONE_WEBHOOK_SECRET",
     PF_SECRET, NULL,
     "Shared secret of the HMAC-SHA256 signature of CXone's webhooks (POST "
     "/webhooks/cxone on the admin listener); empty = webhooks refused."},
    {"webhooks.tolerance_s", PT_INT, OFF(webhook_tolerance_s), "300", 1, 86400, NULL, 0,
     NULL, "Largest clock difference accepted in a webhook's timestamp."},

    /* http */
    {"http.max_in_flight", PT_INT, OFF(max_in_flight), "64", 1, 65536, NULL, 0, NULL,
     "Most CXone requests in flight at once in one replica."},
    {"http.max_connections", PT_INT, OFF(max_connections), "64", 1, 65536, NULL, 0, NULL,
     "Most connections to CXone at once in one replica (HTTP/1.1: one request each). "
     "Requests in flight beyond it wait, in order, for a free connection; their "
     "timeout starts when they get one."},
    {"http.connect_timeout_ms", PT_INT, OFF(connect_timeout_ms), "5000", 1, MS_MAX, NULL,
     0, NULL, "TCP and TLS connect timeout."},
    {"http.request_timeout_ms", PT_INT, OFF(request_timeout_ms), "30000", 1, MS_MAX, NULL,
     0, NULL, "Whole-request timeout."},
    {"http.outage_threshold", PT_INT, OFF(outage_threshold), "10", 0, 1000, NULL, 0, NULL,
     "Calls in a row answered 5xx or not at all after which CXone counts as down: "
     "new calls wait, one probe call at a time finds out when it is back, "
     "consumption pauses, and the failures of the outage do not count against "
     "the requests' retry.max_attempts (retry.max_elapsed_ms still does). 0 = off: "
     "every failure counts against its request."},
    {"http.outage_probe_ms", PT_INT, OFF(outage_probe_ms), "1000", 1, MS_MAX, NULL, 0,
     NULL,
     "Wait before the first probe of an outage; it doubles after each failed probe, "
     "up to retry.max_delay_ms."},
    {"http.max_response_bytes", PT_INT, OFF(max_response_bytes), "1048576", 1024,
     1073741824, NULL, 0, NULL,
     "Largest response body read; a larger one fails the call."},

    /* retry */
    {"retry.max_attempts", PT_INT, OFF(retry_max_attempts), "10", 1, 1000, NULL, 0, NULL,
     "Most attempts of one request, the first included."},
    {"retry.max_elapsed_ms", PT_INT, OFF(retry_max_elapsed_ms), "600000", 1, 86400000,
     NULL, 0, NULL, "Retry budget of one request in time, from its first attempt."},
    {"retry.base_delay_ms", PT_INT, OFF(retry_base_delay_ms), "200", 1, MS_MAX, NULL, 0,
     NULL, "First backoff delay; it doubles per attempt, with jitter."},
    {"retry.max_delay_ms", PT_INT, OFF(retry_max_delay_ms), "30000", 1, MS_MAX, NULL, 0,
     NULL, "Longest backoff delay; at least retry.base_delay_ms."},

    /* token */
    {"token.refresh_ahead_ms", PT_INT, OFF(token_refresh_ahead_ms), "60000", 0, MS_MAX,
     NULL, 0, NULL, "Refresh the access token this long before it expires."},
    {"token.request_timeout_ms", PT_INT, OFF(token_timeout_ms), "10000", 1, MS_MAX, NULL,
     0, NULL, "Timeout of one token request."},
    {"token.min_refresh_interval_ms", PT_INT, OFF(token_min_refresh_ms), "30000", 0,
     MS_MAX, NULL, 0, NULL,
     "Least time between two token fetches after the endpoint answered 200, however "
     "short the token's expires_in (or 0, refused): a token living less than this "
     "leaves requests waiting for the next fetch rather than fetching in a loop. A "
     "401 is not held back. 0 = no floor."},

    /* rate */
    {"rate.rps", PT_DBL, OFF(rate_rps), "100", 0, 1e6, "CXONE_RATE_LIMIT_RPS", 0, NULL,
     "Requests per second to CXone for the whole consumer group; 0 = no limit."},
    {"rate.burst", PT_INT, OFF(rate_burst), "20", 1, 1000000, NULL, 0, NULL,
     "Token bucket size of the total rate."},
    {"rate.contacts_rps", PT_DBL, OFF(rate_contacts_rps), "0", 0, 1e6, NULL, 0, NULL,
     "Contact update calls per second; 0 = up to the total."},
    {"rate.contacts_burst", PT_INT, OFF(rate_contacts_burst), "0", 0, 1000000, NULL, 0,
     NULL, "Bucket size for contact updates; 0 = rate.burst."},
    {"rate.schedules_rps", PT_DBL, OFF(rate_schedules_rps), "0", 0, 1e6, NULL, 0, NULL,
     "Schedule import calls per second; 0 = up to the total."},
    {"rate.schedules_burst", PT_INT, OFF(rate_schedules_burst), "0", 0, 1000000, NULL, 0,
     NULL, "Bucket size for schedule imports; 0 = rate.burst."},
    {"rate.polls_rps", PT_DBL, OFF(rate_polls_rps), "0", 0, 1e6, NULL, 0, NULL,
     "Async job status polls per second; 0 = up to the total."},
    {"rate.polls_burst", PT_INT, OFF(rate_polls_burst), "0", 0, 1000000, NULL, 0, NULL,
     "Bucket size for job polls; 0 = rate.burst."},
    {"rate.share_interval_ms", PT_INT, OFF(rate_share_interval_ms), "250", 50, 10000,
     NULL, 0, NULL,
     "How often a replica reports its demand on kafka.topics.budget. A replica counts "
     "as idle after this long without work; reports older than 3 intervals are "
     "ignored."},
    {"rate.peer_secret", PT_STR, OFF(peer_secret), "", 0, 0, "CXONE_PEER_SECRET",
     PF_SECRET, NULL,
     "Group key of the budget reports: each replica signs its reports with "
     "HMAC-SHA256 under it and ignores (and counts) reports not so signed. Set the same "
     "one on every replica; set it, or peer_secret_file, not both. Empty = reports "
     "unsigned, and what one can do is bounded (docs/security.md)."},
    {"rate.peer_secret_file", PT_STR, OFF(peer_secret_file), "", 0, 0,
     "CXONE_PEER_SECRET_FILE", PF_FILE, NULL,
     "File holding rate.peer_secret (at most 4 KiB; one trailing newline is removed)."},

    /* limits */
    {"limits.max_buffered_messages", PT_INT, OFF(max_buffered_messages), "10000", 1,
     10000000, NULL, 0, NULL,
     "Most consumed messages not yet finished; above it partitions are paused."},
    {"limits.max_buffered_bytes", PT_INT64, OFF(max_buffered_bytes), "67108864", 1024,
     1099511627776.0, NULL, 0, NULL,
     "Memory for consumed messages not yet finished, librdkafka's prefetch included: a "
     "quarter goes to the prefetch (`queued.max.messages.kbytes` and "
     "`queued.min.messages` are derived from it unless set in kafka.properties or "
     "kafka.consumer_properties), the rest bounds the requests, each counted as the "
     "heap it really holds (copy of key, value and headers, PATCH body or decoded "
     "import, error text, dispatcher entry, records awaiting Kafka's acknowledgement); "
     "above it partitions are paused. See docs/operations.md, Memory. Values above "
     "2147483647 need an L suffix (libconfig)."},
    {"limits.max_message_bytes", PT_INT, OFF(max_message_bytes), "983040", 64, 1000000000,
     NULL, 0, NULL,
     "Largest request message accepted; a larger one is rejected without being read. "
     "With 16 KiB of room for its DLQ copy's key and headers it must fit the "
     "producer's `message.max.bytes` (1000000 unless set in kafka.properties or "
     "kafka.producer_properties); a DLQ copy that still does not fit is truncated "
     "(docs/messages.md)."},
    {"limits.resume_ratio", PT_DBL, OFF(resume_ratio), "0.5", 0.1, 0.95, NULL, 0, NULL,
     "Paused partitions resume when the buffers fall below this share of the limits."},

    /* worker */
    {"worker.id", PT_STR, OFF(worker_id), "", 0, 0, "CXONE_WORKER_ID", PF_DERIVED,
     "<hostname>-<pid>",
     "Name of this replica in audit events and logs, and its `group.instance.id` with "
     "kafka.static_membership; empty means `<hostname>-<pid>`."},
    {"worker.shutdown_deadline_ms", PT_INT, OFF(shutdown_deadline_ms), "30000", 1, MS_MAX,
     NULL, 0, NULL, "On SIGTERM, time given to requests in flight before exiting."},
    {"worker.log_level", PT_STR, OFF(log_level), "info", 0, 0, NULL, PF_LOGLEVEL, NULL,
     "Log threshold."},
    {"worker.allow_core_dumps", PT_BOOL, OFF(allow_core_dumps), "false", 0, 0, NULL, 0,
     NULL,
     "Leave core dumps on. Off (the default), cxone-worker and cxonectl turn them off at "
     "start (RLIMIT_CORE 0, not dumpable), as a core would hold the client secret and "
     "access tokens."},
    {"worker.admin_listen", PT_STR, OFF(admin_listen), "", 0, 0,
     "CXONE_WORKER_ADMIN_LISTEN", PF_LISTEN, NULL,
     "HOST:PORT of the admin HTTP server (/metrics, /healthz, /readyz, webhooks); empty "
     "= "
     "off. `:PORT` binds every interface, with a warning in the log: write "
     "`0.0.0.0:PORT` to mean it."},
    {"worker.admin_max_connections", PT_INT, OFF(admin_max_connections), "64", 2, 4096,
     NULL, 0, NULL,
     "Connections the admin listener holds at once; more wait in the backlog of "
     "the same size, then are refused."},
    {"worker.admin_max_connections_per_client", PT_INT,
     OFF(admin_max_connections_per_client), "8", 1, 4096, NULL, 0, NULL,
     "Of them, connections from one client IP address; more are closed at "
     "once. Keep it well below worker.admin_max_connections, so that one client "
     "cannot take them all and the probes still get in."},
    {"worker.admin_request_deadline_ms", PT_INT, OFF(admin_request_deadline_ms), "5000",
     100, MS_MAX, NULL, 0, NULL,
     "Time an admin connection may take over one request, from its accept (or "
     "its previous answer) until the answer, however slowly it sends: past it "
     "the connection is closed. The idle timeout (10 s) only counts silence."},
};

#define NPROPS (sizeof(props) / sizeof(props[0]))

typedef enum { FROM_DEFAULT, FROM_FILE, FROM_ENV, FROM_DERIVED } from_t;

/* Where a value came from, to say so in a problem. file points into the
 * libconfig object (ctx->lc), which lives until the end of cxw_config_load(). */
typedef struct origin_s {
        from_t from;
        const char *file;
        int line;
        const char *env;
} origin_t;

typedef struct ctx_s {
        cxw_config_t *cfg;
        cxw_config_errors_t *errs;
        cxw_config_purpose_t purpose;
        const char *path;
        config_t lc; /* the file read, kept for the file names in orig */
        bool lc_live;
        origin_t orig[NPROPS];
        size_t dropped; /* problems beyond MAX_ERRORS */
        bool oom;
} ctx_t;

static void *field(cxw_config_t *cfg, const prop_t *p)
{
        return (char *)cfg + p->off;
}

static const void *cfield(const cxw_config_t *cfg, const prop_t *p)
{
        return (const char *)cfg + p->off;
}

static const prop_t *find_prop(const char *path)
{
        for (size_t i = 0; i < NPROPS; i++)
                if (!strcmp(props[i].path, path))
                        return &props[i];
        return NULL;
}

/* ---- problems ---------------------------------------------------------- */

static void add_errv(ctx_t *ctx, const char *fmt, va_list ap)
{
        char *msg = NULL;
        char **v;

        if (ctx->errs->cnt >= MAX_ERRORS) {
                ctx->dropped++;
                return;
        }
        if (vasprintf(&msg, fmt, ap) < 0) {
                ctx->oom = true;
                return;
        }
        v = realloc(ctx->errs->v, (ctx->errs->cnt + 1) * sizeof(*v));
        if (!v) {
                free(msg);
                ctx->oom = true;
                return;
        }
        v[ctx->errs->cnt++] = msg;
        ctx->errs->v = v;
}

static void add_err(ctx_t *ctx, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static void add_err(ctx_t *ctx, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        add_errv(ctx, fmt, ap);
        va_end(ap);
}

/* A problem with a value: "file:line: key: msg", "ENV (key): msg" or
 * "key: msg", depending on where the value came from. */
static void prop_err(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *fmt, ...)
    __attribute__((format(printf, 4, 5)));
static void prop_err(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *fmt, ...)
{
        char msg[1024];
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);
        if (o->from == FROM_FILE)
                add_err(ctx, "%s:%d: %s: %s", o->file, o->line, p->path, msg);
        else if (o->from == FROM_ENV)
                add_err(ctx, "%s (%s): %s", o->env, p->path, msg);
        else
                add_err(ctx, "%s: %s", p->path, msg);
}

/* Does a librdkafka property name (or a "name=value" item that failed to
 * split) say it holds a secret: sasl.password, ssl.key.password,
 * ssl.key.pem, sasl.oauthbearer.client.secret, ...? Its value is never
 * shown. */
static bool kafka_prop_secret(const char *name)
{
        static const char *const words[] = {"password", "secret", "key"};

        for (size_t i = 0; i < sizeof(words) / sizeof(words[0]); i++)
                if (strcasestr(name, words[i]))
                        return true;
        return false;
}

/* Shows a rejected value, unless it is the secret. Bounded. */
static const char *shown(const prop_t *p, const char *v)
{
        return (p->flags & PF_SECRET) ? "(hidden)" : v;
}

/* ---- storing values ---------------------------------------------------- */

/* Wiped: a librdkafka property may hold a password. */
static void strlist_free(cxw_strlist_t *l)
{
        for (size_t i = 0; i < l->cnt; i++) {
                explicit_bzero(l->v[i], strlen(l->v[i]));
                free(l->v[i]);
        }
        free(l->v);
        l->v = NULL;
        l->cnt = 0;
}

static int set_str(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *v)
{
        char **dst = field(ctx->cfg, p);
        char *copy;

        if (strlen(v) > MAX_STR_BYTES) {
                prop_err(ctx, p, o, "longer than %d bytes", MAX_STR_BYTES);
                return -1;
        }
        copy = strdup(v);
        if (!copy) {
                ctx->oom = true;
                return -1;
        }
        free(*dst);
        *dst = copy;
        return 0;
}

static int set_int(ctx_t *ctx, const prop_t *p, const origin_t *o, long long v)
{
        if ((double)v < p->min || (double)v > p->max) {
                prop_err(ctx, p, o, "%lld is out of range %.15g..%.15g", v, p->min,
                         p->max);
                return -1;
        }
        if (p->type == PT_INT64)
                *(int64_t *)field(ctx->cfg, p) = (int64_t)v;
        else
                *(int *)field(ctx->cfg, p) = (int)v;
        return 0;
}

static int set_dbl(ctx_t *ctx, const prop_t *p, const origin_t *o, double v)
{
        if (!isfinite(v) || v < p->min || v > p->max) {
                prop_err(ctx, p, o, "%g is out of range %.15g..%.15g", v, p->min, p->max);
                return -1;
        }
        *(double *)field(ctx->cfg, p) = v;
        return 0;
}

static int set_bool(ctx_t *ctx, const prop_t *p, bool v)
{
        *(bool *)field(ctx->cfg, p) = v;
        return 0;
}

/* Takes ownership of items (cnt strings). */
static int set_list(ctx_t *ctx, const prop_t *p, char **items, size_t cnt)
{
        cxw_strlist_t *l = field(ctx->cfg, p);

        strlist_free(l);
        l->v = items;
        l->cnt = cnt;
        return 0;
}

/* Splits "a,b,c" (the env and default syntax of a list); empty gives []. */
static int set_list_csv(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *v)
{
        char **items = NULL;
        size_t cnt = 0;
        const char *s = v;

        while (*v && s) {
                const char *comma = strchr(s, ',');
                size_t len = comma ? (size_t)(comma - s) : strlen(s);
                char **grown;

                if (cnt >= MAX_LIST_ITEMS) {
                        prop_err(ctx, p, o, "more than %d items", MAX_LIST_ITEMS);
                        goto fail;
                }
                grown = realloc(items, (cnt + 1) * sizeof(*items));
                if (!grown)
                        goto oom;
                items = grown;
                items[cnt] = strndup(s, len);
                if (!items[cnt])
                        goto oom;
                cnt++;
                s = comma ? comma + 1 : NULL;
        }
        return set_list(ctx, p, items, cnt);
oom:
        ctx->oom = true;
fail:
        for (size_t i = 0; i < cnt; i++)
                free(items[i]);
        free(items);
        return -1;
}

/* A value in the text form of the environment and of the table defaults. */
static int set_text(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *v)
{
        char *end = NULL;

        switch (p->type) {
        case PT_STR:
                return set_str(ctx, p, o, v);
        case PT_INT:
        case PT_INT64: {
                long long n;

                errno = 0;
                n = strtoll(v, &end, 10);
                if (errno || end == v || *end) {
                        prop_err(ctx, p, o, "expected an integer, got '%.64s'", v);
                        return -1;
                }
                return set_int(ctx, p, o, n);
        }
        case PT_DBL: {
                double d;

                errno = 0;
                d = strtod(v, &end);
                if (errno || end == v || *end || !isfinite(d)) {
                        prop_err(ctx, p, o, "expected a number, got '%.64s'", v);
                        return -1;
                }
                return set_dbl(ctx, p, o, d);
        }
        case PT_BOOL:
                if (!strcasecmp(v, "true") || !strcmp(v, "1") || !strcasecmp(v, "yes"))
                        return set_bool(ctx, p, true);
                if (!strcasecmp(v, "false") || !strcmp(v, "0") || !strcasecmp(v, "no"))
                        return set_bool(ctx, p, false);
                prop_err(ctx, p, o, "expected true or false, got '%.64s'", v);
                return -1;
        case PT_LIST:
                return set_list_csv(ctx, p, o, v);
        }
        return -1;
}

/* ---- the file ---------------------------------------------------------- */

static origin_t file_origin(const ctx_t *ctx, const config_setting_t *s)
{
        origin_t o = {FROM_FILE, config_setting_source_file(s),
                      (int)config_setting_source_line(s), NULL};

        if (!o.file)
                o.file = ctx->path;
        return o;
}

static int set_from_setting(ctx_t *ctx, const prop_t *p, const config_setting_t *s)
{
        origin_t o = file_origin(ctx, s);
        int type = config_setting_type(s);
        int rc = -1;

        switch (p->type) {
        case PT_STR:
                if (type != CONFIG_TYPE_STRING)
                        prop_err(ctx, p, &o, "expected a string");
                else
                        rc = set_str(ctx, p, &o, config_setting_get_string(s));
                break;
        case PT_INT:
        case PT_INT64:
                if (type != CONFIG_TYPE_INT && type != CONFIG_TYPE_INT64)
                        prop_err(ctx, p, &o, "expected an integer");
                else
                        rc = set_int(ctx, p, &o, config_setting_get_int64(s));
                break;
        case PT_DBL:
                if (type == CONFIG_TYPE_FLOAT)
                        rc = set_dbl(ctx, p, &o, config_setting_get_float(s));
                else if (type == CONFIG_TYPE_INT || type == CONFIG_TYPE_INT64)
                        rc = set_dbl(ctx, p, &o, (double)config_setting_get_int64(s));
                else
                        prop_err(ctx, p, &o, "expected a number");
                break;
        case PT_BOOL:
                if (type != CONFIG_TYPE_BOOL)
                        prop_err(ctx, p, &o, "expected true or false");
                else
                        rc = set_bool(ctx, p, config_setting_get_bool(s) != 0);
                break;
        case PT_LIST: {
                int n = config_setting_length(s);
                char **items;
                int i;

                if (type != CONFIG_TYPE_LIST && type != CONFIG_TYPE_ARRAY) {
                        prop_err(ctx, p, &o,
                                 "expected a list of strings, [\"...\", ...]");
                        break;
                }
                if (n > MAX_LIST_ITEMS) {
                        prop_err(ctx, p, &o, "more than %d items", MAX_LIST_ITEMS);
                        break;
                }
                for (i = 0; i < n; i++) {
                        const config_setting_t *e =
                            config_setting_get_elem(s, (unsigned)i);
                        origin_t eo = file_origin(ctx, e);

                        if (config_setting_type(e) != CONFIG_TYPE_STRING) {
                                prop_err(ctx, p, &eo, "item %d: expected a string",
                                         i + 1);
                                break;
                        }
                        if (strlen(config_setting_get_string(e)) > MAX_STR_BYTES) {
                                prop_err(ctx, p, &eo, "item %d: longer than %d bytes",
                                         i + 1, MAX_STR_BYTES);
                                break;
                        }
                }
                if (i < n)
                        break;
                items = calloc(n > 0 ? (size_t)n : 1, sizeof(*items));
                if (!items) {
                        ctx->oom = true;
                        break;
                }
                for (i = 0; i < n; i++) {
                        items[i] = strdup(config_setting_get_string_elem(s, i));
                        if (!items[i]) {
                                ctx->oom = true;
                                while (i-- > 0)
                                        free(items[i]);
                                free(items);
                                return -1;
                        }
                }
                rc = set_list(ctx, p, items, (size_t)n);
                break;
        }
        }
        if (rc == 0)
                ctx->orig[p - props] = o;
        return rc;
}

/* Is path a group of the table ("kafka", "kafka.topics", ...)? */
static bool is_group(const char *path)
{
        size_t len = strlen(path);

        for (size_t i = 0; i < NPROPS; i++)
                if (!strncmp(props[i].path, path, len) && props[i].path[len] == '.')
                        return true;
        return false;
}

/* Edit distance, for "did you mean"; both strings are short. */
static size_t distance(const char *a, const char *b)
{
        size_t la = strlen(a), lb = strlen(b);
        size_t row[MAX_PATH_CHARS + 1];

        if (la > MAX_PATH_CHARS || lb > MAX_PATH_CHARS)
                return SIZE_MAX;
        for (size_t j = 0; j <= lb; j++)
                row[j] = j;
        for (size_t i = 1; i <= la; i++) {
                size_t diag = row[0];

                row[0] = i;
                for (size_t j = 1; j <= lb; j++) {
                        size_t up = row[j];
                        size_t best = diag + (a[i - 1] != b[j - 1]);

                        if (up + 1 < best)
                                best = up + 1;
                        if (row[j - 1] + 1 < best)
                                best = row[j - 1] + 1;
                        row[j] = best;
                        diag = up;
                }
        }
        return row[lb];
}

/* The key most like path: a small typo, a left-out suffix, or the same last
 * name in another group; NULL if none is close. */
static const char *suggest(const char *path)
{
        const char *best = NULL, *leaf = strrchr(path, '.');
        size_t best_d = 3; /* accept up to 2 edits */

        for (size_t i = 0; i < NPROPS; i++) {
                size_t d = distance(path, props[i].path);

                if (d < best_d) {
                        best_d = d;
                        best = props[i].path;
                }
        }
        if (best)
                return best;
        for (size_t i = 0; i < NPROPS; i++) /* a suffix left out: _ms */
                if (!strncmp(props[i].path, path, strlen(path)) &&
                    props[i].path[strlen(path)] == '_')
                        return props[i].path;
        leaf = leaf ? leaf + 1 : path;
        for (size_t i = 0; i < NPROPS; i++) {
                const char *pl = strrchr(props[i].path, '.') + 1;

                if (!strcmp(pl, leaf))
                        return props[i].path;
        }
        return NULL;
}

static void walk(ctx_t *ctx, const config_setting_t *grp, const char *prefix)
{
        int n = config_setting_length(grp);

        for (int i = 0; i < n; i++) {
                const config_setting_t *s = config_setting_get_elem(grp, (unsigned)i);
                const char *name = config_setting_name(s);
                origin_t o = file_origin(ctx, s);
                char path[MAX_PATH_CHARS];
                const prop_t *p;
                const char *hint;

                snprintf(path, sizeof(path), "%s%s%s", prefix, *prefix ? "." : "",
                         name ? name : "?");
                p = find_prop(path);
                if (p) {
                        set_from_setting(ctx, p, s);
                } else if (is_group(path)) {
                        if (config_setting_is_group(s))
                                walk(ctx, s, path);
                        else
                                add_err(ctx, "%s:%d: %s: expected a group, %s = { ... };",
                                        o.file, o.line, path, path);
                } else if ((hint = suggest(path)) != NULL) {
                        add_err(ctx, "%s:%d: unknown key '%s' (did you mean '%s'?)",
                                o.file, o.line, path, hint);
                } else {
                        add_err(ctx, "%s:%d: unknown key '%s'", o.file, o.line, path);
                }
        }
}

/* Reads path into the config. @returns 0, or -1 when the file could not be
 * read or parsed (the problem is recorded). */
static int load_file(ctx_t *ctx, const char *path)
{
        config_t *lc = &ctx->lc;
        struct stat st;

        if (stat(path, &st) != 0) {
                add_err(ctx, "%s: cannot read: %s", path, strerror(errno));
                return -1;
        }
        if (!S_ISREG(st.st_mode) || st.st_size > MAX_FILE_BYTES) {
                add_err(ctx, "%s: not a regular file of at most %d bytes", path,
                        MAX_FILE_BYTES);
                return -1;
        }
        config_init(lc);
        ctx->lc_live = true;
        /* No auto-conversion: the type of every value is checked here, and
         * int-for-double is accepted explicitly. */
        config_set_options(lc, 0);
        if (!config_read_file(lc, path)) {
                if (config_error_type(lc) == CONFIG_ERR_PARSE)
                        add_err(ctx, "%s:%d: %s",
                                config_error_file(lc) ? config_error_file(lc) : path,
                                config_error_line(lc), config_error_text(lc));
                else
                        add_err(ctx, "%s: cannot read: %s", path, config_error_text(lc));
                return -1;
        }
        walk(ctx, config_root_setting(lc), "");
        return 0;
}

/* ---- the environment --------------------------------------------------- */

static const char *env_of(const prop_t *p)
{
        const char *v = p->env ? getenv(p->env) : NULL;

        /* An empty variable counts as unset, as compose files often pass
         * "${VAR:-}" through. */
        return v && *v ? v : NULL;
}

/* Secrets that may come from a file: the key, then the key of its file. */
static const char *const secret_pairs[][2] = {
    {"cxone.client_secret", "cxone.client_secret_file"},
    {"rate.peer_secret", "rate.peer_secret_file"},
};

static void load_env(ctx_t *ctx)
{
        for (size_t k = 0; k < sizeof(secret_pairs) / sizeof(secret_pairs[0]); k++) {
                const prop_t *sec = find_prop(secret_pairs[k][0]);
                const prop_t *secf = find_prop(secret_pairs[k][1]);

                /* The secret and its file are one setting in two forms: either
                 * form in the environment replaces both forms of the file. */
                if (env_of(sec) || env_of(secf)) {
                        set_str(ctx, sec, &ctx->orig[sec - props], "");
                        set_str(ctx, secf, &ctx->orig[secf - props], "");
                        ctx->orig[sec - props].from = FROM_DEFAULT;
                        ctx->orig[secf - props].from = FROM_DEFAULT;
                }
        }
        for (size_t i = 0; i < NPROPS; i++) {
                const prop_t *p = &props[i];
                const char *v = env_of(p);
                origin_t o = {FROM_ENV, NULL, 0, p->env};

                if (!v)
                        continue;
                if (strlen(v) > MAX_STR_BYTES) {
                        prop_err(ctx, p, &o, "longer than %d bytes", MAX_STR_BYTES);
                        continue;
                }
                if (set_text(ctx, p, &o, v) == 0)
                        ctx->orig[i] = o;
        }
}

/* ---- derived values and the secret file -------------------------------- */

/* Reads the secret of key name from the file named by key name_file. */
static void read_secret_file(ctx_t *ctx, const char *name, const char *name_file)
{
        const prop_t *sec = find_prop(name);
        const prop_t *secf = find_prop(name_file);
        const origin_t *so = &ctx->orig[sec - props], *fo = &ctx->orig[secf - props];
        const char *path = *(char **)field(ctx->cfg, secf);
        char buf[MAX_SECRET_BYTES + 1];
        struct stat st;
        size_t len = 0;
        ssize_t n = 0;
        int fd;

        if (!*path)
                return;
        if (**(char **)field(ctx->cfg, sec)) {
                prop_err(ctx, secf, fo, "set only one of %s (%s) and %s (%s)%s",
                         sec->path, sec->env, secf->path, secf->env,
                         so->from == FROM_FILE ? " (the file sets both)" : "");
                return;
        }
        /* Only the worker uses the secrets; cxonectl need not reach the file. */
        if (ctx->purpose != CXW_CONFIG_FOR_WORKER)
                return;
        /* O_NONBLOCK: a FIFO without a writer must not hang the start. */
        fd = open(path, O_RDONLY | O_CLOEXEC | O_NONBLOCK);
        if (fd < 0) {
                prop_err(ctx, secf, fo, "cannot read '%.512s': %s", path,
                         strerror(errno));
                return;
        }
        if (fstat(fd, &st) != 0 || !S_ISREG(st.st_mode)) {
                prop_err(ctx, secf, fo, "'%.512s' is not a regular file", path);
                goto out;
        }
        while (len < sizeof(buf)) {
                n = read(fd, buf + len, sizeof(buf) - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0)
                        break;
                len += (size_t)n;
        }
        if (n < 0) {
                prop_err(ctx, secf, fo, "cannot read '%.512s': %s", path,
                         strerror(errno));
                goto out;
        }
        if (len > MAX_SECRET_BYTES) {
                prop_err(ctx, secf, fo, "'%.512s' is larger than %d bytes", path,
                         MAX_SECRET_BYTES);
                goto out;
        }
        if (len > 0 && buf[len - 1] == '\n')
                len--;
        if (len > 0 && buf[len - 1] == '\r')
                len--;
        buf[len] = '\0';
        if (len == 0) {
                prop_err(ctx, secf, fo, "'%.512s' is empty", path);
                goto out;
        }
        if (memchr(buf, '\0', len)) {
                prop_err(ctx, secf, fo, "'%.512s' holds a NUL byte", path);
                goto out;
        }
        if (set_str(ctx, sec, fo, buf) == 0)
                ctx->orig[sec - props] = *fo;
out:
        explicit_bzero(buf, sizeof(buf));
        close(fd);
}

static void derive(ctx_t *ctx)
{
        cxw_config_t *cfg = ctx->cfg;
        const prop_t *tok = find_prop("cxone.token_url");
        const prop_t *wid = find_prop("worker.id");
        origin_t o = {FROM_DERIVED, NULL, 0, NULL};
        char buf[MAX_STR_BYTES + 64];

        if (!*cfg->token_url) {
                size_t len = strlen(cfg->base_url);

                while (len > 0 && cfg->base_url[len - 1] == '/')
                        len--;
                snprintf(buf, sizeof(buf), "%.*s/oauth/token", (int)len, cfg->base_url);
                if (set_str(ctx, tok, &o, buf) == 0)
                        ctx->orig[tok - props] = o;
        }
        if (!*cfg->worker_id) {
                char host[256] = "localhost";

                if (gethostname(host, sizeof(host)) != 0 || !*host)
                        cxw_strlcpy(host, "localhost", sizeof(host));
                host[sizeof(host) - 1] = '\0';
                snprintf(buf, sizeof(buf), "%s-%ld", host, (long)getpid());
                if (set_str(ctx, wid, &o, buf) == 0)
                        ctx->orig[wid - props] = o;
        }
}

/* ---- checks ------------------------------------------------------------ */

static bool url_ok(const char *u)
{
        const char *h, *end;

        if (!strncasecmp(u, "http://", 7))
                h = u + 7;
        else if (!strncasecmp(u, "https://", 8))
                h = u + 8;
        else
                return false;
        for (const char *c = u; *c; c++)
                if ((unsigned char)*c <= ' ' || *c == 0x7f)
                        return false;
        end = h + strcspn(h, "/?#");
        if (memchr(h, '@', (size_t)(end - h)))
                return false; /* no credentials in URLs */
        if (*h == '[') {
                const char *rb = memchr(h, ']', (size_t)(end - h));

                if (!rb || rb == h + 1)
                        return false;
                h = rb + 1;
                if (h < end && *h != ':')
                        return false;
        } else {
                const char *colon = memchr(h, ':', (size_t)(end - h));

                if ((colon ? colon : end) == h)
                        return false;
                h = colon ? colon : end;
        }
        if (h < end) { /* ":port" */
                long port = 0;

                if (++h == end)
                        return false;
                for (; h < end; h++) {
                        if (!isdigit((unsigned char)*h))
                                return false;
                        port = port * 10 + (*h - '0');
                        if (port > 65535)
                                return false;
                }
                if (port == 0)
                        return false;
        }
        return true;
}

/* Is the host of a well-formed URL (url_ok) a loopback address? */
static bool url_host_loopback(const char *u)
{
        const char *h = strstr(u, "://") + 3;
        size_t len = strcspn(h, "/?#");
        char host[256];

        if (*h == '[') {
                const char *rb = memchr(h, ']', len);

                if (!rb)
                        return false;
                h++;
                len = (size_t)(rb - h);
        } else {
                const char *colon = memchr(h, ':', len);

                if (colon)
                        len = (size_t)(colon - h);
        }
        if (len == 0 || len >= sizeof(host))
                return false;
        memcpy(host, h, len);
        host[len] = '\0';
        return cxw_host_is_loopback(host);
}

/* http:// to a host that is not loopback: secrets in clear text. */
static bool url_cleartext_remote(const char *u)
{
        return !strncasecmp(u, "http://", 7) && !url_host_loopback(u);
}

static bool topic_ok(const char *t)
{
        size_t len = strlen(t);

        if (len == 0 || len > 249 || !strcmp(t, ".") || !strcmp(t, ".."))
                return false;
        for (; *t; t++)
                if (!isalnum((unsigned char)*t) && !strchr("._-", *t))
                        return false;
        return true;
}

static bool ident_ok(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 64 || !(isalpha((unsigned char)*s) || *s == '_'))
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_')
                        return false;
        return true;
}

/* An API value such as STRICT or AUTO_RESOLVE (CXW_SCHED_ENUM_MAX). */
static bool value_ok(const char *s)
{
        size_t len = strlen(s);

        if (len == 0 || len > 32)
                return false;
        for (; *s; s++)
                if (!isalnum((unsigned char)*s) && *s != '_' && *s != '-')
                        return false;
        return true;
}

static bool listen_ok(const char *s)
{
        const char *colon = strrchr(s, ':');
        long port = 0;

        if (!colon || colon == s || !colon[1] || strlen(colon + 1) > 5)
                return false;
        for (const char *c = colon + 1; *c; c++) {
                if (!isdigit((unsigned char)*c))
                        return false;
                port = port * 10 + (*c - '0');
        }
        return port <= 65535;
}

static void check_str(ctx_t *ctx, const prop_t *p, const origin_t *o, const char *v,
                      bool worker)
{
        if ((p->flags & PF_NONEMPTY) && !*v)
                prop_err(ctx, p, o, "must not be empty");
        if ((p->flags & PF_TOPIC) && *v && !topic_ok(v))
                prop_err(
                    ctx, p, o,
                    "'%.256s' is not a Kafka topic name (1-249 of A-Z a-z 0-9 . _ -)", v);
        if ((p->flags & PF_LOGLEVEL) && strcmp(v, "error") && strcmp(v, "warn") &&
            strcmp(v, "info") && strcmp(v, "debug"))
                prop_err(ctx, p, o, "'%.64s' is not one of error, warn, info, debug", v);
        if ((p->flags & PF_ASSIGN) && strcmp(v, "cooperative-sticky") &&
            strcmp(v, "eager"))
                prop_err(ctx, p, o, "'%.64s' is not one of cooperative-sticky, eager", v);
        if ((p->flags & PF_LISTEN) && *v && !listen_ok(v))
                prop_err(ctx, p, o, "'%.256s' is not HOST:PORT (empty turns it off)", v);
        if (!worker)
                return;
        /* A secret file that failed to give a secret has said so already. */
        if ((p->flags & PF_REQUIRED) && !*v &&
            !((p->flags & PF_SECRET) && *ctx->cfg->client_secret_file)) {
                const char *where = o->from == FROM_FILE ? o->file : NULL;

                if (where)
                        add_err(ctx, "%s:%d: %s (or %s%s) is required", where, o->line,
                                p->path, p->env,
                                (p->flags & PF_SECRET) ? " / CXONE_CLIENT_SECRET_FILE"
                                                       : "");
                else
                        add_err(ctx, "%s (or %s%s) is required", p->path, p->env,
                                (p->flags & PF_SECRET) ? " / CXONE_CLIENT_SECRET_FILE"
                                                       : "");
        }
        /* A derived URL is only as good as base_url, which is checked itself. */
        if ((p->flags & PF_URL) && o->from != FROM_DERIVED && !url_ok(v))
                prop_err(ctx, p, o,
                         "'%.256s' is not an http:// or https:// URL with a host",
                         shown(p, v));
        else if ((p->flags & PF_URL) && o->from != FROM_DERIVED &&
                 url_cleartext_remote(v) && !ctx->cfg->allow_insecure_http)
                prop_err(ctx, p, o,
                         "'%.256s' is http:// to a host that is not loopback: the client "
                         "secret and the access token would cross the network in clear "
                         "text; use https://, or set cxone.allow_insecure_http = true "
                         "(CXONE_ALLOW_INSECURE_HTTP=true) to allow it",
                         v);
        if ((p->flags & PF_METHOD) && strcmp(v, "PATCH") && strcmp(v, "PUT") &&
            strcmp(v, "POST"))
                prop_err(ctx, p, o, "'%.64s' is not one of PATCH, PUT, POST", v);
        if ((p->flags & PF_CONTACTID) && (v[0] != '/' || !strstr(v, "{contactId}")))
                prop_err(ctx, p, o,
                         "'%.256s' must start with '/' and contain {contactId}", v);
}

static void check_list(ctx_t *ctx, const prop_t *p, const origin_t *o,
                       const cxw_strlist_t *l, bool worker)
{
        if ((p->flags & PF_NONEMPTY) && l->cnt == 0)
                prop_err(ctx, p, o, "must not be empty");
        for (size_t i = 0; (p->flags & PF_PROPS) && i < l->cnt; i++) {
                char *name = NULL, *value = NULL;

                if (cxw_config_split_prop(l->v[i], &name, &value) != 0)
                        prop_err(ctx, p, o, "item %zu: '%.256s' is not name=value", i + 1,
                                 kafka_prop_secret(l->v[i]) ? "(hidden)" : l->v[i]);
                free(name);
        }
        for (size_t i = 0; worker && (p->flags & PF_VALUES) && i < l->cnt; i++)
                if (!value_ok(l->v[i]))
                        prop_err(ctx, p, o,
                                 "item %zu: '%.64s' is not 1-32 of A-Z a-z 0-9 _ -",
                                 i + 1, l->v[i]);
        if (worker && (p->flags & PF_VALUES) && l->cnt == 0)
                prop_err(ctx, p, o, "must name at least one value");
        if (!worker || !(p->flags & PF_IDENTS))
                return;
        if (l->cnt == 0)
                prop_err(ctx, p, o, "must name at least one field");
        for (size_t i = 0; i < l->cnt; i++) {
                if (!ident_ok(l->v[i]))
                        prop_err(
                            ctx, p, o,
                            "item %zu: '%.64s' is not a field name (letters, digits, _; "
                            "at most 64)",
                            i + 1, l->v[i]);
                else if (!strcmp(l->v[i], "contactId"))
                        prop_err(ctx, p, o, "contactId is the key and cannot be a field");
        }
}

/* Room a DLQ copy needs beside the request's value: its key, the request's
 * headers, the dlq-* headers (the reason up to 1 KiB) and librdkafka's
 * per-record overhead. */
#define DLQ_ROOM             16384
#define PRODUCER_MAX_DEFAULT 1000000LL /* librdkafka's message.max.bytes */

/* The producer's message.max.bytes as librdkafka will apply it: the last
 * setting in kafka.properties, then kafka.producer_properties. */
static long long producer_max_bytes(const cxw_config_t *cfg)
{
        const cxw_strlist_t *lists[2] = {&cfg->kafka_props, &cfg->producer_props};
        long long v = PRODUCER_MAX_DEFAULT;

        for (int l = 0; l < 2; l++) {
                for (size_t i = 0; i < lists[l]->cnt; i++) {
                        static const char name[] = "message.max.bytes=";
                        const char *s = lists[l]->v[i];
                        char *end;
                        long long n;

                        if (strncmp(s, name, sizeof(name) - 1) != 0)
                                continue;
                        n = strtoll(s + sizeof(name) - 1, &end, 10);
                        if (*end == '\0' && n > 0)
                                v = n; /* a bad value is librdkafka's to refuse */
                }
        }
        return v;
}

static void validate(ctx_t *ctx)
{
        bool worker = ctx->purpose == CXW_CONFIG_FOR_WORKER;
        const cxw_config_t *cfg = ctx->cfg;

        for (size_t i = 0; i < NPROPS; i++) {
                const prop_t *p = &props[i];

                if (p->type == PT_STR)
                        check_str(ctx, p, &ctx->orig[i], *(char *const *)cfield(cfg, p),
                                  worker);
                else if (p->type == PT_LIST)
                        check_list(ctx, p, &ctx->orig[i], cfield(cfg, p), worker);
        }
        if (cfg->retry_base_delay_ms > cfg->retry_max_delay_ms) {
                const prop_t *p = find_prop("retry.max_delay_ms");

                prop_err(ctx, p, &ctx->orig[p - props],
                         "%d is less than retry.base_delay_ms (%d)",
                         cfg->retry_max_delay_ms, cfg->retry_base_delay_ms);
        }
        /* A derived worker.id holds the pid: a new member at every restart. */
        if (worker && cfg->kafka_static_membership) {
                const prop_t *p = find_prop("worker.id");

                if (ctx->orig[p - props].from == FROM_DERIVED) {
                        const prop_t *s = find_prop("kafka.static_membership");

                        prop_err(ctx, s, &ctx->orig[s - props],
                                 "needs worker.id (or CXONE_WORKER_ID) set to a name "
                                 "that stays the same across restarts; the derived "
                                 "'%.256s' changes with every start",
                                 cfg->worker_id);
                }
        }
        if (worker &&
            cfg->max_message_bytes + (long long)DLQ_ROOM > producer_max_bytes(cfg)) {
                const prop_t *p = find_prop("limits.max_message_bytes");
                long long max = producer_max_bytes(cfg);

                prop_err(
                    ctx, p, &ctx->orig[p - props],
                    "%d plus %d bytes for its DLQ copy's key and headers exceeds the "
                    "producer's message.max.bytes (%lld): set it to at most %lld, "
                    "or raise message.max.bytes in kafka.producer_properties (and "
                    "the topics' max.message.bytes on the brokers)",
                    cfg->max_message_bytes, DLQ_ROOM, max, max - DLQ_ROOM);
        }
}

/* ---- public ------------------------------------------------------------ */

cxw_config_t *cxw_config_load(const char *path, cxw_config_purpose_t purpose,
                              cxw_config_errors_t *errs)
{
        cxw_config_errors_t scratch = {0};
        ctx_t *ctx = NULL;
        cxw_config_t *cfg = NULL;

        if (!errs)
                errs = &scratch;
        ctx = calloc(1, sizeof(*ctx));
        cfg = calloc(1, sizeof(*cfg));
        if (!ctx || !cfg)
                goto fail;
        ctx->cfg = cfg;
        ctx->errs = errs;
        ctx->purpose = purpose;
        if (path) {
                cfg->source = strdup(path);
                if (!cfg->source)
                        goto fail;
                ctx->path = cfg->source;
        }

        for (size_t i = 0; i < NPROPS; i++) {
                ctx->orig[i].from = FROM_DEFAULT;
                if (set_text(ctx, &props[i], &ctx->orig[i], props[i].def) != 0)
                        ctx->oom = true; /* the table's defaults always parse */
        }
        if (ctx->oom)
                goto fail;
        /* A file that cannot be read or parsed is the one problem reported:
         * checking on without its keys would add false ones ("client_id is
         * required" for a key that is in the file). */
        if (!path || load_file(ctx, path) == 0) {
                load_env(ctx);
                for (size_t k = 0; k < sizeof(secret_pairs) / sizeof(secret_pairs[0]);
                     k++)
                        read_secret_file(ctx, secret_pairs[k][0], secret_pairs[k][1]);
                derive(ctx);
                validate(ctx);
        }
        if (ctx->dropped) {
                ctx->errs->cnt--; /* make room for the count */
                free(ctx->errs->v[ctx->errs->cnt]);
                ctx->dropped++;
                add_err(ctx, "... and %zu more problems", ctx->dropped);
        }
        cfg->from_env = calloc(NPROPS, sizeof(*cfg->from_env));
        if (!cfg->from_env)
                ctx->oom = true;
        for (size_t i = 0; cfg->from_env && i < NPROPS; i++)
                if (ctx->orig[i].from == FROM_ENV)
                        cfg->from_env[i] = ctx->orig[i].env; /* a table string */
        if (ctx->oom)
                goto fail;
        if (ctx->lc_live)
                config_destroy(&ctx->lc);
        free(ctx);
        cxw_config_errors_clear(&scratch);
        return cfg;
fail:
        if (ctx && ctx->lc_live)
                config_destroy(&ctx->lc);
        free(ctx);
        cxw_config_destroy(cfg);
        cxw_config_errors_clear(&scratch);
        return NULL;
}

void cxw_config_destroy(cxw_config_t *cfg)
{
        if (!cfg)
                return;
        for (size_t i = 0; i < NPROPS; i++) {
                const prop_t *p = &props[i];

                if (p->type == PT_STR) {
                        char **s = field(cfg, p);

                        if (*s && (p->flags & PF_SECRET))
                                explicit_bzero(*s, strlen(*s));
                        free(*s);
                } else if (p->type == PT_LIST) {
                        strlist_free(field(cfg, p));
                }
        }
        free(cfg->source);
        free(cfg->from_env);
        free(cfg);
}

void cxw_config_errors_clear(cxw_config_errors_t *errs)
{
        if (!errs)
                return;
        for (size_t i = 0; i < errs->cnt; i++)
                free(errs->v[i]);
        free(errs->v);
        errs->v = NULL;
        errs->cnt = 0;
}

int cxw_config_split_prop(const char *prop, char **name, char **value)
{
        char *copy, *eq;

        *name = NULL;
        *value = NULL;
        if (!prop || !(eq = strchr(prop, '=')) || eq == prop)
                return -1;
        copy = strdup(prop);
        if (!copy)
                return -1;
        eq = copy + (eq - prop);
        *eq = '\0';
        *name = copy;
        *value = eq + 1;
        return 0;
}

/* ---- reference and dump ------------------------------------------------ */

static const char *type_name(ptype_t t)
{
        switch (t) {
        case PT_STR:
                return "string";
        case PT_INT:
                return "integer";
        case PT_INT64:
                return "integer (64-bit)";
        case PT_DBL:
                return "number";
        case PT_BOOL:
                return "boolean";
        case PT_LIST:
                return "list of strings";
        }
        return "?";
}

static void print_rules(FILE *out, const prop_t *p)
{
        static const struct {
                int flag;
                const char *text;
        } rules[] = {
            {PF_NONEMPTY, "non-empty"},
            {PF_TOPIC, "topic name"},
            {PF_PROPS, "each `name=value`"},
            {PF_LOGLEVEL, "`error`, `warn`, `info`, `debug`"},
            {PF_ASSIGN, "`cooperative-sticky`, `eager`"},
            {PF_LISTEN, "empty or `HOST:PORT`"},
            {PF_URL, "`https://` URL; `http://` to loopback only, unless "
                     "`cxone.allow_insecure_http`"},
            {PF_REQUIRED, "required (worker)"},
            {PF_METHOD, "`PATCH`, `PUT`, `POST`"},
            {PF_CONTACTID, "contains `{contactId}`"},
            {PF_IDENTS, "non-empty; names of letters, digits, `_`"},
            {PF_VALUES, "non-empty; each 1-32 of letters, digits, `_`, `-`"},
            {PF_FILE, "readable file, at most 4 KiB"},
        };
        const char *sep = "";

        if (p->type == PT_INT || p->type == PT_INT64 || p->type == PT_DBL) {
                fprintf(out, "%.15g..%.15g", p->min, p->max);
                return;
        }
        for (size_t i = 0; i < sizeof(rules) / sizeof(rules[0]); i++) {
                if (p->flags & rules[i].flag) {
                        fprintf(out, "%s%s", sep, rules[i].text);
                        sep = "; ";
                }
        }
}

static void print_default(FILE *out, const prop_t *p)
{
        if (p->doc_def) {
                fprintf(out, "`%s`", p->doc_def);
        } else if (p->type == PT_STR) {
                fprintf(out, "`\"%s\"`", p->def);
        } else if (p->type == PT_LIST) {
                const char *s = p->def;

                fputs("`[", out);
                while (*s) {
                        size_t len = strcspn(s, ",");

                        fprintf(out, "%s\"%.*s\"", s == p->def ? "" : ", ", (int)len, s);
                        s += len;
                        if (*s == ',')
                                s++;
                }
                fputs("]`", out);
        } else {
                fprintf(out, "`%s`", p->def);
        }
}

void cxw_config_print_reference(FILE *out)
{
        fputs("| Key | Type | Default | Range | Env | Description |\n"
              "|-----|------|---------|-------|-----|-------------|\n",
              out);
        for (size_t i = 0; i < NPROPS; i++) {
                const prop_t *p = &props[i];

                fprintf(out, "| `%s` | %s | ", p->path, type_name(p->type));
                print_default(out, p);
                fputs(" | ", out);
                print_rules(out, p);
                fputs(" | ", out);
                if (p->env)
                        fprintf(out, "`%s`", p->env);
                fprintf(out, " | %s |\n", p->desc);
        }
}

/* A string's characters in libconfig syntax, escaped, without quotes. */
static void print_quoted_body(FILE *out, const char *s)
{
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;

                if (c == '"' || c == '\\')
                        fprintf(out, "\\%c", c);
                else if (c < ' ' || c == 0x7f)
                        fprintf(out, "\\x%02x", c);
                else
                        fputc(c, out);
        }
}

/* A string in libconfig syntax, escaped. */
static void print_quoted(FILE *out, const char *s)
{
        fputc('"', out);
        print_quoted_body(out, s);
        fputc('"', out);
}

/* A librdkafka property whose name says it is a secret: "name=(set)". An
 * item without '=' (refused by the checks) is hidden whole. */
static void print_prop_hidden(FILE *out, const char *item, const char *eq)
{
        char name[MAX_STR_BYTES + 1];
        size_t len = eq ? (size_t)(eq - item) : 0;

        if (!eq || len >= sizeof(name)) {
                fputs("\"(hidden)\"", out);
                return;
        }
        memcpy(name, item, len);
        name[len] = '\0';
        if (!kafka_prop_secret(name)) { /* the word was in the value only */
                print_quoted(out, item);
                return;
        }
        fputc('"', out);
        print_quoted_body(out, name);
        fputs(eq[1] ? "=(set)\"" : "=(unset)\"", out);
}

void cxw_config_dump(const cxw_config_t *cfg, FILE *out)
{
        if (!cfg)
                return;
        fprintf(out, "# source: %s\n", cfg->source ? cfg->source : "(defaults)");
        for (size_t i = 0; i < NPROPS; i++) {
                const prop_t *p = &props[i];
                const void *f = cfield(cfg, p);

                fprintf(out, "%s = ", p->path);
                switch (p->type) {
                case PT_STR: {
                        const char *s = *(char *const *)f;

                        if (p->flags & PF_SECRET)
                                fputs(s && *s ? "(set)" : "(unset)", out);
                        else
                                print_quoted(out, s ? s : "");
                        break;
                }
                case PT_INT:
                        fprintf(out, "%d", *(const int *)f);
                        break;
                case PT_INT64:
                        fprintf(out, "%lld", (long long)*(const int64_t *)f);
                        break;
                case PT_DBL:
                        fprintf(out, "%.15g", *(const double *)f);
                        break;
                case PT_BOOL:
                        fputs(*(const bool *)f ? "true" : "false", out);
                        break;
                case PT_LIST: {
                        const cxw_strlist_t *l = f;

                        fputc('[', out);
                        for (size_t j = 0; j < l->cnt; j++) {
                                const char *eq = strchr(l->v[j], '=');

                                if (j)
                                        fputs(", ", out);
                                if ((p->flags & PF_PROPS) && kafka_prop_secret(l->v[j]))
                                        print_prop_hidden(out, l->v[j], eq);
                                else
                                        print_quoted(out, l->v[j]);
                        }
                        fputc(']', out);
                        break;
                }
                }
                if (cfg->from_env && cfg->from_env[i])
                        fprintf(out, "  # env %s", cfg->from_env[i]);
                fputc('\n', out);
        }
}

void cxw_config_print_env(FILE *out, const char *indent)
{
        for (size_t i = 0; i < NPROPS; i++)
                if (props[i].env)
                        fprintf(out, "%s%-26s %s\n", indent, props[i].env, props[i].path);
}

/* ---- warnings ------------------------------------------------------------ */

static int warn_add(cxw_config_errors_t *w, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
static int warn_add(cxw_config_errors_t *w, const char *fmt, ...)
{
        char *msg = NULL, **v;
        va_list ap;
        int n;

        va_start(ap, fmt);
        n = vasprintf(&msg, fmt, ap);
        va_end(ap);
        if (n < 0)
                return -1;
        v = realloc(w->v, (w->cnt + 1) * sizeof(*v));
        if (!v) {
                free(msg);
                return -1;
        }
        v[w->cnt++] = msg;
        w->v = v;
        return 0;
}

/* Is gid the process's effective group or one of its supplementary ones? */
static bool own_group(gid_t gid)
{
        gid_t groups[256];
        int n = getgroups(256, groups);

        if (gid == getegid())
                return true;
        for (int i = 0; i < n; i++)
                if (groups[i] == gid)
                        return true;
        return false;
}

/* A secret file others can read, or its group when the worker does not need
 * the group to read it (it owns the file, or the group is not its own:
 * Kubernetes' fsGroup with defaultMode 0440 is fine). */
static int warn_secret_file(const prop_t *p, const char *path, cxw_config_errors_t *w)
{
        struct stat st;

        if (!*path || stat(path, &st) != 0 || !S_ISREG(st.st_mode))
                return 0; /* the load reported it */
        if (!(st.st_mode & S_IROTH) &&
            !((st.st_mode & S_IRGRP) &&
              (st.st_uid == geteuid() || !own_group(st.st_gid))))
                return 0;
        return warn_add(w,
                        "%s: '%.512s' is readable by %s (mode %04o): make it readable by "
                        "the worker alone, e.g. chmod 0400 (0440 with a group only the "
                        "worker is in)",
                        p->path, path, (st.st_mode & S_IROTH) ? "others" : "its group",
                        (unsigned)(st.st_mode & 07777));
}

int cxw_config_warnings(const cxw_config_t *cfg, cxw_config_errors_t *warns)
{
        for (size_t i = 0; i < NPROPS; i++) {
                const prop_t *p = &props[i];
                const char *v;

                if ((p->flags & PF_FILE) &&
                    warn_secret_file(p, *(char *const *)cfield(cfg, p), warns) != 0)
                        return -1;
                if (!(p->flags & PF_URL))
                        continue;
                v = *(char *const *)cfield(cfg, p);
                if (cfg->allow_insecure_http && v && url_ok(v) &&
                    url_cleartext_remote(v) &&
                    warn_add(
                        warns,
                        "%s: '%.256s' is http:// to a host that is not loopback, "
                        "allowed by cxone.allow_insecure_http: the client secret and "
                        "the access token cross the network in clear text",
                        p->path, v) != 0)
                        return -1;
        }
        return 0;
}
