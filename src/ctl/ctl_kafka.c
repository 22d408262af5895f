/* ctl_kafka.c: what cxonectl's subcommands share: Kafka client configuration
 * from the config file, metadata, outcome decoding. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cxone/base/log.h"
#include "cxone/base/util.h"
#include "cxone/io/kafka.h"

int ctl_conf_set(rd_kafka_conf_t *conf, const char *name, const char *value, char *errstr,
                 size_t errstr_size)
{
        /* librdkafka's own message names the property and the reason. */
        if (rd_kafka_conf_set(conf, name, value, errstr, errstr_size) != RD_KAFKA_CONF_OK)
                return -1;
        return 0;
}

/* librdkafka's log lines go through the JSON logger. Its levels are syslog's. */
void ctl_kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        cxw_log_level_t l = level <= 3   ? CXW_LOG_ERROR
                            : level == 4 ? CXW_LOG_WARN
                            : level <= 6 ? CXW_LOG_INFO
                                         : CXW_LOG_DEBUG;

        (void)rk;
        CXW_LOG(l, "rdkafka", "%s: %s", fac, buf);
}

rd_kafka_conf_t *ctl_kafka_conf(const cxw_config_t *cfg, ctl_client_t kind, char *errstr,
                                size_t errstr_size)
{
        rd_kafka_conf_t *conf;
        const char *defaults[3] = {NULL, NULL, NULL};
        char group[64];

        if (kind == CTL_CONSUMER) {
                /* cxonectl reads by assignment and never commits, but
                 * librdkafka 2.0 wants a group id before it assigns: a
                 * throw-away one, never the workers' group. */
                snprintf(group, sizeof(group), "group.id=cxonectl-%ld", (long)getpid());
                defaults[0] = group;
                /* Only what a transaction committed (kafka.exactly_once): an
                 * outcome of an aborted transaction, or of one a killed
                 * replica left open, is never shown (docs/messages.md).
                 * librdkafka's default too; said here as it is a promise, and
                 * kafka.consumer_properties may still override it. */
                defaults[1] = "isolation.level=read_committed";
        } else {
                /* A CLI should not hang five minutes (librdkafka's default)
                 * on a cluster that went away: one minute, unless the
                 * configuration's properties, applied after the defaults,
                 * say otherwise. A default, as rd_kafka_conf_get() cannot
                 * tell librdkafka's default from a configured value. */
                defaults[0] = "message.timeout.ms=" CTL_MESSAGE_TIMEOUT_MS_STR;
        }
        conf = cxw_kafka_conf_new(
            cfg, kind == CTL_PRODUCER ? CXW_KAFKA_CONF_PRODUCER : CXW_KAFKA_CONF_CONSUMER,
            "cxonectl", defaults, ctl_kafka_log_cb, errstr, errstr_size);
        if (!conf)
                return NULL;
        /* Never commit: reading must not move anybody's offsets. */
        if (kind == CTL_CONSUMER &&
            (ctl_conf_set(conf, "enable.auto.commit", "false", errstr, errstr_size) ||
             ctl_conf_set(conf, "enable.auto.offset.store", "false", errstr,
                          errstr_size))) {
                rd_kafka_conf_destroy(conf);
                return NULL;
        }
        return conf;
}

/* librdkafka's log callback shows connection trouble already; here only
 * what decides a producing command's fate. */
static void producer_error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
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

rd_kafka_t *ctl_producer_new(const cxw_config_t *cfg, ctl_dr_cb_t *dr_cb, void *opaque,
                             char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *conf = ctl_kafka_conf(cfg, CTL_PRODUCER, errstr, errstr_size);
        rd_kafka_t *rk;

        if (!conf)
                return NULL;
        /* Not negotiable: no duplicates, no reordering, every replica. */
        if (ctl_conf_set(conf, "enable.idempotence", "true", errstr, errstr_size) ||
            ctl_conf_set(conf, "acks", "all", errstr, errstr_size))
                goto fail;
        if (dr_cb)
                rd_kafka_conf_set_dr_msg_cb(conf, dr_cb);
        rd_kafka_conf_set_error_cb(conf, producer_error_cb);
        rd_kafka_conf_set_opaque(conf, opaque);
        rk = rd_kafka_new(RD_KAFKA_PRODUCER, conf, errstr, errstr_size);
        if (!rk)
                goto fail;
        return rk;
fail:
        rd_kafka_conf_destroy(conf);
        return NULL;
}

rd_kafka_resp_err_t ctl_produce(rd_kafka_t *rk, const char *topic, int32_t partition,
                                const void *key, size_t key_len, const void *value,
                                size_t value_len, const rd_kafka_headers_t *hdrs,
                                void *msg_opaque)
{
        rd_kafka_resp_err_t err;

        for (;;) {
                /* producev() takes the headers over only when it succeeds:
                 * each attempt gets its own copy. */
                rd_kafka_headers_t *h =
                    hdrs ? rd_kafka_headers_copy(hdrs) : rd_kafka_headers_new(1);

                err = rd_kafka_producev(
                    rk, RD_KAFKA_V_TOPIC(topic), RD_KAFKA_V_PARTITION(partition),
                    RD_KAFKA_V_KEY(key, key ? key_len : 0),
                    RD_KAFKA_V_VALUE((void *)value, value ? value_len : 0),
                    RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_HEADERS(h),
                    RD_KAFKA_V_OPAQUE(msg_opaque), RD_KAFKA_V_END);
                if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                        break;
                rd_kafka_headers_destroy(h);
                if (err != RD_KAFKA_RESP_ERR__QUEUE_FULL || ctl_stop)
                        return err;
                rd_kafka_poll(rk, 100);
        }
        rd_kafka_poll(rk, 0); /* serve delivery reports as we go */
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

void ctl_producer_flush(rd_kafka_t *rk)
{
        while (rd_kafka_outq_len(rk) > 0 && !ctl_stop)
                rd_kafka_flush(rk, 500);
        rd_kafka_poll(rk, 0);
}

int ctl_topic_partitions(rd_kafka_t *rk, const char *topic, int timeout_ms, char *errstr,
                         size_t errstr_size)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        rd_kafka_resp_err_t err;
        int cnt = -1;

        if (!rkt) {
                snprintf(errstr, errstr_size, "topic %s: %s", topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
                return -1;
        }
        err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
        if (err) {
                snprintf(errstr, errstr_size, "topic %s: metadata: %s", topic,
                         rd_kafka_err2str(err));
        } else if (md->topic_cnt != 1 || md->topics[0].err) {
                snprintf(errstr, errstr_size, "topic %s: %s", topic,
                         md->topic_cnt != 1 ? "not in the metadata"
                                            : rd_kafka_err2str(md->topics[0].err));
        } else if (md->topics[0].partition_cnt < 1) {
                snprintf(errstr, errstr_size, "topic %s: has no partitions", topic);
        } else {
                cnt = md->topics[0].partition_cnt;
        }
        if (md)
                rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        return cnt;
}

int ctl_kafka_probe(rd_kafka_t *rk, const cxw_config_t *cfg, const char *topic,
                    int timeout_ms, char *errstr, size_t errstr_size)
{
        const struct rd_kafka_metadata *md = NULL;
        rd_kafka_topic_t *rkt = rd_kafka_topic_new(rk, topic, NULL);
        rd_kafka_resp_err_t err;

        if (!rkt) {
                snprintf(errstr, errstr_size, "topic %s: %s", topic,
                         rd_kafka_err2str(rd_kafka_last_error()));
                return -1;
        }
        err = rd_kafka_metadata(rk, 0, rkt, &md, timeout_ms);
        if (md)
                rd_kafka_metadata_destroy(md);
        rd_kafka_topic_destroy(rkt);
        if (err == RD_KAFKA_RESP_ERR_NO_ERROR)
                return 0;
        snprintf(errstr, errstr_size,
                 "Kafka at %s (kafka.bootstrap_servers or KAFKA_BOOTSTRAP_SERVERS) did "
                 "not answer within %d s: %s",
                 cfg->bootstrap_servers, timeout_ms / 1000, rd_kafka_err2str(err));
        return -1;
}

ctl_status_t ctl_status_parse(const char *s)
{
        if (!s)
                return CTL_ST_UNKNOWN;
        if (!strcmp(s, "succeeded"))
                return CTL_ST_SUCCEEDED;
        if (!strcmp(s, "rejected"))
                return CTL_ST_REJECTED;
        if (!strcmp(s, "failed"))
                return CTL_ST_FAILED;
        return CTL_ST_UNKNOWN;
}

bool ctl_header_get(const rd_kafka_message_t *m, const char *name, char *buf, size_t size)
{
        rd_kafka_headers_t *hdrs = NULL;
        const void *val = NULL;
        size_t len = 0;

        if (size > 0)
                buf[0] = '\0';
        if (rd_kafka_message_headers(m, &hdrs) != RD_KAFKA_RESP_ERR_NO_ERROR || !hdrs)
                return false;
        /* The last one wins, as in Kafka's own clients. */
        if (rd_kafka_header_get_last(hdrs, name, &val, &len) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
                return false;
        if (size > 0) {
                size_t n = len < size - 1 ? len : size - 1;
                if (val && n > 0)
                        memcpy(buf, val, n);
                buf[n] = '\0';
        }
        return true;
}

static const char *str_field(json_t *obj, const char *name)
{
        json_t *v = json_object_get(obj, name);

        return json_is_string(v) ? json_string_value(v) : NULL;
}

static long long int_field(json_t *obj, const char *name)
{
        json_t *v = json_object_get(obj, name);

        if (json_is_integer(v))
                return (long long)json_integer_value(v);
        if (json_is_real(v))
                return (long long)json_real_value(v);
        return -1;
}

int ctl_outcome_decode(const rd_kafka_message_t *m, ctl_outcome_t *o, char *errstr,
                       size_t errstr_size)
{
        json_error_t jerr;
        json_t *src;

        memset(o, 0, sizeof(*o));
        o->http_status = -1;
        o->attempts = -1;
        o->src_partition = -1;
        o->src_offset = -1;
        if (!m->payload || m->len == 0) {
                snprintf(errstr, errstr_size, "empty value");
                return -1;
        }
        o->root = json_loadb(m->payload, m->len, 0, &jerr);
        if (!o->root) {
                snprintf(errstr, errstr_size, "not JSON: %s", jerr.text);
                return -1;
        }
        if (!json_is_object(o->root)) {
                snprintf(errstr, errstr_size, "not a JSON object");
                ctl_outcome_clear(o);
                return -1;
        }
        o->type = str_field(o->root, "type");
        o->status_str = str_field(o->root, "status");
        o->status = ctl_status_parse(o->status_str);
        o->contact_id = str_field(o->root, "contactId");
        o->calendar_id = str_field(o->root, "targetCalendarId");
        o->job_id = str_field(o->root, "jobId");
        o->http_status = int_field(o->root, "httpStatus");
        o->attempts = int_field(o->root, "attempts");
        o->error = str_field(o->root, "error");
        o->finished_at = str_field(o->root, "finishedAt");
        o->batch_id = str_field(o->root, "batchId");
        o->correlation_id = str_field(o->root, "correlationId");
        if (!o->batch_id &&
            ctl_header_get(m, "batch-id", o->hdr_batch, sizeof(o->hdr_batch)))
                o->batch_id = o->hdr_batch;
        if (!o->correlation_id &&
            ctl_header_get(m, "correlation-id", o->hdr_corr, sizeof(o->hdr_corr)))
                o->correlation_id = o->hdr_corr;
        if (m->key && m->key_len > 0) {
                size_t n =
                    m->key_len < sizeof(o->key) - 1 ? m->key_len : sizeof(o->key) - 1;
                memcpy(o->key, m->key, n);
                o->key[n] = '\0';
        }
        src = json_object_get(o->root, "source");
        if (json_is_object(src)) {
                long long p = int_field(src, "partition");
                long long off = int_field(src, "offset");

                o->src_topic = str_field(src, "topic");
                o->src_partition = (p >= 0 && p <= INT32_MAX) ? (int32_t)p : -1;
                o->src_offset = off >= 0 ? (int64_t)off : -1;
        }
        return 0;
}

void ctl_outcome_clear(ctl_outcome_t *o)
{
        if (!o)
                return;
        json_decref(o->root);
        o->root = NULL;
}

void ctl_warn_skipped(size_t *count, const rd_kafka_message_t *m, const char *why)
{
        (*count)++;
        if (*count <= CTL_MAX_WARNINGS)
                fprintf(stderr, "cxonectl: warning: %s [%d] offset %lld: %s; skipped\n",
                        rd_kafka_topic_name(m->rkt), (int)m->partition,
                        (long long)m->offset, why);
        if (*count == CTL_MAX_WARNINGS)
                fprintf(stderr, "cxonectl: warning: further skipped messages are only "
                                "counted\n");
}
