/* ctl_import.c: `cxonectl contacts import FILE.csv`: one contact-update
 * request per CSV row to the contact-updates topic, through an idempotent
 * producer; with --wait, the outcomes of exactly those requests are read back
 * from the results topic. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>

#include "cxone/csvin.h"
#include "cxone/log.h"
#include "cxone/util.h"

#define MAX_BATCH_ID      128
#define MAX_CONTACT_ID    128
#define MAX_COLUMN_NAME   256
#define DEFAULT_TIMEOUT_S 600

/* One produced request. */
typedef struct {
        unsigned long line; /* CSV line it came from */
        char *contact_id;
        int delivered;     /* 0 pending, 1 acknowledged, -1 failed */
        int32_t partition; /* from the delivery report */
        int64_t offset;
        ctl_status_t status; /* its outcome, UNKNOWN until seen */
        char *error;         /* delivery error or the outcome's error */
} req_t;

typedef struct {
        const cxw_config_t *cfg;
        const char *path;
        char batch_id[MAX_BATCH_ID + 1];
        bool wait, quiet;
        long timeout_s;

        /* CSV columns: the JSON field name of each, or NULL for contactId. */
        char **columns;
        size_t ncols;
        size_t id_col;

        req_t *reqs;
        size_t nreqs, cap;
        size_t skipped;
        size_t acked, delivery_failed;

        rd_kafka_t *producer;
        rd_kafka_t *consumer;
        size_t *by_source; /* indexes of acked reqs sorted by (partition, offset) */
        size_t nby_source;
} import_t;

/* ---- arguments ---------------------------------------------------------- */

static void usage(void)
{
        fprintf(stderr,
                "usage: cxonectl contacts import FILE.csv [--batch-id ID] [--wait] "
                "[--timeout SECONDS] [--quiet]\n");
}

static bool batch_id_ok(const char *s)
{
        size_t n = strlen(s);

        if (n == 0 || n > MAX_BATCH_ID)
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

static int parse_args(import_t *im, int argc, char **argv)
{
        im->timeout_s = DEFAULT_TIMEOUT_S;
        for (int i = 1; i < argc; i++) {
                const char *a = argv[i];
                const char *v = i + 1 < argc ? argv[i + 1] : NULL;

                if (!strcmp(a, "--batch-id")) {
                        if (!v || !batch_id_ok(v)) {
                                fprintf(stderr,
                                        "cxonectl: --batch-id: 1-%d printable "
                                        "characters without spaces\n",
                                        MAX_BATCH_ID);
                                return -1;
                        }
                        cxw_strlcpy(im->batch_id, v, sizeof(im->batch_id));
                        i++;
                } else if (!strcmp(a, "--wait")) {
                        im->wait = true;
                } else if (!strcmp(a, "--quiet") || !strcmp(a, "-q")) {
                        im->quiet = true;
                } else if (!strcmp(a, "--timeout")) {
                        if (ctl_parse_int(a, v, 1, 7 * 24 * 3600, &im->timeout_s) != 0)
                                return -1;
                        i++;
                } else if (!strcmp(a, "-h") || !strcmp(a, "--help")) {
                        usage();
                        return 1;
                } else if (a[0] == '-' && a[1] != '\0') {
                        fprintf(stderr,
                                "cxonectl: contacts import: unknown option '%s'\n", a);
                        usage();
                        return -1;
                } else if (!im->path) {
                        im->path = a;
                } else {
                        fprintf(stderr,
                                "cxonectl: contacts import: one file only ('%s')\n", a);
                        return -1;
                }
        }
        if (!im->path) {
                usage();
                return -1;
        }
        if (!im->batch_id[0])
                make_batch_id(im->batch_id, sizeof(im->batch_id));
        return 0;
}

/* ---- CSV header and rows ------------------------------------------------ */

/* The header alias table: a normalised column name and the field it maps to. */
static const struct {
        const char *alias;
        const char *field;
} aliases[] = {
    {"contactid", "contactId"}, {"id", "contactId"},    {"contact", "contactId"},
    {"firstname", "firstName"}, {"first", "firstName"}, {"givenname", "firstName"},
    {"lastname", "lastName"},   {"last", "lastName"},   {"surname", "lastName"},
    {"familyname", "lastName"}, {"email", "email"},     {"emailaddress", "email"},
    {"mail", "email"},
};

/* Lower-case ASCII, without ' ', '_' and '-'. */
static void normalise(const char *s, char *out, size_t size)
{
        size_t n = 0;

        for (; *s && n + 1 < size; s++) {
                char c = *s;
                if (c == ' ' || c == '_' || c == '-')
                        continue;
                out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        out[n] = '\0';
}

static const char *map_column(const char *name)
{
        char norm[MAX_COLUMN_NAME + 1];

        normalise(name, norm, sizeof(norm));
        for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
                if (!strcmp(norm, aliases[i].alias))
                        return aliases[i].field;
        }
        return NULL;
}

static int read_header(import_t *im, const cxw_csv_record_t *rec)
{
        const char *name = im->path;
        bool have_id = false;

        im->columns = calloc(rec->count, sizeof(*im->columns));
        if (!im->columns)
                return -1;
        im->ncols = rec->count;
        for (size_t i = 0; i < rec->count; i++) {
                const char *col = rec->fields[i];
                const char *field = map_column(col);
                json_t *probe;

                if (rec->lens[i] == 0 || rec->lens[i] > MAX_COLUMN_NAME ||
                    strlen(col) != rec->lens[i]) {
                        fprintf(stderr,
                                "%s:%lu: column %zu: a name of 1-%d bytes is needed\n",
                                name, rec->line, i + 1, MAX_COLUMN_NAME);
                        return -1;
                }
                probe = json_string(col);
                if (!probe) {
                        fprintf(stderr, "%s:%lu: column %zu: name is not valid UTF-8\n",
                                name, rec->line, i + 1);
                        return -1;
                }
                json_decref(probe);
                if (!field)
                        field = col; /* passed through; the worker judges it */
                for (size_t j = 0; j < i; j++) {
                        const char *other = im->columns[j] ? im->columns[j] : "contactId";
                        if (!strcmp(other, field)) {
                                fprintf(stderr,
                                        "%s:%lu: columns %zu and %zu both give %s\n",
                                        name, rec->line, j + 1, i + 1, field);
                                return -1;
                        }
                }
                if (!strcmp(field, "contactId")) {
                        have_id = true;
                        im->id_col = i;
                        continue; /* columns[i] stays NULL */
                }
                im->columns[i] = strdup(field);
                if (!im->columns[i])
                        return -1;
        }
        if (!have_id) {
                fprintf(stderr,
                        "%s:%lu: no contactId column (contactId, id or contact)\n", name,
                        rec->line);
                return -1;
        }
        return 0;
}

static bool contact_id_ok(const char *s, size_t len)
{
        if (len == 0 || len > MAX_CONTACT_ID)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

/* The request value of one row, or NULL after reporting why on stderr. */
static char *row_value(import_t *im, const cxw_csv_record_t *rec)
{
        json_t *obj = NULL;
        char *out = NULL;

        if (rec->count != im->ncols) {
                fprintf(stderr, "%s:%lu: expected %zu fields, found %zu; row skipped\n",
                        im->path, rec->line, im->ncols, rec->count);
                return NULL;
        }
        if (rec->lens[im->id_col] == 0) {
                fprintf(stderr, "%s:%lu: no contactId; row skipped\n", im->path,
                        rec->line);
                return NULL;
        }
        if (!contact_id_ok(rec->fields[im->id_col], rec->lens[im->id_col])) {
                fprintf(stderr,
                        "%s:%lu: contactId '%.64s' is not 1-%d of A-Z a-z 0-9 . _ -; row "
                        "skipped\n",
                        im->path, rec->line, rec->fields[im->id_col], MAX_CONTACT_ID);
                return NULL;
        }
        obj = json_object();
        if (!obj || json_object_set_new(obj, "contactId",
                                        json_string(rec->fields[im->id_col])) != 0)
                goto oom;
        for (size_t i = 0; i < im->ncols; i++) {
                json_t *v;

                if (!im->columns[i])
                        continue;
                v = json_stringn(rec->fields[i], rec->lens[i]);
                if (!v) {
                        fprintf(
                            stderr,
                            "%s:%lu: %s is not valid UTF-8 (save the file as UTF-8); row "
                            "skipped\n",
                            im->path, rec->line, im->columns[i]);
                        json_decref(obj);
                        return NULL;
                }
                if (json_object_set_new(obj, im->columns[i], v) != 0)
                        goto oom;
        }
        out = json_dumps(obj, JSON_COMPACT);
        if (!out)
                goto oom;
        json_decref(obj);
        return out;
oom:
        fprintf(stderr, "%s:%lu: out of memory; row skipped\n", im->path, rec->line);
        json_decref(obj);
        return NULL;
}

/* ---- producing ---------------------------------------------------------- */

static void dr_cb(rd_kafka_t *rk, const rd_kafka_message_t *m, void *opaque)
{
        import_t *im = opaque;
        size_t idx = (size_t)(uintptr_t)m->_private;
        req_t *r;

        (void)rk;
        if (idx >= im->nreqs)
                return;
        r = &im->reqs[idx];
        if (m->err) {
                r->delivered = -1;
                free(r->error);
                r->error = strdup(rd_kafka_err2str(m->err));
                im->delivery_failed++;
        } else {
                r->delivered = 1;
                r->partition = m->partition;
                r->offset = m->offset;
                im->acked++;
        }
}

/* librdkafka's log callback shows connection trouble already; here only
 * what decides the import's fate. */
static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        (void)opaque;
        if (err == RD_KAFKA_RESP_ERR__FATAL) {
                char why[512];
                rd_kafka_fatal_error(rk, why, sizeof(why));
                CXW_ERROR("kafka", "fatal producer error: %s", why);
        } else if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN) {
                CXW_WARN("kafka", "%s (retrying until message.timeout.ms)", reason);
        }
}

static rd_kafka_t *make_producer(import_t *im)
{
        char errstr[512], cur[64];
        size_t cur_len = sizeof(cur);
        rd_kafka_conf_t *conf =
            ctl_kafka_conf(im->cfg, CTL_PRODUCER, errstr, sizeof(errstr));
        rd_kafka_t *rk;

        if (!conf)
                goto fail;
        /* A CLI should not hang five minutes on an unreachable cluster: one
         * minute unless the configuration says otherwise. */
        if (rd_kafka_conf_get(conf, "message.timeout.ms", cur, &cur_len) ==
                RD_KAFKA_CONF_OK &&
            !strcmp(cur, "300000") &&
            ctl_conf_set(conf, "message.timeout.ms", "60000", errstr, sizeof(errstr)))
                goto fail;
        /* Not negotiable: no duplicates, no reordering, every replica. */
        if (ctl_conf_set(conf, "enable.idempotence", "true", errstr, sizeof(errstr)) ||
            ctl_conf_set(conf, "acks", "all", errstr, sizeof(errstr)))
                goto fail;
        rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_conf_set_error_cb(conf, error_cb);
        rd_kafka_conf_set_opaque(conf, im);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, sizeof(errstr));
        if (!rk)
                goto fail;
        return rk;
fail:
        if (conf)
                rd_kafka_conf_destroy(conf);
        fprintf(stderr, "cxonectl: kafka producer: %s\n", errstr);
        return NULL;
}

static int add_req(import_t *im, unsigned long line, const char *contact_id)
{
        req_t *r;

        if (im->nreqs == im->cap) {
                size_t cap = im->cap ? im->cap * 2 : 256;
                req_t *v = realloc(im->reqs, cap * sizeof(*v));
                if (!v)
                        return -1;
                im->reqs = v;
                im->cap = cap;
        }
        r = &im->reqs[im->nreqs];
        memset(r, 0, sizeof(*r));
        r->line = line;
        r->partition = -1;
        r->offset = -1;
        r->contact_id = strdup(contact_id);
        if (!r->contact_id)
                return -1;
        im->nreqs++;
        return 0;
}

/* Produces one request; waits for queue space if the local queue is full. */
static int produce(import_t *im, const cxw_csv_record_t *rec, char *value)
{
        char corr[MAX_BATCH_ID + 32];
        const char *id = im->reqs[im->nreqs - 1].contact_id;
        rd_kafka_resp_err_t err;

        snprintf(corr, sizeof(corr), "%s:%lu", im->batch_id, rec->line);
        for (;;) {
                err = rd_kafka_producev(
                    im->producer, RD_KAFKA_V_TOPIC(im->cfg->topic_contacts),
                    RD_KAFKA_V_KEY(id, strlen(id)),
                    RD_KAFKA_V_VALUE(value, strlen(value)),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                    RD_KAFKA_V_HEADER("batch-id", im->batch_id, -1),
                    RD_KAFKA_V_HEADER("correlation-id", corr, -1),
                    RD_KAFKA_V_OPAQUE((void *)(uintptr_t)(im->nreqs - 1)),
                    RD_KAFKA_V_END);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || ctl_stop)
                        break;
                rd_kafka_poll(im->producer, 100);
        }
        if (err) {
                fprintf(stderr, "%s:%lu: cannot produce: %s\n", im->path, rec->line,
                        rd_kafka_err2str(err));
                return -1;
        }
        rd_kafka_poll(im->producer, 0); /* serve delivery reports as we go */
        return 0;
}

/* Opens the CSV and reads its header. Returns the reader, or NULL after
 * reporting why (nothing has been sent then). */
static cxw_csvin_t *open_csv(import_t *im)
{
        char errstr[512];
        cxw_csv_record_t *rec;
        cxw_csvin_t *in = cxw_csvin_open(im->path, errstr, sizeof(errstr));
        int rc;

        if (!in) {
                fprintf(stderr, "cxonectl: %s\n", errstr);
                return NULL;
        }
        rc = cxw_csvin_next(in, &rec, errstr, sizeof(errstr));
        if (rc == 0)
                fprintf(stderr, "%s: empty file: a header line is needed\n", im->path);
        else if (rc < 0)
                fprintf(stderr, "%s (the header)\n", errstr);
        if (rc <= 0 || read_header(im, rec) != 0) {
                cxw_csvin_close(in);
                return NULL;
        }
        return in;
}

/* Produces the good rows after the header. Returns 0, or -1 on a fatal
 * problem (read error, Kafka refusing messages, interrupted). */
static int produce_rows(import_t *im, cxw_csvin_t *in)
{
        char errstr[512];
        cxw_csv_record_t *rec;
        int rc;

        while (!ctl_stop) {
                char *value;

                rc = cxw_csvin_next(in, &rec, errstr, sizeof(errstr));
                if (rc == 0)
                        break;
                if (rc == -2) {
                        fprintf(stderr, "%s\n", errstr);
                        return -1;
                }
                if (rc == -1) {
                        fprintf(stderr, "%s; row skipped\n", errstr);
                        im->skipped++;
                        continue;
                }
                value = row_value(im, rec);
                if (!value) {
                        im->skipped++;
                        continue;
                }
                if (add_req(im, rec->line, rec->fields[im->id_col]) != 0) {
                        fprintf(stderr, "cxonectl: out of memory\n");
                        free(value);
                        return -1;
                }
                rc = produce(im, rec, value);
                free(value);
                if (rc != 0)
                        return -1;
        }
        return ctl_stop ? -1 : 0;
}

/* Waits for every delivery report (bounded by message.timeout.ms). */
static void flush_all(import_t *im)
{
        while (rd_kafka_outq_len(im->producer) > 0 && !ctl_stop)
                rd_kafka_flush(im->producer, 500);
        rd_kafka_poll(im->producer, 0);
}

/* ---- waiting for outcomes ----------------------------------------------- */

/* Assigns a consumer to the current end of every results partition, so that
 * exactly the outcomes written from now on are read. */
static int start_results_consumer(import_t *im)
{
        const char *topic = im->cfg->topic_results;
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_conf_t *conf;
        char errstr[512];
        rd_kafka_resp_err_t aerr;
        int n, ret = -1;

        conf = ctl_kafka_conf(im->cfg, CTL_CONSUMER, errstr, sizeof(errstr));
        if (!conf)
                goto fail;
        im->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!im->consumer) {
                rd_kafka_conf_destroy(conf);
                goto fail;
        }
        rd_kafka_poll_set_consumer(im->consumer);
        n = ctl_topic_partitions(im->consumer, topic, 10000, errstr, sizeof(errstr));
        if (n < 0)
                goto fail;
        parts = rd_kafka_topic_partition_list_new(n);
        for (int p = 0; p < n; p++) {
                int64_t lo = 0, hi = 0;
                rd_kafka_resp_err_t err = rd_kafka_query_watermark_offsets(
                    im->consumer, topic, p, &lo, &hi, 10000);
                if (err) {
                        snprintf(errstr, sizeof(errstr), "%s [%d]: end offset: %s", topic,
                                 p, rd_kafka_err2str(err));
                        goto fail;
                }
                rd_kafka_topic_partition_list_add(parts, topic, p)->offset = hi;
        }
        if ((aerr = rd_kafka_assign(im->consumer, parts)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
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

/* qsort context-free comparator needs the array: sort pairs instead. */
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

static source_t *index_sources(import_t *im, size_t *n)
{
        source_t *v = calloc(im->acked ? im->acked : 1, sizeof(*v));
        size_t k = 0;

        if (!v)
                return NULL;
        for (size_t i = 0; i < im->nreqs && k < im->acked; i++) {
                if (im->reqs[i].delivered != 1)
                        continue;
                v[k].partition = im->reqs[i].partition;
                v[k].offset = im->reqs[i].offset;
                v[k].idx = i;
                k++;
        }
        qsort(v, k, sizeof(*v), cmp_source);
        *n = k;
        return v;
}

/* The request an outcome answers, or NULL if it is not one of ours. */
static req_t *match(import_t *im, const source_t *src, size_t nsrc,
                    const ctl_outcome_t *o)
{
        if (!o->batch_id || strcmp(o->batch_id, im->batch_id) != 0)
                return NULL;
        if (o->src_topic && o->src_partition >= 0 && o->src_offset >= 0) {
                source_t key = {o->src_partition, o->src_offset, 0};
                source_t *hit;

                if (strcmp(o->src_topic, im->cfg->topic_contacts) != 0)
                        return NULL;
                hit = bsearch(&key, src, nsrc, sizeof(*src), cmp_source);
                return hit ? &im->reqs[hit->idx] : NULL;
        }
        /* No source: fall back on the correlation id "<batch>:<line>". */
        if (o->correlation_id) {
                size_t bl = strlen(im->batch_id);
                char *end;
                unsigned long line;

                if (strncmp(o->correlation_id, im->batch_id, bl) != 0 ||
                    o->correlation_id[bl] != ':')
                        return NULL;
                line = strtoul(o->correlation_id + bl + 1, &end, 10);
                if (*end != '\0')
                        return NULL;
                for (size_t i = 0; i < im->nreqs; i++) {
                        if (im->reqs[i].line == line && im->reqs[i].delivered == 1)
                                return &im->reqs[i];
                }
        }
        return NULL;
}

typedef struct {
        size_t succeeded, rejected, failed;
} counts_t;

static void print_summary(const import_t *im, const counts_t *c)
{
        printf("Succeeded %zu | Rejected %zu | Failed %zu\n", c->succeeded, c->rejected,
               c->failed);
        for (size_t i = 0; i < im->nreqs; i++) {
                const req_t *r = &im->reqs[i];
                if (r->status != CTL_ST_REJECTED && r->status != CTL_ST_FAILED)
                        continue;
                printf("  %s (line %lu): %s: %s\n", r->contact_id, r->line,
                       r->status == CTL_ST_REJECTED ? "rejected" : "failed",
                       r->error ? r->error : "(no error text)");
        }
}

static int wait_outcomes(import_t *im)
{
        size_t nsrc = 0, got = 0, shown = (size_t)-1, skipped = 0;
        source_t *src = index_sources(im, &nsrc);
        counts_t c = {0};
        int64_t deadline = cxw_now_ms() + (int64_t)im->timeout_s * 1000;
        int64_t next_progress = 0;
        bool progress = !im->quiet && isatty(STDOUT_FILENO) && isatty(STDERR_FILENO);
        int rc;

        if (!src) {
                fprintf(stderr, "cxonectl: out of memory\n");
                return CTL_EXIT_ERROR;
        }
        while (got < nsrc && !ctl_stop && cxw_now_ms() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(im->consumer, 200);
                ctl_outcome_t o;
                char why[256];
                req_t *r;

                if (progress && (got != shown || cxw_now_ms() >= next_progress)) {
                        fprintf(stderr, "\rwaiting for outcomes: %zu/%zu (%llds left) ",
                                got, nsrc, (long long)(deadline - cxw_now_ms()) / 1000);
                        shown = got;
                        next_progress = cxw_now_ms() + 1000;
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
                r = match(im, src, nsrc, &o);
                if (r && r->status == CTL_ST_UNKNOWN) {
                        if (o.status == CTL_ST_UNKNOWN) {
                                fprintf(
                                    stderr,
                                    "cxonectl: warning: outcome for line %lu has status "
                                    "'%.32s'; ignored\n",
                                    r->line, o.status_str ? o.status_str : "(none)");
                        } else {
                                r->status = o.status;
                                if (o.error)
                                        r->error = strdup(o.error);
                                got++;
                                if (o.status == CTL_ST_SUCCEEDED)
                                        c.succeeded++;
                                else if (o.status == CTL_ST_REJECTED)
                                        c.rejected++;
                                else
                                        c.failed++;
                        }
                }
                ctl_outcome_clear(&o);
                rd_kafka_message_destroy(m);
        }
        if (progress)
                fprintf(stderr, "\r%60s\r", "");

        print_summary(im, &c);
        if (got == nsrc)
                rc = (c.rejected || c.failed) ? CTL_EXIT_REJECTED : CTL_EXIT_OK;
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

/* ---- the command -------------------------------------------------------- */

static void import_free(import_t *im)
{
        for (size_t i = 0; i < im->nreqs; i++) {
                free(im->reqs[i].contact_id);
                free(im->reqs[i].error);
        }
        free(im->reqs);
        for (size_t i = 0; im->columns && i < im->ncols; i++)
                free(im->columns[i]);
        free(im->columns);
        if (im->consumer) {
                rd_kafka_consumer_close(im->consumer);
                rd_kafka_destroy(im->consumer);
        }
        if (im->producer)
                rd_kafka_destroy(im->producer);
}

int ctl_import_main(const cxw_config_t *cfg, int argc, char **argv)
{
        import_t im;
        cxw_csvin_t *in = NULL;
        int rc = CTL_EXIT_ERROR, prc;

        memset(&im, 0, sizeof(im));
        im.cfg = cfg;
        prc = parse_args(&im, argc, argv);
        if (prc != 0)
                return prc > 0 ? CTL_EXIT_OK : CTL_EXIT_ERROR;

        in = open_csv(&im);
        if (!in)
                goto out;
        if (im.wait && start_results_consumer(&im) != 0)
                goto out;
        im.producer = make_producer(&im);
        if (!im.producer)
                goto out;

        printf("%s\n", im.batch_id);
        fflush(stdout);

        prc = produce_rows(&im, in);
        flush_all(&im);
        for (size_t i = 0; i < im.nreqs; i++) {
                if (im.reqs[i].delivered == -1)
                        fprintf(stderr, "%s:%lu: contact %s: delivery failed: %s\n",
                                im.path, im.reqs[i].line, im.reqs[i].contact_id,
                                im.reqs[i].error ? im.reqs[i].error : "unknown");
                else if (im.reqs[i].delivered == 0)
                        fprintf(stderr,
                                "%s:%lu: contact %s: no delivery report (interrupted)\n",
                                im.path, im.reqs[i].line, im.reqs[i].contact_id);
        }
        if (!im.quiet || im.acked != im.nreqs || prc != 0)
                fprintf(stderr, "batch %s: produced %zu, skipped %zu", im.batch_id,
                        im.acked, im.skipped);
        if (im.acked != im.nreqs)
                fprintf(stderr, ", NOT DELIVERED %zu", im.nreqs - im.acked);
        if (!im.quiet || im.acked != im.nreqs || prc != 0)
                fprintf(stderr, "\n");
        if (prc != 0 || im.delivery_failed || im.acked != im.nreqs) {
                if (ctl_stop)
                        fprintf(stderr, "cxonectl: interrupted\n");
                goto out;
        }
        rc = im.wait ? wait_outcomes(&im) : CTL_EXIT_OK;
out:
        fflush(stdout);
        cxw_csvin_close(in);
        import_free(&im);
        return rc;
}
