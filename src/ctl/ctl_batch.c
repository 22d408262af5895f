/* ctl_batch.c: what `contacts import` and `schedules import` share: their
 * common arguments, an idempotent producer with delivery tracking, and with
 * --wait the outcomes of exactly the produced requests read back from the
 * results topic, the summary and the exit code. The commands only turn their
 * file into (position, key, value) requests. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cxone/base/log.h"
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

/* "line 12" or "#3": a position without the file. */
static void pos_label(const ctl_batch_t *b, unsigned long pos, char *buf, size_t size)
{
        snprintf(buf, size, b->kind->pos_kind == CTL_POS_LINE ? "line %lu" : "#%lu", pos);
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

/* Assigns a consumer to the current end of every results partition, so that
 * exactly the outcomes written from now on are read. */
static int start_results_consumer(ctl_batch_t *b)
{
        const char *topic = b->cfg->topic_results;
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_conf_t *conf;
        char errstr[512];
        rd_kafka_resp_err_t aerr;
        int n, ret = -1;

        conf = ctl_kafka_conf(b->cfg, CTL_CONSUMER, errstr, sizeof(errstr));
        if (!conf)
                goto fail;
        b->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!b->consumer) {
                rd_kafka_conf_destroy(conf);
                goto fail;
        }
        rd_kafka_poll_set_consumer(b->consumer);
        n = ctl_topic_partitions(b->consumer, topic, 10000, errstr, sizeof(errstr));
        if (n < 0)
                goto fail;
        parts = rd_kafka_topic_partition_list_new(n);
        for (int p = 0; p < n; p++) {
                int64_t lo = 0, hi = 0;
                rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
                    b->consumer, topic, p, &lo, &hi, 10000);
                if (err) {
                        snprintf(errstr, sizeof(errstr), "%s [%d]: end offset: %s", topic,
                                 p, rd_kafka_err2str(err));
                        goto fail;
                }
                rd_kafka_topic_partition_list_add(parts, topic, p)->offset = hi;
        }
        if ((aerr = rd_kafka_assign(b->consumer, parts)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                snprintf(errstr, sizeof(errstr), "%s: cannot assign: %s", topic,
                         rd_kafka_err2str(aerr));
                goto fail;
        }
        ret = 0;
        goto out;
fail:
        fprintf(stderr, "cxonectl: --wait: %s\n", errstr);
out:
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        return ret;
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
        if (b->wait && start_results_consumer(b) != 0)
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

/* ---- waiting for outcomes ----------------------------------------------- */

/* Acknowledged requests by source (partition, offset), for bsearch. */
typedef struct {
        int32_t partition;
        int64_t offset;
        size_t idx;
} source_t;

static int cmp_source(const void *a, const void *b)
{
        const source_t *x = a, *y = b;

        if (x->partition != y->partition)
                return x->partition < y->partition ? -1 : 1;
        if (x->offset != y->offset)
                return x->offset < y->offset ? -1 : 1;
        return 0;
}

static source_t *index_sources(const ctl_batch_t *b, size_t *n)
{
        source_t *v = calloc(b->acked ? b->acked : 1, sizeof(*v));
        size_t k = 0;

        if (!v)
                return NULL;
        for (size_t i = 0; i < b->nreqs && k < b->acked; i++) {
                if (b->reqs[i].delivered != 1)
                        continue;
                v[k].partition = b->reqs[i].partition;
                v[k].offset = b->reqs[i].offset;
                v[k].idx = i;
                k++;
        }
        qsort(v, k, sizeof(*v), cmp_source);
        *n = k;
        return v;
}

/* The request an outcome answers, or NULL if it is not one of ours. */
static ctl_req_t *match(ctl_batch_t *b, const source_t *src, size_t nsrc,
                        const ctl_outcome_t *o)
{
        if (!o->batch_id || strcmp(o->batch_id, b->batch_id) != 0)
                return NULL;
        /* Tolerant of a missing type, not of another one. */
        if (o->type && strcmp(o->type, b->kind->outcome_type) != 0)
                return NULL;
        if (o->src_topic && o->src_partition >= 0 && o->src_offset >= 0) {
                source_t key = {o->src_partition, o->src_offset, 0};
                source_t *hit;

                if (strcmp(o->src_topic, b->topic) != 0)
                        return NULL;
                hit = bsearch(&key, src, nsrc, sizeof(*src), cmp_source);
                return hit ? &b->reqs[hit->idx] : NULL;
        }
        /* No source: fall back on the correlation id "<batch>:<pos>". */
        if (o->correlation_id) {
                size_t bl = strlen(b->batch_id);
                char *end;
                unsigned long pos;

                if (strncmp(o->correlation_id, b->batch_id, bl) != 0 ||
                    o->correlation_id[bl] != ':')
                        return NULL;
                pos = strtoul(o->correlation_id + bl + 1, &end, 10);
                if (*end != '\0' || end == o->correlation_id + bl + 1)
                        return NULL;
                for (size_t i = 0; i < b->nreqs; i++) {
                        if (b->reqs[i].pos == pos && b->reqs[i].delivered == 1)
                                return &b->reqs[i];
                }
        }
        return NULL;
}

typedef struct {
        size_t succeeded, rejected, failed;
} counts_t;

static void print_summary(const ctl_batch_t *b, const counts_t *c)
{
        printf("Succeeded %zu | Rejected %zu | Failed %zu\n", c->succeeded, c->rejected,
               c->failed);
        for (size_t i = 0; i < b->nreqs; i++) {
                const ctl_req_t *r = &b->reqs[i];
                const char *key = r->key ? r->key : "(no key)";
                char pos[48];

                pos_label(b, r->pos, pos, sizeof(pos));
                if (r->status == CTL_ST_REJECTED || r->status == CTL_ST_FAILED) {
                        printf("  %s (%s): %s: %s\n", key, pos,
                               r->status == CTL_ST_REJECTED ? "rejected" : "failed",
                               r->error ? r->error : "(no error text)");
                } else if (r->status == CTL_ST_SUCCEEDED && b->verbose) {
                        if (r->job_id)
                                printf("  %s (%s): succeeded: jobId %s\n", key, pos,
                                       r->job_id);
                        else
                                printf("  %s (%s): succeeded\n", key, pos);
                }
        }
}

/* Records outcome o for request r, the first time only: a redelivered
 * outcome of the same source counts once. Returns true if it counted. */
static bool record(const ctl_batch_t *b, ctl_req_t *r, const ctl_outcome_t *o,
                   counts_t *c)
{
        char pos[48];

        if (r->status != CTL_ST_UNKNOWN)
                return false;
        if (o->status == CTL_ST_UNKNOWN) {
                pos_label(b, r->pos, pos, sizeof(pos));
                fprintf(stderr,
                        "cxonectl: warning: outcome for %s has status '%.32s'; ignored\n",
                        pos, o->status_str ? o->status_str : "(none)");
                return false;
        }
        r->status = o->status;
        if (o->error)
                r->error = strdup(o->error);
        if (o->job_id)
                r->job_id = strdup(o->job_id);
        if (o->status == CTL_ST_SUCCEEDED)
                c->succeeded++;
        else if (o->status == CTL_ST_REJECTED)
                c->rejected++;
        else
                c->failed++;
        return true;
}

/* The time left at the rate outcomes came in since the first one (the
 * workers' start-up is no part of the rate): "~42s left", or "estimating"
 * before two have come; "(timeout in 30s)" when the estimate goes past the
 * --timeout deadline. */
static void eta_text(char *buf, size_t size, size_t got, size_t total, int64_t first,
                     int64_t deadline)
{
        int64_t now = cxw_now_ms();
        double elapsed_s = (double)(now - first) / 1000.0;
        long long eta, left = (long long)(deadline - now) / 1000;

        if (got < 2 || elapsed_s <= 0) {
                snprintf(buf, size, "estimating");
                return;
        }
        eta = (long long)((double)(total - got) * elapsed_s / (double)(got - 1) + 0.5);
        if (eta > left)
                snprintf(buf, size, "~%llds left (timeout in %llds)", eta, left);
        else
                snprintf(buf, size, "~%llds left", eta);
}

/* "[##########----------] 512/1024  50%  ~42s left" on a terminal,
 * "outcomes: 512 of 1024 (50%), ~42s left" as a plain line otherwise. */
static void show_progress(bool tty, size_t got, size_t total, int64_t first,
                          int64_t deadline)
{
        enum { WIDTH = 20 }; /* the line stays within 80 columns */
        int pct = total ? (int)(got * 100 / total) : 100;
        char bar[WIDTH + 1], eta[96];
        size_t fill = total ? got * WIDTH / total : WIDTH;

        eta_text(eta, sizeof(eta), got, total, first, deadline);
        if (!tty) {
                fprintf(stderr, "outcomes: %zu of %zu (%d%%), %s\n", got, total, pct,
                        eta);
                return;
        }
        for (size_t i = 0; i < WIDTH; i++)
                bar[i] = i < fill ? '#' : '-';
        bar[WIDTH] = '\0';
        fprintf(stderr, "\r[%s] %zu/%zu %3d%%  %-32s", bar, got, total, pct, eta);
}

static int wait_outcomes(ctl_batch_t *b)
{
        size_t nsrc = 0, got = 0, shown = (size_t)-1, skipped = 0;
        source_t *src = index_sources(b, &nsrc);
        counts_t c = {0};
        int64_t deadline = cxw_now_ms() + (int64_t)b->timeout_s * 1000;
        int64_t first = 0; /* when the first outcome came */
        int64_t next_progress = 0;
        /* A bar on a terminal, a plain line every 5 s otherwise. */
        bool tty = isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
        bool progress = !b->quiet;
        int rc;

        if (!src) {
                fprintf(stderr, "cxonectl: out of memory\n");
                return CTL_EXIT_ERROR;
        }
        while (got < nsrc && !ctl_stop && cxw_now_ms() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(b->consumer, 200);
                ctl_outcome_t o;
                char why[256];
                ctl_req_t *r;

                if (progress &&
                    ((tty && got != shown) || cxw_now_ms() >= next_progress)) {
                        show_progress(tty, got, nsrc, first, deadline);
                        shown = got;
                        next_progress = cxw_now_ms() + (tty ? 1000 : 5000);
                }
                if (!m)
                        continue;
                if (m->err) {
                        if (m->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                                CXW_WARN("kafka", "results: %s",
                                         rd_kafka_message_errstr(m));
                        rd_kafka_message_destroy(m);
                        continue;
                }
                if (ctl_outcome_decode(m, &o, why, sizeof(why)) != 0) {
                        ctl_warn_skipped(&skipped, m, why);
                        rd_kafka_message_destroy(m);
                        continue;
                }
                r = match(b, src, nsrc, &o);
                if (r && record(b, r, &o, &c) && got++ == 0)
                        first = cxw_now_ms();
                ctl_outcome_clear(&o);
                rd_kafka_message_destroy(m);
        }
        if (progress && tty)
                fprintf(stderr, "\r%79s\r", "");

        print_summary(b, &c);
        /* A skipped row is a request that did not go through, as a
         * rejected one: a script must not take the batch as done. */
        if (b->skipped)
                printf("  %zu %s%s skipped before sending (reported above)\n", b->skipped,
                       b->kind->pos_kind == CTL_POS_LINE ? "row" : "element",
                       b->skipped == 1 ? "" : "s");
        if (got == nsrc)
                rc = (c.rejected || c.failed || b->skipped) ? CTL_EXIT_REJECTED
                                                            : CTL_EXIT_OK;
        else if (ctl_stop) {
                printf("interrupted while waiting for %zu outcomes\n", nsrc - got);
                rc = CTL_EXIT_ERROR;
        } else {
                printf("timed out waiting for %zu outcomes\n", nsrc - got);
                rc = CTL_EXIT_TIMEOUT;
        }
        free(src);
        return rc;
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
        return b->wait ? wait_outcomes(b) : CTL_EXIT_OK;
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
