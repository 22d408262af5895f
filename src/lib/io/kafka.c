/* kafka.c: the consumer (group, rebalance, pause) and the idempotent producer. */
#include "cxone/io/kafka.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_LAGS 1024 /* partitions whose lag is kept from the statistics */
/* "group.instance.id=" and a worker.id (Kafka allows 249 characters) */
#define CXW_INSTANCE_MAX 320

typedef struct lag_s {
        char topic[256];
        int32_t partition;
        int64_t lag;
} lag_t;

struct cxw_kafka_s {
        rd_kafka_t *consumer;
        rd_kafka_t *producer;
        rd_kafka_queue_t *cq; /* the consumer queue (io-event enabled) */
        rd_kafka_queue_t *pq; /* the producer's main queue (io-event enabled) */
        cxw_kafka_hooks_t hooks;
        void *opaque;
        rd_kafka_topic_partition_list_t *assigned;
        /* The last offset stored per partition (cxw_kafka_store()), so that
         * a revoke commits exactly the partitions that go away. */
        rd_kafka_topic_partition_list_t *stored;
        int64_t revoke_commit_failed; /* revoke commits that failed (or were lost) */
        char **topics;
        size_t ntopics;
        int total_partitions;
        int paused;
        int brokers_up; /* from the last statistics; -1 = none yet */
        int all_down;   /* _ALL_BROKERS_DOWN seen and not yet cleared */
        lag_t *lags;
        size_t nlags;
        int untracked; /* records of cxw_kafka_produce_untracked() not yet delivered */
};

/* Our defaults; kafka.properties and the client's own list override them. */
static const char *const consumer_defaults[] = {
    "enable.auto.offset.store=false", "enable.auto.commit=true",
    "auto.commit.interval.ms=1000",   "auto.offset.reset=earliest",
    "enable.partition.eof=false",     NULL,
};

/* librdkafka's prefetch (its consumer queue) is memory of the replica like
 * the buffered requests: it gets a quarter of limits.max_buffered_bytes,
 * the worker's jobs the rest. Half of that share bounds the payload bytes
 * queued (queued.max.messages.kbytes counts payloads only), the other half
 * the messages' own overhead (~500 bytes each in librdkafka 2.0.2:
 * rd_kafka_op_t with its rd_kafka_msg_t). Enough to keep the pipeline fed:
 * librdkafka stops fetching once its queue holds queued.min.messages, and
 * 2,000 starved the worker at ~3,500 updates/s on a backlog; the default
 * 64 MiB gives 16,384. kafka.properties and kafka.consumer_properties,
 * applied after, override both. */
#define PREFETCH_SHARE   4   /* 1 / PREFETCH_SHARE of max_buffered_bytes */
#define PREFETCH_MSG_OVH 512 /* bytes a queued message costs beyond its payload */

int64_t cxw_kafka_prefetch_bytes(const cxw_config_t *cfg)
{
        return cfg->max_buffered_bytes / PREFETCH_SHARE;
}

/* "queued.max.messages.kbytes=..." and "queued.min.messages=..." into a/b. */
static void prefetch_props(const cxw_config_t *cfg, char *a, char *b, size_t size)
{
        int64_t half = cxw_kafka_prefetch_bytes(cfg) / 2;
        int64_t kbytes = half / 1024, msgs = half / PREFETCH_MSG_OVH;

        kbytes = kbytes < 1 ? 1 : kbytes > 2097151 ? 2097151 : kbytes;
        msgs = msgs < 1 ? 1 : msgs > 10000000 ? 10000000 : msgs;
        snprintf(a, size, "queued.max.messages.kbytes=%lld", (long long)kbytes);
        snprintf(b, size, "queued.min.messages=%lld", (long long)msgs);
}

static const char *const producer_defaults[] = {
    "enable.idempotence=true",
    "acks=all",
    "linger.ms=5",
    /* 0 = never give up: an outcome not yet written keeps its source
     * offset uncommitted, and the worker's limits pause consumption. */
    "message.timeout.ms=0",
    NULL,
};

static void log_cb(const rd_kafka_t *rk, int level, const char *fac, const char *buf)
{
        cxw_log_level_t l = level <= 3   ? CXW_LOG_ERROR
                            : level <= 4 ? CXW_LOG_WARN
                            : level <= 6 ? CXW_LOG_INFO
                                         : CXW_LOG_DEBUG;
        CXW_LOG(l, "rdkafka", "%s: %s: %s", rd_kafka_name(rk), fac, buf);
}

/* The budget reader's: it sets the simple consumer's auto.commit.enable on
 * purpose, and librdkafka warns at every start that the property is
 * deprecated (CONFWARN): of no use to an operator, so a debug line. */
static void reader_log_cb(const rd_kafka_t *rk, int level, const char *fac,
                          const char *buf)
{
        log_cb(rk, strcmp(fac, "CONFWARN") == 0 && level < 7 ? 7 : level, fac, buf);
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

/* librdkafka's statistics (JSON, every statistics.interval.ms): how many
 * brokers are up, and the consumer lag of each partition we fetch. */
static int stats_cb(rd_kafka_t *rk, char *json, size_t json_len, void *opaque)
{
        cxw_kafka_t *k = opaque;
        json_t *root = json_loadb(json, json_len, 0, NULL);
        json_t *brokers, *topics, *b, *t;
        const char *name;
        int up = 0;

        (void)rk;
        if (!root)
                return 0;
        brokers = json_object_get(root, "brokers");
        json_object_foreach(brokers, name, b)
        {
                const char *state = json_string_value(json_object_get(b, "state"));
                json_int_t id = json_integer_value(json_object_get(b, "nodeid"));
                if (id >= 0 && state && strcmp(state, "UP") == 0)
                        up++;
        }
        k->brokers_up = up;
        if (up > 0)
                k->all_down = 0;
        k->nlags = 0;
        topics = json_object_get(root, "topics");
        json_object_foreach(topics, name, t)
        {
                const char *pname;
                json_t *p;
                json_object_foreach(json_object_get(t, "partitions"), pname, p)
                {
                        json_int_t part =
                            json_integer_value(json_object_get(p, "partition"));
                        json_t *lag = json_object_get(p, "consumer_lag");
                        const char *fs =
                            json_string_value(json_object_get(p, "fetch_state"));

                        /* -1 is librdkafka's internal "unassigned" partition */
                        if (part < 0 || !json_is_integer(lag) || k->nlags == MAX_LAGS ||
                            !fs || strcmp(fs, "none") == 0)
                                continue;
                        cxw_strlcpy(k->lags[k->nlags].topic, name,
                                    sizeof(k->lags[k->nlags].topic));
                        k->lags[k->nlags].partition = (int32_t)part;
                        k->lags[k->nlags].lag = json_integer_value(lag);
                        k->nlags++;
                }
        }
        json_decref(root);
        return 0; /* librdkafka frees json */
}

static rd_kafka_conf_t *make_conf(const cxw_config_t *cfg, const char *const *defaults,
                                  cxw_kafka_conf_role_t own, const char *role,
                                  char *errstr, size_t errstr_size)
{
        rd_kafka_conf_t *conf;
        char client_id[256];

        snprintf(client_id, sizeof(client_id), "cxone-worker-%s-%s", cfg->worker_id,
                 role);
        conf = cxw_kafka_conf_new(cfg, own, client_id, defaults, log_cb, errstr,
                                  errstr_size);
        if (conf)
                rd_kafka_conf_set_error_cb(conf, error_cb);
        return conf;
}

/* The group settings in effect (after kafka.consumer_properties), once. */
static void log_group_conf(const rd_kafka_conf_t *conf)
{
        char strategy[128] = "", instance[CXW_INSTANCE_MAX] = "";
        size_t n1 = sizeof(strategy), n2 = sizeof(instance);

        if (rd_kafka_conf_get(conf, "partition.assignment.strategy", strategy, &n1) !=
            RD_KAFKA_CONF_OK)
                strategy[0] = '\0';
        if (rd_kafka_conf_get(conf, "group.instance.id", instance, &n2) !=
            RD_KAFKA_CONF_OK)
                instance[0] = '\0';
        CXW_INFO("kafka", "group assignment %s (%s rebalancing), %s%s%s", strategy,
                 strstr(strategy, "cooperative") ? "incremental" : "eager",
                 *instance ? "static member '" : "dynamic membership",
                 *instance ? instance : "", *instance ? "'" : "");
}

static void refresh_total_partitions(cxw_kafka_t *k)
{
        const struct rd_kafka_metadata *md = NULL;
        int total = 0;

        if (rd_kafka_metadata(k->consumer, 1, NULL, &md, 5000) !=
            RD_KAFKA_RESP_ERR_NO_ERROR)
                return; /* keep the last known figure */
        for (int i = 0; i < md->topic_cnt; i++)
                for (size_t t = 0; t < k->ntopics; t++)
                        if (strcmp(md->topics[i].topic, k->topics[t]) == 0)
                                total += md->topics[i].partition_cnt;
        rd_kafka_metadata_destroy(md);
        k->total_partitions = total;
}

static void list_remove(rd_kafka_topic_partition_list_t *l,
                        const rd_kafka_topic_partition_list_t *parts)
{
        for (int i = 0; i < parts->cnt; i++)
                rd_kafka_topic_partition_list_del(l, parts->elems[i].topic,
                                                  parts->elems[i].partition);
}

/* A synchronous commit of the offsets stored for the partitions in parts
 * (those being revoked), before they are unassigned: the partitions kept
 * are left to the auto-commit. A lost assignment (session timed out, or
 * fenced) cannot commit any more; either way a failure of the final commit
 * (final = 1: after the revoke hook) is logged and counted, and the next
 * owner repeats the work since the last commit. */
static void commit_revoked(cxw_kafka_t *k, rd_kafka_t *rk,
                           const rd_kafka_topic_partition_list_t *parts, int final)
{
        rd_kafka_topic_partition_list_t *l =
            rd_kafka_topic_partition_list_new(parts->cnt);
        rd_kafka_resp_err_t cerr = RD_KAFKA_RESP_ERR_NO_ERROR;
        int64_t t0 = cxw_now_ms();

        for (int i = 0; i < parts->cnt; i++) {
                const rd_kafka_topic_partition_t *s = rd_kafka_topic_partition_list_find(
                    k->stored, parts->elems[i].topic, parts->elems[i].partition);
                if (s)
                        rd_kafka_topic_partition_list_add(l, s->topic, s->partition)
                            ->offset = s->offset;
        }
        if (final)
                list_remove(k->stored, parts);
        if (l->cnt == 0)
                goto out;
        if (rd_kafka_assignment_lost(rk))
                cerr = RD_KAFKA_RESP_ERR__ASSIGNMENT_LOST;
        else
                cerr = rd_kafka_commit(rk, l, 0);
        for (int i = 0; !cerr && i < l->cnt; i++)
                if (l->elems[i].err)
                        cerr = l->elems[i].err;
        if (cerr && !final) {
                CXW_DEBUG("kafka", "early commit of %d revoked partitions failed: %s",
                          l->cnt, rd_kafka_err2str(cerr));
        } else if (cerr) {
                k->revoke_commit_failed++;
                CXW_WARN("kafka",
                         "commit of %d revoked partitions failed: %s (%lld such failures "
                         "so far); their next owner repeats the work since the last "
                         "commit",
                         l->cnt, rd_kafka_err2str(cerr),
                         (long long)k->revoke_commit_failed);
        } else if (final) {
                CXW_INFO("kafka", "committed %d revoked partitions in %lld ms", l->cnt,
                         (long long)(cxw_now_ms() - t0));
        }
out:
        rd_kafka_topic_partition_list_destroy(l);
}

static void rebalance_cb(rd_kafka_t *rk, rd_kafka_resp_err_t err,
                         rd_kafka_topic_partition_list_t *parts, void *opaque)
{
        cxw_kafka_t *k = opaque;
        int cooperative = strcmp(rd_kafka_rebalance_protocol(rk), "COOPERATIVE") == 0;
        rd_kafka_error_t *error = NULL;

        if (err == RD_KAFKA_RESP_ERR__ASSIGN_PARTITIONS) {
                if (cooperative) {
                        error = rd_kafka_incremental_assign(rk, parts);
                        for (int i = 0; i < parts->cnt; i++)
                                rd_kafka_topic_partition_list_add(
                                    k->assigned, parts->elems[i].topic,
                                    parts->elems[i].partition);
                } else {
                        rd_kafka_assign(rk, parts);
                        rd_kafka_topic_partition_list_destroy(k->assigned);
                        k->assigned = rd_kafka_topic_partition_list_copy(parts);
                }
                if (error) {
                        CXW_ERROR("kafka", "incremental assign failed: %s",
                                  rd_kafka_error_string(error));
                        rd_kafka_error_destroy(error);
                }
                if (k->paused)
                        rd_kafka_pause_partitions(rk, parts);
                refresh_total_partitions(k);
                CXW_INFO("kafka", "assigned %d partitions (%d now, of %d in all)",
                         parts->cnt, k->assigned->cnt, k->total_partitions);
                if (k->hooks.assigned)
                        k->hooks.assigned(k->opaque, parts);
        } else {
                if (err != RD_KAFKA_RESP_ERR__REVOKE_PARTITIONS)
                        CXW_ERROR("kafka", "rebalance error: %s", rd_kafka_err2str(err));
                /* What is stored already is committed at once, before the
                 * hook finishes the calls in flight: the members revoking in
                 * the same round all commit before any of them rejoins, and
                 * a coordinator that refuses commits once a rejoin started a
                 * new round (librdkafka's mock) can then refuse only the
                 * last calls' offsets, committed after the hook. */
                commit_revoked(k, rk, parts, 0);
                if (k->hooks.revoked)
                        k->hooks.revoked(k->opaque, parts);
                /* What the hook stored is committed before the partitions go,
                 * so their next owner starts after it. */
                commit_revoked(k, rk, parts, 1);
                if (cooperative) {
                        error = rd_kafka_incremental_unassign(rk, parts);
                        if (error) {
                                CXW_ERROR("kafka", "incremental unassign failed: %s",
                                          rd_kafka_error_string(error));
                                rd_kafka_error_destroy(error);
                        }
                        list_remove(k->assigned, parts);
                } else {
                        rd_kafka_assign(rk, NULL);
                        rd_kafka_topic_partition_list_destroy(k->assigned);
                        k->assigned = rd_kafka_topic_partition_list_new(0);
                }
                CXW_INFO("kafka", "revoked %d partitions (%d remain)", parts->cnt,
                         k->assigned->cnt);
        }
}

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

cxw_kafka_t *cxw_kafka_new(const cxw_config_t *cfg, const char *const *topics,
                           size_t ntopics, const cxw_kafka_hooks_t *hooks, void *opaque,
                           int wakeup_fd, char *errstr, size_t errstr_size)
{
        cxw_kafka_t *k = calloc(1, sizeof(*k));
        rd_kafka_conf_t *cconf = NULL, *pconf = NULL;
        rd_kafka_topic_partition_list_t *subs = NULL;
        char err[512];
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

        {
                const char *defaults[16];
                char kbytes[64], msgs[64], stats[64], instance[CXW_INSTANCE_MAX];
                size_t n = 0;

                for (; consumer_defaults[n]; n++)
                        defaults[n] = consumer_defaults[n];
                prefetch_props(cfg, kbytes, msgs, sizeof(kbytes));
                defaults[n++] = kbytes;
                defaults[n++] = msgs;
                /* stats_cb (lag, brokers up) runs only when this is set. */
                snprintf(stats, sizeof(stats), "statistics.interval.ms=%d",
                         cfg->kafka_stats_interval_ms);
                defaults[n++] = stats;
                /* Before kafka.consumer_properties, which may override both. */
                defaults[n++] = strcmp(cfg->kafka_assignment, "eager") == 0
                                    ? "partition.assignment.strategy=range,roundrobin"
                                    : "partition.assignment.strategy=cooperative-sticky";
                if (cfg->kafka_static_membership) {
                        snprintf(instance, sizeof(instance), "group.instance.id=%s",
                                 cfg->worker_id);
                        defaults[n++] = instance;
                }
                defaults[n] = NULL;
                cconf = make_conf(cfg, defaults, CXW_KAFKA_CONF_CONSUMER, "consumer",
                                  errstr, errstr_size);
        }
        if (!cconf)
                goto fail;
        if (rd_kafka_conf_set(cconf, "group.id", cfg->group_id, err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
                snprintf(errstr, errstr_size, "kafka.group_id: %s", err);
                goto fail;
        }
        log_group_conf(cconf);
        rd_kafka_conf_set_rebalance_cb(cconf, rebalance_cb);
        rd_kafka_conf_set_stats_cb(cconf, stats_cb);
        rd_kafka_conf_set_opaque(cconf, k);
        k->consumer = rd_kafka_new(RD_KAFKA_CONSUMER, cconf, err, sizeof(err));
        if (!k->consumer) {
                snprintf(errstr, errstr_size, "kafka consumer: %s", err);
                goto fail;
        }
        cconf = NULL; /* now owned by the consumer */
        rd_kafka_poll_set_consumer(k->consumer);
        k->cq = rd_kafka_queue_get_consumer(k->consumer);

        pconf = make_conf(cfg, producer_defaults, CXW_KAFKA_CONF_PRODUCER, "producer",
                          errstr, errstr_size);
        if (!pconf)
                goto fail;
        rd_kafka_conf_set_dr_msg_cb(pconf, dr_msg_cb);
        rd_kafka_conf_set_opaque(pconf, k);
        k->producer = rd_kafka_new(RD_KAFKA_PRODUCER, pconf, err, sizeof(err));
        if (!k->producer) {
                snprintf(errstr, errstr_size, "kafka producer: %s", err);
                goto fail;
        }
        pconf = NULL;
        k->pq = rd_kafka_queue_get_main(k->producer);

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
        if (cconf)
                rd_kafka_conf_destroy(cconf);
        if (pconf)
                rd_kafka_conf_destroy(pconf);
        cxw_kafka_destroy(k, 0);
        return NULL;
}

/* librdkafka 2.0.2 hangs in rd_kafka_consumer_close() when a cooperative
 * (incremental) assignment arrives while it closes (librdkafka issue 4527,
 * fixed in 2.4.0; seen here when two replicas stop at once). The workaround
 * from that issue: unsubscribe first and serve the rebalance callbacks until
 * nothing is assigned (bounded), then close. Messages still polled are
 * dropped: they are not committed, so the next owner consumes them. */
#define LEAVE_WAIT_MS 10000

static void leave_assignment(cxw_kafka_t *k)
{
        int64_t deadline = cxw_now_ms() + LEAVE_WAIT_MS;
        rd_kafka_topic_partition_list_t *a = NULL;

        if (rd_kafka_unsubscribe(k->consumer))
                return;
        while (cxw_now_ms() < deadline) {
                rd_kafka_message_t *m = rd_kafka_consumer_poll(k->consumer, 50);
                int left;

                if (m)
                        rd_kafka_message_destroy(m);
                if (rd_kafka_assignment(k->consumer, &a))
                        break;
                left = a->cnt;
                rd_kafka_topic_partition_list_destroy(a);
                a = NULL;
                if (left == 0 && k->assigned->cnt == 0)
                        return;
        }
        CXW_WARN("kafka", "partitions still assigned %d ms after unsubscribing; closing",
                 LEAVE_WAIT_MS);
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
        if (k->cq)
                rd_kafka_queue_destroy(k->cq);
        if (k->pq)
                rd_kafka_queue_destroy(k->pq);
        if (k->consumer) {
                cxw_kafka_commit(k);
                leave_assignment(k);
                rd_kafka_consumer_close(k->consumer);
                rd_kafka_destroy(k->consumer);
        }
        if (k->producer)
                rd_kafka_destroy(k->producer);
        rd_kafka_topic_partition_list_destroy(k->assigned);
        rd_kafka_topic_partition_list_destroy(k->stored);
        free(k->lags);
        for (size_t i = 0; i < k->ntopics; i++)
                free(k->topics[i]);
        free(k->topics);
        free(k);
}

rd_kafka_message_t *cxw_kafka_consume(cxw_kafka_t *k)
{
        /* Bounded: skip at most a few error events per call. */
        for (int i = 0; i < 16; i++) {
                rd_kafka_message_t *rkm = rd_kafka_consumer_poll(k->consumer, 0);
                if (!rkm)
                        return NULL;
                if (!rkm->err) {
                        k->all_down = 0;
                        return rkm;
                }
                if (rkm->err != RD_KAFKA_RESP_ERR__PARTITION_EOF)
                        CXW_WARN("kafka", "consumer: %s%s%s",
                                 rd_kafka_message_errstr(rkm), rkm->rkt ? " topic " : "",
                                 rkm->rkt ? rd_kafka_topic_name(rkm->rkt) : "");
                rd_kafka_message_destroy(rkm);
        }
        return NULL;
}

void cxw_kafka_serve(cxw_kafka_t *k)
{
        rd_kafka_poll(k->producer, 0);
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

void cxw_kafka_store(cxw_kafka_t *k, const char *topic, int32_t partition, int64_t offset)
{
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        rd_kafka_resp_err_t err;

        rd_kafka_topic_partition_list_add(l, topic, partition)->offset = offset;
        err = rd_kafka_offsets_store(k->consumer, l);
        if (!err)
                err = l->elems[0].err;
        if (err) {
                CXW_DEBUG("kafka", "offset store %s [%d] @%lld: %s", topic,
                          (int)partition, (long long)offset, rd_kafka_err2str(err));
        } else {
                rd_kafka_topic_partition_t *s =
                    rd_kafka_topic_partition_list_find(k->stored, topic, partition);
                if (!s)
                        s = rd_kafka_topic_partition_list_add(k->stored, topic,
                                                              partition);
                s->offset = offset;
        }
        rd_kafka_topic_partition_list_destroy(l);
}

void cxw_kafka_commit(cxw_kafka_t *k)
{
        rd_kafka_resp_err_t err = rd_kafka_commit(k->consumer, NULL, 0);

        if (err && err != RD_KAFKA_RESP_ERR__NO_OFFSET)
                CXW_WARN("kafka", "commit failed: %s", rd_kafka_err2str(err));
}

void cxw_kafka_set_paused(cxw_kafka_t *k, int paused)
{
        if (k->paused == paused)
                return;
        k->paused = paused;
        if (k->assigned->cnt == 0)
                return;
        if (paused)
                rd_kafka_pause_partitions(k->consumer, k->assigned);
        else
                rd_kafka_resume_partitions(k->consumer, k->assigned);
}

int cxw_kafka_paused(const cxw_kafka_t *k)
{
        return k->paused;
}

int64_t cxw_kafka_revoke_commit_failures(const cxw_kafka_t *k)
{
        return k->revoke_commit_failed;
}

int cxw_kafka_assigned_cnt(const cxw_kafka_t *k)
{
        return k->assigned->cnt;
}

int cxw_kafka_total_partitions(const cxw_kafka_t *k)
{
        return k->total_partitions;
}

rd_kafka_resp_err_t cxw_kafka_fatal(cxw_kafka_t *k, char *errstr, size_t errstr_size)
{
        return rd_kafka_fatal_error(k->producer, errstr, errstr_size);
}

int cxw_kafka_reachable(const cxw_kafka_t *k)
{
        return !k->all_down && k->brokers_up != 0;
}

void cxw_kafka_foreach_lag(const cxw_kafka_t *k,
                           void (*cb)(void *opaque, const char *topic, int32_t partition,
                                      int64_t lag),
                           void *opaque)
{
        for (size_t i = 0; i < k->nlags; i++)
                cb(opaque, k->lags[i].topic, k->lags[i].partition, k->lags[i].lag);
}

/* ------------------------------------------------------------------ */
/* budget reports: untracked records and a group-less reader           */

#define MAX_UNTRACKED     16   /* reports queued at once; more are dropped */
#define READER_MAX_PARTS  1024 /* partitions of the budget topic read at most */
#define READER_POLL_BATCH 256  /* messages taken per cxw_kafka_reader_poll() round */

rd_kafka_resp_err_t cxw_kafka_produce_untracked(cxw_kafka_t *k, const char *topic,
                                                const void *key, size_t keylen,
                                                const void *value, size_t len)
{
        rd_kafka_resp_err_t err;

        /* Reports are worth nothing late: while Kafka does not take them,
         * drop new ones instead of queueing them behind the outcomes. */
        if (k->untracked >= MAX_UNTRACKED)
                return RD_KAFKA_RESP_ERR__QUEUE_FULL;
        err = rd_kafka_producev(k->producer, RD_KAFKA_V_TOPIC(topic),
                                RD_KAFKA_V_MSGFLAGS(RD_KAFKA_MSG_F_COPY),
                                RD_KAFKA_V_KEY((void *)key, keylen),
                                RD_KAFKA_V_VALUE((void *)value, len),
                                RD_KAFKA_V_OPAQUE(NULL), RD_KAFKA_V_END);
        if (!err)
                k->untracked++;
        return err;
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
        conf = make_conf(cfg, reader_defaults, CXW_KAFKA_CONF_NONE, "budget", errstr,
                         errstr_size);
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
