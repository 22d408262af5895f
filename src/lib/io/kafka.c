/* kafka.c: the replica's Kafka handle (kafka.h): the group consumer
 * (kafka_consumer.c) and the producer (kafka_producer.c) made, subscribed
 * and destroyed together, and the callbacks both share. */
#include "kafka_int.h"
#include "cxone/base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

void kafka_log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        cxw_log_level_t l = level <= 3   ? CXW_LOG_ERROR
                            : level <= 4 ? CXW_LOG_WARN
                            : level <= 6 ? CXW_LOG_INFO
                                         : CXW_LOG_DEBUG;
        CXW_LOG(l, "rdkafka", "%s: %s: %s", rd_kafka_name(rk), fac, buf);
}

static void error_cb(rd_kafka_t *rk, int err, const char *reason, void *opaque)
{
        cxw_kafka_t *k = opaque;

        if (err == RD_KAFKA_RESP_ERR__ALL_BROKERS_DOWN && k)
                k->all_down = 1;
        /* All-brokers-down and transport errors are retried by librdkafka;
         * they are worth a warning, not an exit. */
        CXW_WARN("kafka", "%s: %s: %s", rd_kafka_name(rk),
                 rd_kafka_err2name((rd_kafka_resp_err_t)err), reason);
}

rd_kafka_conf_t *kafka_make_conf(const cxw_config_t *cfg, const char *const *defaults,
                                 cxw_kafka_conf_role_t own, const char *role,
                                 char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *conf;
        char client_id[256];

        snprintf(client_id, sizeof(client_id), "cxone-worker-%s-%s", cfg->worker_id,
                 role);
        conf = cxw_kafka_conf_new(cfg, own, client_id, defaults, kafka_log_cb, errstr,
                                  errstr_size);
        if (conf)
                rd_kafka_conf_set_error_cb(conf, error_cb);
        return conf;
}

cxw_kafka_t *cxw_kafka_new(const cxw_config_t *cfg, const char *const *topics,
                           size_t ntopics, const cxw_kafka_hooks_t *hooks, void *opaque,
                           int wakeup_fd, char *errstr, size_t errstr_size)
{
        cxw_kafka_t *k = calloc(1, sizeof(*k));
        rd_kafka_topic_partition_list_t *subs = NULL;
        rd_kafka_resp_err_t rerr;

        if (!k) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        k->hooks = *hooks;
        k->opaque = opaque;
        k->brokers_up = -1;
        k->lags = calloc(MAX_LAGS, sizeof(*k->lags));
        k->assigned = rd_kafka_topic_partition_list_new(0);
        k->stored = rd_kafka_topic_partition_list_new(0);
        k->topics = calloc(ntopics, sizeof(*k->topics));
        k->ntopics = ntopics;
        for (size_t i = 0; i < ntopics; i++)
                k->topics[i] = strdup(topics[i]);

        if (kafka_consumer_open(k, cfg, errstr, errstr_size) == -1 ||
            kafka_producer_open(k, cfg, errstr, errstr_size) == -1)
                goto fail;
        if (wakeup_fd >= 0) {
                rd_kafka_queue_io_event_enable(k->cq, wakeup_fd, "1", 1);
                rd_kafka_queue_io_event_enable(k->pq, wakeup_fd, "1", 1);
        }

        subs = rd_kafka_topic_partition_list_new((int)ntopics);
        for (size_t i = 0; i < ntopics; i++)
                rd_kafka_topic_partition_list_add(subs, topics[i], RD_KAFKA_PARTITION_UA);
        rerr = rd_kafka_subscribe(k->consumer, subs);
        rd_kafka_topic_partition_list_destroy(subs);
        if (rerr) {
                snprintf(errstr, errstr_size, "kafka subscribe: %s",
                         rd_kafka_err2str(rerr));
                goto fail;
        }
        return k;
fail:
        cxw_kafka_destroy(k, 0);
        return NULL;
}

void cxw_kafka_destroy(cxw_kafka_t *k, int flush_ms)
{
        if (!k)
                return;
        /* Producer first: the flush delivers the last outcomes, whose hooks
         * store their offsets; then the consumer commits them and leaves. */
        if (k->producer && flush_ms > 0 && rd_kafka_flush(k->producer, flush_ms))
                CXW_WARN("kafka", "%d records not flushed at exit",
                         rd_kafka_outq_len(k->producer));
        if (k->reports && flush_ms > 0)
                rd_kafka_flush(k->reports, flush_ms < 1000 ? flush_ms : 1000);
        if (k->cq)
                rd_kafka_queue_destroy(k->cq);
        if (k->pq)
                rd_kafka_queue_destroy(k->pq);
        kafka_consumer_close(k);
        if (k->producer)
                rd_kafka_destroy(k->producer);
        if (k->reports)
                rd_kafka_destroy(k->reports);
        rd_kafka_topic_partition_list_destroy(k->assigned);
        rd_kafka_topic_partition_list_destroy(k->stored);
        free(k->lags);
        for (size_t i = 0; i < k->ntopics; i++)
                free(k->topics[i]);
        free(k->topics);
        free(k);
}

int cxw_kafka_reachable(const cxw_kafka_t *k)
{
        return !k->all_down && k->brokers_up != 0;
}
