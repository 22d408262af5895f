/* kafka_reader.c: a reader of every partition of one topic from its end,
 * in no consumer group (kafka.h): how a replica hears the budget reports
 * of the others. */
#include "kafka_int.h"
#include "cxone/base/log.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define READER_MAX_PARTS  1024 /* partitions of the budget topic read at most */
#define READER_POLL_BATCH 256  /* messages taken per cxw_kafka_reader_poll() round */

/* The budget reader's: it sets the simple consumer's auto.commit.enable on
 * purpose, and librdkafka warns at every start that the property is
 * deprecated (CONFWARN): of no use to an operator, so a debug line. */
static void reader_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                          const char *buf)
{
        kafka_log_cb(rk, strcmp(fac, "CONFWARN") == 0 && level < 7 ? 7 : level, fac, buf);
}

/* The reader uses librdkafka's simple (legacy) consumer API: the high-level
 * consumer's assign() needs a group.id (librdkafka, unlike the Java client,
 * refuses it without one), and a group would mean coordinator traffic and
 * group ACLs for a topic that needs neither. Every replica reads every
 * partition from the end: only reports written from now on matter. */
static const char *const reader_defaults[] = {
    "enable.auto.commit=false",
    "auto.commit.enable=false", /* the simple consumer's own switch */
    "enable.partition.eof=false",
    /* The broker answers a fetch after at most this long even with no data,
     * so a report reaches the others within tens of ms. */
    "fetch.wait.max.ms=20",
    "queued.max.messages.kbytes=1024",
    NULL,
};

struct cxw_kafka_reader_s {
        rd_kafka_t *rk;
        rd_kafka_topic_t *rkt;
        rd_kafka_queue_t *q; /* every partition's messages (io-event enabled) */
        int32_t *parts;      /* partitions started */
        int nparts;
        int more; /* the last poll stopped at its batch bound */
};

cxw_kafka_reader_t *cxw_kafka_reader_new(const cxw_config_t *cfg, const char *topic,
                                         int wakeup_fd, char *errstr, size_t errstr_size)
{
        cxw_kafka_reader_t *r = calloc(1, sizeof(*r));
        rd_kafka_conf_t *conf = NULL;
        char err[512];

        if (!r) {
                snprintf(errstr, errstr_size, "out of memory");
                return NULL;
        }
        /* kafka.properties (brokers, security) apply; the group consumer's
         * own list does not: this client is in no group. */
        conf = kafka_make_conf(cfg, reader_defaults, CXW_KAFKA_CONF_NONE, "budget",
                               errstr, errstr_size);
        if (!conf)
                goto fail;
        rd_kafka_conf_set_log_cb(conf, reader_log_cb);
        r->rk = rd_kafka_new(RD_KAFKA_CONSUMER, conf, err, sizeof(err));
        if (!r->rk) {
                snprintf(errstr, errstr_size, "kafka budget reader: %s", err);
                goto fail;
        }
        conf = NULL; /* now owned by r->rk */
        r->rkt = rd_kafka_topic_new(r->rk, topic, NULL);
        r->q = rd_kafka_queue_new(r->rk);
        r->parts = calloc(READER_MAX_PARTS, sizeof(*r->parts));
        if (!r->rkt || !r->q || !r->parts) {
                snprintf(errstr, errstr_size, "kafka budget reader: out of memory");
                goto fail;
        }
        if (wakeup_fd >= 0)
                rd_kafka_queue_io_event_enable(r->q, wakeup_fd, "1", 1);
        return r;
fail:
        if (conf)
                rd_kafka_conf_destroy(conf);
        cxw_kafka_reader_destroy(r);
        return NULL;
}

void cxw_kafka_reader_destroy(cxw_kafka_reader_t *r)
{
        if (!r)
                return;
        for (int i = 0; i < r->nparts; i++)
                rd_kafka_consume_stop(r->rkt, r->parts[i]);
        if (r->q)
                rd_kafka_queue_destroy(r->q);
        if (r->rkt)
                rd_kafka_topic_destroy(r->rkt);
        if (r->rk)
                rd_kafka_destroy(r->rk);
        free(r->parts);
        free(r);
}

int cxw_kafka_reader_start(cxw_kafka_reader_t *r, int timeout_ms)
{
        const struct rd_kafka_metadata *md = NULL;
        const struct rd_kafka_metadata_topic *t;
        rd_kafka_resp_err_t err;

        if (r->nparts > 0)
                return 1;
        err = rd_kafka_metadata(r->rk, 0, r->rkt, &md, timeout_ms);
        if (err) {
                CXW_DEBUG("kafka", "budget topic %s: metadata: %s",
                          rd_kafka_topic_name(r->rkt), rd_kafka_err2str(err));
                return 0;
        }
        t = md->topic_cnt == 1 ? &md->topics[0] : NULL;
        if (!t || t->err || t->partition_cnt <= 0) {
                CXW_DEBUG("kafka", "budget topic %s: %s", rd_kafka_topic_name(r->rkt),
                          t && t->err ? rd_kafka_err2str(t->err) : "no partitions");
                rd_kafka_metadata_destroy(md);
                return 0;
        }
        for (int i = 0; i < t->partition_cnt && r->nparts < READER_MAX_PARTS; i++) {
                int32_t id = t->partitions[i].id;
                if (rd_kafka_consume_start_queue(r->rkt, id, RD_KAFKA_OFFSET_END, r->q) ==
                    -1) {
                        CXW_WARN("kafka", "budget topic %s [%d]: %s",
                                 rd_kafka_topic_name(r->rkt), (int)id,
                                 rd_kafka_err2str(rd_kafka_last_error()));
                        continue;
                }
                r->parts[r->nparts++] = id;
        }
        rd_kafka_metadata_destroy(md);
        if (r->nparts > 0)
                CXW_INFO("kafka", "reading budget reports from %s (%d partitions)",
                         rd_kafka_topic_name(r->rkt), r->nparts);
        return r->nparts > 0;
}

void cxw_kafka_reader_poll(cxw_kafka_reader_t *r,
                           void (*cb)(void *opaque, const void *value, size_t len),
                           void *opaque)
{
        int n = 0;

        rd_kafka_poll(r->rk, 0); /* error and log callbacks */
        r->more = 0;
        while (r->nparts > 0) {
                rd_kafka_message_t *m;

                if (n++ == READER_POLL_BATCH) {
                        r->more = 1;
                        break;
                }
                m = rd_kafka_consume_queue(r->q, 0);
                if (!m)
                        break;
                if (m->err)
                        CXW_DEBUG("kafka", "budget reader: %s",
                                  rd_kafka_message_errstr(m));
                else
                        cb(opaque, m->payload, m->len);
                rd_kafka_message_destroy(m);
        }
}

int cxw_kafka_reader_more(const cxw_kafka_reader_t *r)
{
        return r->more;
}
