/* ctl_results.c: `cxonectl results` (the outcomes on the results topic) and
 * the debugging aid `cxonectl topic dump TOPIC`. Both read a topic from the
 * beginning of every partition without a consumer group (nothing committed,
 * nothing rebalanced) and stop at the end unless following. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/base/log.h"
#include "cxone/base/util.h"

#define MAX_PARTITIONS 10000
/* Without --follow, give up when Kafka says nothing at all for this long. */
#define IDLE_LIMIT_MS 60000

int ctl_read_topic(const cxw_config_t *cfg, const char *topic, bool follow,
                   ctl_on_message_t on_message, void *ctx)
{
        rd_kafka_topic_partition_list_t *parts = NULL;
        rd_kafka_conf_t *conf;
        rd_kafka_t *rk = NULL;
        char errstr[512];
        rd_kafka_resp_err_t aerr;
        bool *at_end = NULL;
        int n = 0, ended = 0, rc = CTL_EXIT_ERROR;
        int64_t last_event;

        conf = ctl_kafka_conf(cfg, CTL_CONSUMER, errstr, sizeof(errstr));
        if (!conf)
                goto fail;
        if (ctl_conf_set(conf, "enable.partition.eof", "true", errstr, sizeof(errstr))) {
                rd_kafka_conf_destroy(conf);
                goto fail;
        }
        rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, errstr, sizeof(errstr));
        if (!rk) {
                rd_kafka_conf_destroy(conf);
                goto fail;
        }
        rd_kafka_poll_set_consumer(rk);
        n = ctl_topic_partitions(rk, topic, 10000, errstr, sizeof(errstr));
        if (n < 0)
                goto fail;
        if (n > MAX_PARTITIONS) {
                snprintf(errstr, sizeof(errstr), "topic %s: %d partitions is too many",
                         topic, n);
                goto fail;
        }
        at_end = calloc((size_t)n, sizeof(*at_end));
        parts = rd_kafka_topic_partition_list_new(n);
        if (!at_end || !parts) {
                snprintf(errstr, sizeof(errstr), "out of memory");
                goto fail;
        }
        for (int p = 0; p < n; p++)
                rd_kafka_topic_partition_list_add(parts, topic, p)->offset =
                    RD_KAFKA_OFFSET_BEGINNING;
        if ((aerr = rd_kafka_assign(rk, parts)) != RD_KAFKA_RESP_ERR_NO_ERROR) {
                snprintf(errstr, sizeof(errstr), "topic %s: cannot assign: %s", topic,
                         rd_kafka_err2str(aerr));
                goto fail;
        }

        last_event = cxw_now_ms();
        while (!ctl_stop && (follow || ended < n)) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(rk, 200);

                if (!m) {
                        if (!follow && cxw_now_ms() - last_event > IDLE_LIMIT_MS) {
                                snprintf(errstr, sizeof(errstr),
                                         "topic %s: no answer from Kafka for %d s", topic,
                                         IDLE_LIMIT_MS / 1000);
                                goto fail;
                        }
                        continue;
                }
                last_event = cxw_now_ms();
                if (m->err == RD_KAFKA_RESP_ERR__PARTITION_EOF) {
                        if (m->partition >= 0 && m->partition < n &&
                            !at_end[m->partition]) {
                                at_end[m->partition] = true;
                                ended++;
                        }
                } else if (m->err) {
                        CXW_WARN("kafka", "%s: %s", topic, rd_kafka_message_errstr(m));
                } else if (on_message(m, ctx) != 0) {
                        rd_kafka_message_destroy(m);
                        goto out;
                }
                rd_kafka_message_destroy(m);
        }
        rc = CTL_EXIT_OK;
        goto out;
fail:
        fprintf(stderr, "cxonectl: %s\n", errstr);
out:
        if (parts)
                rd_kafka_topic_partition_list_destroy(parts);
        free(at_end);
        if (rk) {
                rd_kafka_consumer_close(rk);
                rd_kafka_destroy(rk);
        }
        return rc;
}

/* ---- results ------------------------------------------------------------ */

typedef struct {
        const char *batch_id;
        bool json;
        size_t succeeded, rejected, failed, other, skipped;
} results_t;

/* Every text of a record is printed through cxw_printable(): a record on
 * the topic is anyone's bytes, and CXone's own texts reach it (security
 * finding 6), so no control character (a terminal escape) gets through:
 * bytes outside printable ASCII show as '?', longer texts end in "...". */
#define FIELD_MAX 256
#define ERROR_MAX 4096

/* s for the line: printable, at most FIELD_MAX bytes; "-" for NULL. */
static const char *shown(const char *s, char buf[FIELD_MAX + 4])
{
        return s ? cxw_printable(s, strlen(s), FIELD_MAX, buf) : "-";
}

static int on_outcome(const rd_kafka_message_t *m, void *ctx)
{
        results_t *rs = ctx;
        ctl_outcome_t o;
        char why[256], http[32], attempts[32];
        char f[6][FIELD_MAX + 4], err[ERROR_MAX + 4];

        if (ctl_outcome_decode(m, &o, why, sizeof(why)) != 0) {
                /* jansson's reason may quote the record's bytes */
                ctl_warn_skipped(&rs->skipped, m,
                                 cxw_printable(why, strlen(why), 255, err));
                return 0;
        }
        if (rs->batch_id && (!o.batch_id || strcmp(o.batch_id, rs->batch_id) != 0))
                goto out;
        switch (o.status) {
        case CTL_ST_SUCCEEDED:
                rs->succeeded++;
                break;
        case CTL_ST_REJECTED:
                rs->rejected++;
                break;
        case CTL_ST_FAILED:
                rs->failed++;
                break;
        default:
                rs->other++;
                break;
        }
        if (rs->json) {
                fwrite(m->payload, 1, m->len, stdout);
                fputc('\n', stdout);
        } else {
                if (o.http_status >= 0)
                        snprintf(http, sizeof(http), "%lld", o.http_status);
                else
                        cxw_strlcpy(http, "-", sizeof(http));
                if (o.attempts >= 0)
                        snprintf(attempts, sizeof(attempts), "%lld", o.attempts);
                else
                        cxw_strlcpy(attempts, "-", sizeof(attempts));
                printf("%s %s %s ", shown(o.finished_at, f[0]), shown(o.type, f[1]),
                       shown(o.status_str, f[2]));
                if (o.type && !strcmp(o.type, "schedule-import"))
                        /* The calendar says which import; the job is CXone's
                         * handle on it, absent when no job was started. */
                        printf("%s job=%s",
                               shown(o.calendar_id ? o.calendar_id
                                     : o.key[0]    ? o.key
                                                   : NULL,
                                     f[3]),
                               shown(o.job_id, f[4]));
                else
                        printf("%s", shown(o.contact_id ? o.contact_id : o.job_id, f[3]));
                printf(" http=%s attempts=%s batch=%s%s%s\n", http, attempts,
                       shown(o.batch_id, f[5]), o.error ? " " : "",
                       o.error ? cxw_printable(o.error, strlen(o.error), ERROR_MAX, err)
                               : "");
        }
        fflush(stdout);
out:
        ctl_outcome_clear(&o);
        return 0;
}

int ctl_results_main(const cxw_config_t *cfg, int argc, char **argv)
{
        results_t rs = {0};
        bool follow = false;
        int rc;

        for (int i = 1; i < argc; i++) {
                if (!strcmp(argv[i], "--batch-id")) {
                        if (i + 1 >= argc) {
                                fprintf(stderr, "cxonectl: --batch-id needs a value\n");
                                return CTL_EXIT_ERROR;
                        }
                        rs.batch_id = argv[++i];
                } else if (!strcmp(argv[i], "--follow") || !strcmp(argv[i], "-f")) {
                        follow = true;
                } else if (!strcmp(argv[i], "--json")) {
                        rs.json = true;
                } else if (!strcmp(argv[i], "-h") || !strcmp(argv[i], "--help")) {
                        printf("usage: cxonectl results [--batch-id ID] [--follow] "
                               "[--json]\n");
                        return CTL_EXIT_OK;
                } else {
                        fprintf(stderr,
                                "cxonectl: results: unknown argument '%s'\n"
                                "usage: cxonectl results [--batch-id ID] [--follow] "
                                "[--json]\n",
                                argv[i]);
                        return CTL_EXIT_ERROR;
                }
        }
        rc = ctl_read_topic(cfg, cfg->topic_results, follow, on_outcome, &rs);
        if (rc == CTL_EXIT_OK) {
                /* In --json mode stdout is JSON lines only; the summary goes
                 * to stderr there. */
                fprintf(rs.json ? stderr : stdout,
                        "Succeeded %zu | Rejected %zu | Failed %zu\n", rs.succeeded,
                        rs.rejected, rs.failed);
                if (rs.skipped > 0)
                        fprintf(stderr,
                                "cxonectl: %zu message(s) were not outcome records and "
                                "were skipped\n",
                                rs.skipped);
        }
        return rc;
}

/* ---- topic dump --------------------------------------------------------- */

/* A JSON string of arbitrary bytes: as they are when they are UTF-8, else
 * with every byte above 0x7f replaced by '?' (this is a debugging view). */
json_t *ctl_bytes_json(const void *p, size_t len)
{
        json_t *j;
        char *ascii;

        if (!p)
                return json_null();
        if ((j = json_stringn(p, len)))
                return j;
        ascii = malloc(len + 1);
        if (!ascii)
                return json_null();
        for (size_t i = 0; i < len; i++) {
                unsigned char c = ((const unsigned char *)p)[i];
                ascii[i] = c > 0x7f ? '?' : (char)c;
        }
        j = json_stringn(ascii, len);
        free(ascii);
        return j ? j : json_null();
}

json_t *ctl_message_json(const rd_kafka_message_t *m)
{
        rd_kafka_headers_t *hdrs = NULL;
        rd_kafka_timestamp_type_t tstype;
        int64_t ts;
        json_t *obj = json_object(), *h = json_object();

        if (!obj || !h) {
                json_decref(obj);
                json_decref(h);
                return NULL;
        }
        json_object_set_new(obj, "topic", json_string(rd_kafka_topic_name(m->rkt)));
        json_object_set_new(obj, "partition", json_integer(m->partition));
        json_object_set_new(obj, "offset", json_integer(m->offset));
        ts = rd_kafka_message_timestamp(m, &tstype);
        json_object_set_new(
            obj, "timestamp",
            tstype == RD_KAFKA_TIMESTAMP_NOT_AVAILABLE ? json_null() : json_integer(ts));
        json_object_set_new(obj, "key", ctl_bytes_json(m->key, m->key_len));
        if (rd_kafka_message_headers(m, &hdrs) == RD_KAFKA_RESP_ERR_NO_ERROR && hdrs) {
                const char *name;
                const void *val;
                size_t len;

                /* A repeated header: the last one wins, as in ctl_header_get. */
                for (size_t i = 0; rd_kafka_header_get_all(hdrs, i, &name, &val, &len) ==
                                   RD_KAFKA_RESP_ERR_NO_ERROR;
                     i++) {
                        json_t *n = ctl_bytes_json(name, strlen(name));
                        if (json_is_string(n))
                                json_object_set_new(h, json_string_value(n),
                                                    ctl_bytes_json(val, len));
                        json_decref(n);
                }
        }
        json_object_set_new(obj, "headers", h);
        json_object_set_new(obj, "value", ctl_bytes_json(m->payload, m->len));
        return obj;
}

int ctl_print_message_json(const rd_kafka_message_t *m)
{
        json_t *obj = ctl_message_json(m);
        char *line = obj ? json_dumps(obj, JSON_COMPACT) : NULL;

        json_decref(obj);
        if (!line) {
                fprintf(stderr, "cxonectl: out of memory\n");
                return -1;
        }
        puts(line);
        free(line);
        return 0;
}

static int on_dump(const rd_kafka_message_t *m, void *ctx)
{
        (void)ctx;
        return ctl_print_message_json(m);
}

int ctl_topic_dump_main(const cxw_config_t *cfg, int argc, char **argv)
{
        if (argc == 2 && (!strcmp(argv[1], "-h") || !strcmp(argv[1], "--help"))) {
                printf("usage: cxonectl topic dump TOPIC\n");
                return CTL_EXIT_OK;
        }
        if (argc != 2 || argv[1][0] == '-') {
                fprintf(stderr, "usage: cxonectl topic dump TOPIC\n");
                return CTL_EXIT_ERROR;
        }
        return ctl_read_topic(cfg, argv[1], false, on_dump, NULL);
}
