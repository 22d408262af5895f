/* ctl_batch.c: what `contacts import` and `schedules import` share: their
 * common arguments, an idempotent producer with delivery tracking, and the
 * end of a batch; with --wait, ctl_batch_wait.c reads the outcomes of
 * exactly the produced requests back from the results topic and gives the
 * summary and the exit code. The commands only turn their file into
 * (position, key, value) requests. */
#include "ctl_batch_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "cxone/base/util.h"

#define DEFAULT_TIMEOUT_S 600

/* ---- arguments ---------------------------------------------------------- */

static void usage(const ctl_batch_t *b)
{
        fprintf(stderr,
                "usage: cxonectl %s %s [--batch-id ID] [--wait] [--timeout SECONDS] "
                "[--quiet] [--verbose]%s\n",
                b->kind->cmd, b->kind->file_arg,
                b->kind->option_usage ? b->kind->option_usage : "");
}

static bool batch_id_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > CTL_BATCH_ID_MAX)
                return false;
        for (; *s; s++) {
                if ((unsigned char)*s <= 0x20 || (unsigned char)*s >= 0x7f)
                        return false;
        }
        return true;
}

static void make_batch_id(char *buf, size_t size)
{
        uint64_t seed = cxw_rand_seed();
        time_t now = time(NULL);
        struct tm tm;
        char ts[32];

        gmtime_r(&now, &tm);
        strftime(ts, sizeof(ts), "%Y%m%dT%H%M%S", &tm);
        snprintf(buf, size, "batch-%s-%06x", ts,
                 (unsigned)(cxw_rand64(&seed) & 0xffffffu));
}

int ctl_batch_init(ctl_batch_t *b, const cxw_config_t *cfg, const ctl_batch_kind_t *kind,
                   const char *topic, int argc, char **argv)
{
        b->cfg = cfg;
        b->kind = kind;
        b->topic = topic;
        b->timeout_s = DEFAULT_TIMEOUT_S;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;
                int used = kind->option ? kind->option(b, a, v) : 0;

                if (used < 0)
                        return -1;
                if (used > 0) {
                        i += used - 1;
                } else if (!strcmp(a, "--batch-id")) {
                        if (!v || !batch_id_ok(v)) {
                                fprintf(stderr,
                                        "cxonectl: --batch-id: 1-%d printable "
                                        "characters without spaces\n",
                                        CTL_BATCH_ID_MAX);
                                return -1;
                        }
                        cxw_strlcpy(b->batch_id, v, sizeof(b->batch_id));
                        i++;
                } else if (!strcmp(a, "--wait")) {
                        b->wait = true;
                } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
                        b->quiet = true;
                } else if (!strcmp(a, "--verbose") || !strcmp(a, "-v")) {
                        b->verbose = true;
                } else if (!strcmp(a, "--timeout")) {
                        if (ctl_parse_int(a, v, 1, 7 * 24 * 3600, &b->timeout_s) != 0)
                                return -1;
                        i++;
                } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                        usage(b);
                        return 1;
                } else if (a[0] == '-' && a[1] != '\0') {
                        fprintf(stderr, "cxonectl: %s: unknown option '%s'\n", kind->cmd,
                                a);
                        usage(b);
                        return -1;
                } else if (!b->path) {
                        b->path = a;
                } else {
                        fprintf(stderr, "cxonectl: %s: one file only ('%s')\n", kind->cmd,
                                a);
                        return -1;
                }
        }
        if (!b->path) {
                usage(b);
                return -1;
        }
        if (!b->batch_id[0])
                make_batch_id(b->batch_id, sizeof(b->batch_id));
        return 0;
}

/* ---- positions ---------------------------------------------------------- */

void ctl_batch_where(const ctl_batch_t *b, unsigned long pos, char *buf, size_t size)
{
        if (b->kind->pos_kind == CTL_POS_LINE)
                snprintf(buf, size, "%s:%lu", b->path, pos);
        else
                snprintf(buf, size, "%s #%lu", b->path, pos);
}

/* ---- producing ---------------------------------------------------------- */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        ctl_batch_t *b = opaque;
        size_t idx = (size_t)(uintptr_t)m->_private;
        ctl_req_t *r;

        (void)rk;
        if (idx >= b->nreqs)
                return;
        r = &b->reqs[idx];
        if (m->err) {
                r->delivered = -1;
                free(r->error);
                r->error = strdup(rd_kafka_err2str(m->err));
                b->delivery_failed++;
                if (m->err == RD_KAFKA_RESP_ERR__MSG_TIMED_OUT)
                        b->timed_out++;
        } else {
                r->delivered = 1;
                r->partition = m->partition;
                r->offset = m->offset;
                b->acked++;
        }
}

static rd_kafka_t *make_producer(ctl_batch_t *b)
{
        char errstr[512];
        rd_kafka_t *rk = ctl_producer_new(b->cfg, dr_cb, b, errstr, sizeof(errstr));

        size_t len = sizeof(b->msg_timeout);

        if (!rk) {
                fprintf(stderr, "cxonectl: kafka producer: %s\n", errstr);
                return NULL;
        }
        if (rd_kafka_conf_get(rd_kafka_conf(rk), "message.timeout.ms", b->msg_timeout,
                              &len) != RD_KAFKA_CONF_OK)
                cxw_strlcpy(b->msg_timeout, "?", sizeof(b->msg_timeout));
        return rk;
}

int ctl_batch_start(ctl_batch_t *b)
{
        char errstr[1024];

        b->producer = make_producer(b);
        if (!b->producer)
                return -1;
        /* An unreachable cluster is said at once, naming it, rather than
         * after every message has timed out. */
        if (ctl_kafka_probe(b->producer, b->cfg, b->topic, CTL_PROBE_TIMEOUT_MS, errstr,
                            sizeof(errstr)) != 0) {
                fprintf(stderr, "cxonectl: %s\n", errstr);
                return -1;
        }
        if (b->wait && batch_wait_start(b) != 0)
                return -1;
        printf("%s\n", b->batch_id);
        fflush(stdout);
        return 0;
}

static int add_req(ctl_batch_t *b, unsigned long pos, const char *key, size_t key_len)
{
        ctl_req_t *r;

        if (b->nreqs == b->cap) {
                size_t cap = b->cap ? b->cap * 2 : 256;
                ctl_req_t *v = realloc(b->reqs, cap * sizeof(*v));
                if (!v)
                        return -1;
                b->reqs = v;
                b->cap = cap;
        }
        r = &b->reqs[b->nreqs];
        memset(r, 0, sizeof(*r));
        r->pos = pos;
        r->partition = -1;
        r->offset = -1;
        if (key) {
                r->key = strndup(key, key_len);
                if (!r->key)
                        return -1;
        }
        b->nreqs++;
        return 0;
}

/* Takes back the last request (it was never handed to the producer). */
static void drop_last_req(ctl_batch_t *b)
{
        ctl_req_t *r = &b->reqs[--b->nreqs];

        free(r->key);
        free(r->error);
        free(r->job_id);
}

int ctl_batch_produce(ctl_batch_t *b, unsigned long pos, const char *key, size_t key_len,
                      const char *value, size_t value_len)
{
        char corr[CTL_BATCH_ID_MAX + 32], where[512];
        rd_kafka_headers_t *hdrs = NULL;
        rd_kafka_resp_err_t err;

        if (add_req(b, pos, key, key_len) != 0) {
                fprintf(stderr, "cxonectl: out of memory\n");
                return -1;
        }
        snprintf(corr, sizeof(corr), "%s:%lu", b->batch_id, pos);
        hdrs = rd_kafka_headers_new(3);
        rd_kafka_header_add(hdrs, "batch-id", -1, b->batch_id, -1);
        rd_kafka_header_add(hdrs, "correlation-id", -1, corr, -1);
        if (b->kind->idempotency_key)
                rd_kafka_header_add(hdrs, "idempotency-key", -1, corr, -1);
        err = ctl_produce(b->producer, b->topic, RD_KAFKA_PARTITION_UA, key, key_len,
                          value, value_len, hdrs, (void *)(uintptr_t)(b->nreqs - 1));
        rd_kafka_headers_destroy(hdrs);
        if (err == RD_KAFKA_RESP_ERR_MSG_SIZE_TOO_LARGE) {
                /* One oversized request must not stop the others. */
                ctl_batch_where(b, pos, where, sizeof(where));
                fprintf(stderr,
                        "%s: %zu bytes is more than the producer's message.max.bytes "
                        "(kafka.producer_properties); skipped\n",
                        where, value_len);
                drop_last_req(b);
                b->skipped++;
                return 1;
        }
        if (err) {
                ctl_batch_where(b, pos, where, sizeof(where));
                fprintf(stderr, "%s: cannot produce: %s\n", where, rd_kafka_err2str(err));
                drop_last_req(b);
                return -1;
        }
        return 0;
}

/* ---- the end of a batch ------------------------------------------------- */

int ctl_batch_finish(ctl_batch_t *b, int produce_rc)
{
        bool all_acked;

        ctl_producer_flush(b->producer);
        all_acked = b->acked == b->nreqs;
        for (size_t i = 0; i < b->nreqs; i++) {
                const ctl_req_t *r = &b->reqs[i];
                const char *key = r->key ? r->key : "(no key)";
                char where[512];

                if (r->delivered == 1)
                        continue;
                ctl_batch_where(b, r->pos, where, sizeof(where));
                if (r->delivered == -1)
                        fprintf(stderr, "%s: %s %s: delivery failed: %s\n", where,
                                b->kind->noun, key, r->error ? r->error : "unknown");
                else
                        fprintf(stderr, "%s: %s %s: no delivery report (interrupted)\n",
                                where, b->kind->noun, key);
        }
        if (b->timed_out)
                fprintf(stderr,
                        "cxonectl: Kafka at %s (kafka.bootstrap_servers or "
                        "KAFKA_BOOTSTRAP_SERVERS) did not acknowledge %zu message%s "
                        "within message.timeout.ms (%s ms)\n",
                        b->cfg->bootstrap_servers, b->timed_out,
                        b->timed_out == 1 ? "" : "s", b->msg_timeout);
        if (!b->quiet || !all_acked || produce_rc != 0) {
                fprintf(stderr, "batch %s: produced %zu, skipped %zu", b->batch_id,
                        b->acked, b->skipped);
                if (!all_acked)
                        fprintf(stderr, ", NOT DELIVERED %zu", b->nreqs - b->acked);
                fprintf(stderr, "\n");
        }
        if (produce_rc != 0 || b->delivery_failed || !all_acked) {
                if (ctl_stop)
                        fprintf(stderr, "cxonectl: interrupted\n");
                return CTL_EXIT_ERROR;
        }
        return b->wait ? batch_wait_outcomes(b) : CTL_EXIT_OK;
}

void ctl_batch_clear(ctl_batch_t *b)
{
        if (!b)
                return;
        for (size_t i = 0; i < b->nreqs; i++) {
                free(b->reqs[i].key);
                free(b->reqs[i].error);
                free(b->reqs[i].job_id);
        }
        free(b->reqs);
        b->reqs = NULL;
        b->nreqs = b->cap = 0;
        if (b->consumer) {
                rd_kafka_consumer_close(b->consumer);
                rd_kafka_destroy(b->consumer);
                b->consumer = NULL;
        }
        if (b->producer) {
                rd_kafka_destroy(b->producer);
                b->producer = NULL;
        }
}
