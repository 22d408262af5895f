/* kafka_consumer.c: the group consumer of the replica's Kafka handle
 * (kafka.h): rebalances and the commits around a revoke, stored offsets,
 * pause and resume, and the statistics (brokers up, lag per partition). */
#include "kafka_int.h"
#include "cxone/base/log.h"
#include "cxone/base/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

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

int kafka_consumer_open(cxw_kafka_t *k, const cxw_config_t *cfg, char *errstr,
                        size_t errstr_size)
{
        rd_kafka_conf_t *cconf;
        char err[512];

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
                cconf = kafka_make_conf(cfg, defaults, CXW_KAFKA_CONF_CONSUMER,
                                        "consumer", errstr, errstr_size);
        }
        if (!cconf)
                return -1;
        if (rd_kafka_conf_set(cconf, "group.id", cfg->group_id, err, sizeof(err)) !=
            RD_KAFKA_CONF_OK) {
                snprintf(errstr, errstr_size, "kafka.group_id: %s", err);
                goto fail;
        }
        /* Exactly-once: offsets go into the producer's transactions, never
         * through the consumer's own commits; and what this replica reads
         * (the requests) is only what upstream committed. Set after the
         * configuration: kafka.consumer_properties cannot undo them. */
        if (cfg->kafka_exactly_once &&
            (rd_kafka_conf_set(cconf, "enable.auto.commit", "false", err, sizeof(err)) !=
                 RD_KAFKA_CONF_OK ||
             rd_kafka_conf_set(cconf, "isolation.level", "read_committed", err,
                               sizeof(err)) != RD_KAFKA_CONF_OK)) {
                snprintf(errstr, errstr_size, "kafka.exactly_once: %s", err);
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
        rd_kafka_poll_set_consumer(k->consumer);
        k->cq = rd_kafka_queue_get_consumer(k->consumer);
        return 0;
fail:
        rd_kafka_conf_destroy(cconf);
        return -1;
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

/* 1 if the consumer is a static member (group.instance.id set, by
 * kafka.static_membership or kafka.consumer_properties). */
static int is_static_member(cxw_kafka_t *k)
{
        char instance[CXW_INSTANCE_MAX] = "";
        size_t n = sizeof(instance);

        return rd_kafka_conf_get(rd_kafka_conf(k->consumer), "group.instance.id",
                                 instance, &n) == RD_KAFKA_CONF_OK &&
               instance[0] != '\0';
}

void kafka_consumer_close(cxw_kafka_t *k)
{
        if (!k->consumer)
                return;
        cxw_kafka_commit(k);
        /* A static member must not unsubscribe: librdkafka sends a
         * LeaveGroup on unsubscribe even for a static member (it leaves it
         * out only inside rd_kafka_consumer_close()), and the leave would
         * cost the rebalance that static membership is there to avoid. Its
         * stop starts no rebalance, so the close hang above (an assignment
         * arriving during the close) needs another member to change the
         * group at that very moment. */
        if (!is_static_member(k))
                leave_assignment(k);
        rd_kafka_consumer_close(k->consumer);
        rd_kafka_destroy(k->consumer);
        k->consumer = NULL;
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

void cxw_kafka_foreach_lag(const cxw_kafka_t *k,
                           void (*cb)(void *opaque, const char *topic, int32_t partition,
                                      int64_t lag),
                           void *opaque)
{
        for (size_t i = 0; i < k->nlags; i++)
                cb(opaque, k->lags[i].topic, k->lags[i].partition, k->lags[i].lag);
}
