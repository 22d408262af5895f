/* kafka_producer.c: the idempotent (or, with kafka.exactly_once,
 * transactional: kafka_txn.c) producer of the replica's Kafka handle
 * (kafka.h): records whose delivery the worker waits for, and the
 * untracked budget reports nobody waits for. */
#include "kafka_int.h"
#include "cxone/base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_UNTRACKED 16 /* reports queued at once; more are dropped */

static const char *const producer_defaults[] = {
    "enable.idempotence=true",
    "acks=all",
    "linger.ms=5",
    /* 0 = never give up: an outcome not yet written keeps its source
     * offset uncommitted, and the worker's limits pause consumption. */
    "message.timeout.ms=0",
    NULL,
};

/* With kafka.exactly_once. librdkafka requires message.timeout.ms <=
 * transaction.timeout.ms. The broker aborts a transaction left open longer
 * than transaction.timeout.ms (its producer was killed and not restarted):
 * until then read_committed readers of its partitions wait, so it is short
 * (Kafka's default is 60 s). A record not written within it fails the
 * transaction, which is aborted and done again. */
static const char *const txn_producer_defaults[] = {
    "enable.idempotence=true",  "acks=all", "linger.ms=5", "transaction.timeout.ms=10000",
    "message.timeout.ms=10000", NULL,
};

/* The budget reports' own producer, with kafka.exactly_once. */
static const char *const reports_defaults[] = {
    "acks=1",
    "linger.ms=5",
    "message.timeout.ms=5000",
    NULL,
};

static void dr_msg_cb(rd_kafka_t *rk, const rd_kafka_message_t *rkm, void *opaque)
{
        cxw_kafka_t *k = opaque;

        (void)rk;
        if (!rkm->err)
                k->all_down = 0;
        if (!rkm->_private) { /* cxw_kafka_produce_untracked(): nobody waits */
                k->untracked--;
                if (rkm->err)
                        CXW_DEBUG("kafka", "record to %s not delivered: %s",
                                  rd_kafka_topic_name(rkm->rkt),
                                  rd_kafka_err2str(rkm->err));
                return;
        }
        if (k->hooks.delivered)
                k->hooks.delivered(k->opaque, rkm);
}

/* "cxone-worker-<group>-<worker.id>": stable per replica identity, so that
 * a replica restarted under its worker.id fences its predecessor. */
static int set_txn_id(rd_kafka_conf_t *conf, const cxw_config_t *cfg, char *errstr,
                      size_t errstr_size)
{
        char id[600], err[512];

        snprintf(id, sizeof(id), "cxone-worker-%s-%s", cfg->group_id, cfg->worker_id);
        if (rd_kafka_conf_set(conf, "transactional.id", id, err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
                snprintf(errstr, errstr_size, "kafka.exactly_once: %s", err);
                return -1;
        }
        return 0;
}

static int reports_open(cxw_kafka_t *k, const cxw_config_t *cfg, char *errstr,
                        size_t errstr_size)
{
        rd_kafka_conf_t *conf;
        char err[512];

        conf = kafka_make_conf(cfg, reports_defaults, CXW_KAFKA_CONF_NONE, "reports",
                               errstr, errstr_size);
        if (!conf)
                return -1;
        rd_kafka_conf_set_dr_msg_cb(conf, dr_msg_cb);
        rd_kafka_conf_set_opaque(conf, k);
        k->reports = rd_kafka_new(RD_KAFKA_PRODUCER, conf, err, sizeof(err));
        if (!k->reports) {
                snprintf(errstr, errstr_size, "kafka reports producer: %s", err);
                rd_kafka_conf_destroy(conf);
                return -1;
        }
        return 0;
}

int kafka_producer_open(cxw_kafka_t *k, const cxw_config_t *cfg, char *errstr,
                        size_t errstr_size)
{
        rd_kafka_conf_t *pconf;
        char err[512];

        k->transactional = cfg->kafka_exactly_once;
        pconf = kafka_make_conf(
            cfg, k->transactional ? txn_producer_defaults : producer_defaults,
            CXW_KAFKA_CONF_PRODUCER, "producer", errstr, errstr_size);
        if (!pconf)
                return -1;
        if (k->transactional && set_txn_id(pconf, cfg, errstr, errstr_size) == -1) {
                rd_kafka_conf_destroy(pconf);
                return -1;
        }
        rd_kafka_conf_set_dr_msg_cb(pconf, dr_msg_cb);
        rd_kafka_conf_set_opaque(pconf, k);
        k->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof(err));
        if (!k->producer) {
                snprintf(errstr, errstr_size, "kafka producer: %s", err);
                rd_kafka_conf_destroy(pconf);
                return -1;
        }
        k->pq = rd_kafka_queue_get_main(k->producer); /* pconf: now the producer's */
        if (k->transactional && (reports_open(k, cfg, errstr, errstr_size) == -1 ||
                                 kafka_txn_init(k, errstr, errstr_size) == -1))
                return -1;
        return 0;
}

void cxw_kafka_serve(cxw_kafka_t *k)
{
        rd_kafka_poll(k->producer, 0);
        if (k->reports)
                rd_kafka_poll(k->reports, 0);
}

rd_kafka_resp_err_t cxw_kafka_produce(cxw_kafka_t *k, const char *topic, const void *key,
                                      size_t keylen, const void *value, size_t len,
                                      rd_kafka_headers_t *headers, void *opaque)
{
        if (headers)
                return rd_kafka_producev(k->producer, RD_KAFKA_V_TOPIC(topic),
                                         RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                         RD_KAFKA_V_KEY((void *)key, keylen),
                                         RD_KAFKA_V_VALUE((void *)value, len),
                                         RD_KAFKA_V_HEADERS(headers),
                                         RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
        return rd_kafka_producev(k->producer, RD_KAFKA_V_TOPIC(topic),
                                 RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                 RD_KAFKA_V_KEY((void *)key, keylen),
                                 RD_KAFKA_V_VALUE((void *)value, len),
                                 RD_KAFKA_V_OPAQUE(opaque), RD_KAFKA_V_END);
}

size_t cxw_kafka_max_record_bytes(const cxw_kafka_t *k)
{
        char buf[32];
        size_t n = sizeof(buf);
        long long v;

        if (rd_kafka_conf_get(rd_kafka_conf(k->producer), "message.max.bytes", buf, &n) !=
                RD_KAFKA_CONF_OK ||
            (v = atoll(buf)) <= 0)
                return 1000000; /* librdkafka's default */
        return (size_t)v;
}

rd_kafka_resp_err_t cxw_kafka_fatal(cxw_kafka_t *k, char *errstr, size_t errstr_size)
{
        return rd_kafka_fatal_error(k->producer, errstr, errstr_size);
}

rd_kafka_resp_err_t cxw_kafka_produce_untracked(cxw_kafka_t *k, const char *topic,
                                                const void *key, size_t keylen,
                                                const void *value, size_t len)
{
        rd_kafka_resp_err_t err;

        /* Reports are worth nothing late: while Kafka does not take them,
         * drop new ones instead of queueing them behind the outcomes. */
        if (k->untracked >= MAX_UNTRACKED)
                return RD_KAFKA_RESP_ERR__QUEUE_FULL;
        err = rd_kafka_producev(
            k->reports ? k->reports : k->producer, RD_KAFKA_V_TOPIC(topic),
            RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY), RD_KAFKA_V_KEY((void *)key, keylen),
            RD_KAFKA_V_VALUE((void *)value, len), RD_KAFKA_V_OPAQUE(NULL),
            RD_KAFKA_V_END);
        if (!err)
                k->untracked++;
        return err;
}
