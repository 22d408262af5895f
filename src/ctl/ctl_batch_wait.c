/* ctl_batch_wait.c: a batch's --wait: a consumer at the end of the results
 * topic before the first request goes, then the outcomes matched to the
 * produced requests (by source partition and offset, else by correlation
 * id), counted once each, with a progress bar or line, the summary and the
 * exit code. */
#include "ctl_batch_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cxone/base/log.h"
#include "cxone/base/util.h"

/* ---- the results consumer ----------------------------------------------- */

int batch_wait_start(ctl_batch_t *b)
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

/* "line 12" or "#3": a position without the file. */
static void pos_label(const ctl_batch_t *b, unsigned long pos, char *buf, size_t size)
{
        snprintf(buf, size, b->kind->pos_kind == CTL_POS_LINE ? "line %lu" : "#%lu", pos);
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

int batch_wait_outcomes(ctl_batch_t *b)
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
