/* fake_kafka.c: every public function of src/lib/io/kafka.c,
 * kafka_consumer.c and kafka_producer.c (the group consumer, the producer;
 * fake_kafka_txn.c fakes kafka_txn.c, fake_kafka_reader.c kafka_reader.c),
 * for the worker's unit tests (fakes.h). The test assigns and revokes partitions (the
 * hooks run inside fk_assign/fk_revoke, as inside a real consumer poll), injects messages
 * that cxw_kafka_consume() hands out, and acknowledges produced records, whose delivery
 * reports cxw_kafka_serve() gives; stores, commits and pauses are recorded.
 *
 * Also defines rd_kafka_topic_name(), rd_kafka_message_headers() and
 * rd_kafka_message_destroy() for the fake's own messages (see fakes.h). */
#include "fakes.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "fake_kafka_int.h"

fk_state_t fk_state;

/* As librdkafka's queues do when something arrives: wakes the loop. */
static void wakeup(void)
{
        char c = 1;

        if (fk_state.k && fk_state.k->wakeup_fd != -1 &&
            write(fk_state.k->wakeup_fd, &c, 1) < 0) {
                /* full: a wakeup is pending anyway */
        }
}

static fk_topic_t *topic_get(const char *name)
{
        fk_topic_t *t;

        for (t = fk_state.topics; t; t = t->next)
                if (strcmp(t->name, name) == 0)
                        return t;
        t = calloc(1, sizeof(*t));
        assert_non_null(t);
        t->name = strdup(name);
        t->next = fk_state.topics;
        fk_state.topics = t;
        return t;
}

fk_part_t *fk_part_get(const char *topic, int32_t partition)
{
        fk_part_t *p;

        for (p = fk_state.parts; p; p = p->next)
                if (p->partition == partition && strcmp(p->topic, topic) == 0)
                        return p;
        p = calloc(1, sizeof(*p));
        assert_non_null(p);
        p->topic = strdup(topic);
        p->partition = partition;
        p->stored = -1;
        p->txn_offset = -1;
        p->next = fk_state.parts;
        fk_state.parts = p;
        return p;
}

static int assigned_cnt(void)
{
        int n = 0;

        for (fk_part_t *p = fk_state.parts; p; p = p->next)
                n += p->assigned;
        return n;
}

static fk_msg_t *msg_new(const char *topic, int32_t partition, int64_t offset)
{
        fk_msg_t *fm = calloc(1, sizeof(*fm));

        assert_non_null(fm);
        fm->magic = FK_MAGIC;
        fm->m.rkt = (rd_kafka_topic_t *)topic_get(topic);
        fm->m.partition = partition;
        fm->m.offset = offset;
        return fm;
}

void fk_msg_free(fk_msg_t *fm)
{
        if (fm->headers)
                rd_kafka_headers_destroy(fm->headers);
        free(fm->m.payload);
        free(fm->m.key);
        free(fm);
}

static fk_msg_t *msg_of(const rd_kafka_message_t *rkm)
{
        fk_msg_t *fm = (fk_msg_t *)((char *)rkm - offsetof(fk_msg_t, m));

        assert_int_equal(fm->magic, FK_MAGIC);
        return fm;
}

/* ------------------------------------------------------------------ */
/* librdkafka's message accessors, for the fake's messages              */

const char *rd_kafka_topic_name(const rd_kafka_topic_t *rkt)
{
        return ((const fk_topic_t *)rkt)->name;
}

rd_kafka_resp_err_t rd_kafka_message_headers(const rd_kafka_message_t *rkm,
                                             rd_kafka_headers_t **hdrsp)
{
        fk_msg_t *fm = msg_of(rkm);

        if (!fm->headers)
                return RD_KAFKA_RESP_ERR__NOENT;
        *hdrsp = fm->headers;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

void rd_kafka_message_destroy(rd_kafka_message_t *rkm)
{
        fk_msg_t *fm = msg_of(rkm);

        fm->magic = 0;
        fk_state.live_msgs--;
        fk_msg_free(fm);
}

/* ------------------------------------------------------------------ */
/* kafka.h                                                             */

cxw_kafka_t *cxw_kafka_new(const cxw_config_t *cfg, const char *const *topics,
                           size_t ntopics, const cxw_kafka_hooks_t *hooks, void *opaque,
                           int wakeup_fd, char *errstr, size_t errstr_size)
{
        cxw_kafka_t *k = calloc(1, sizeof(*k));

        (void)topics;
        (void)ntopics;
        (void)errstr;
        (void)errstr_size;
        assert_null(fk_state.k);
        fk_state.transactional = cfg->kafka_exactly_once;
        k->wakeup_fd = wakeup_fd;
        k->hooks = *hooks;
        k->opaque = opaque;
        fk_state.k = k;
        return k;
}

int64_t cxw_kafka_prefetch_bytes(const cxw_config_t *cfg)
{
        return cfg->max_buffered_bytes / 4; /* as kafka.c: a quarter */
}

static void deliver(void);

void cxw_kafka_destroy(cxw_kafka_t *k, int flush_ms)
{
        (void)flush_ms;
        if (!k)
                return;
        /* The flush: what is produced is acknowledged and reported. */
        if (!fk_state.manual_ack)
                fk_ack(RD_KAFKA_RESP_ERR_NO_ERROR);
        deliver();
        if (assigned_cnt() > 0)
                fk_state.commits++; /* the close commits */
        free(k);
        fk_state.k = NULL;
}

rd_kafka_message_t *cxw_kafka_consume(cxw_kafka_t *k)
{
        fk_msg_t **pp;

        assert_ptr_equal(k, fk_state.k);
        if (fk_state.paused)
                return NULL;
        for (pp = &fk_state.qhead; *pp; pp = &(*pp)->next) {
                fk_msg_t *fm = *pp;
                if (!fk_part_get(rd_kafka_topic_name(fm->m.rkt), fm->m.partition)
                         ->assigned)
                        continue;
                *pp = fm->next;
                if (fk_state.qtail == fm) {
                        fk_state.qtail = NULL;
                        for (fk_msg_t *t = fk_state.qhead; t; t = t->next)
                                fk_state.qtail = t;
                }
                fm->next = NULL;
                fk_state.live_msgs++;
                return &fm->m;
        }
        return NULL;
}

/* Gives the delivery reports of the acknowledged records. */
static void deliver(void)
{
        for (fk_rec_t *rec = fk_state.rhead; rec; rec = rec->next) {
                fk_msg_t *fm;

                if (rec->untracked || !rec->acked || rec->delivered)
                        continue;
                rec->delivered = 1;
                fm = msg_new(rec->topic, 0, -1);
                fm->m.err = rec->err;
                fm->m._private = rec->opaque;
                fk_state.k->hooks.delivered(fk_state.k->opaque, &fm->m);
                fk_msg_free(fm);
        }
}

void cxw_kafka_serve(cxw_kafka_t *k)
{
        assert_ptr_equal(k, fk_state.k);
        if (!fk_state.manual_ack)
                fk_ack(RD_KAFKA_RESP_ERR_NO_ERROR);
        deliver();
}

static fk_rec_t *record(const char *topic, const void *key, size_t keylen,
                        const void *value, size_t len)
{
        fk_rec_t *rec = calloc(1, sizeof(*rec));

        assert_non_null(rec);
        rec->topic = strdup(topic);
        rec->key = calloc(1, keylen + 1);
        if (key)
                memcpy(rec->key, key, keylen);
        rec->keylen = keylen;
        rec->value = calloc(1, len + 1);
        if (value)
                memcpy(rec->value, value, len);
        rec->len = len;
        if (fk_state.rtail)
                fk_state.rtail->next = rec;
        else
                fk_state.rhead = rec;
        fk_state.rtail = rec;
        return rec;
}

rd_kafka_resp_err_t cxw_kafka_produce(cxw_kafka_t *k, const char *topic, const void *key,
                                      size_t keylen, const void *value, size_t len,
                                      rd_kafka_headers_t *headers, void *opaque)
{
        fk_rec_t *rec;

        assert_ptr_equal(k, fk_state.k);
        if (fk_state.fail_produce > 0) {
                fk_state.fail_produce--;
                return RD_KAFKA_RESP_ERR__QUEUE_FULL;
        }
        /* A transactional producer refuses a record outside a transaction. */
        if (fk_state.transactional)
                assert_true(fk_state.txn_open && !fk_state.fenced);
        rec = record(topic, key, keylen, value, len);
        rec->txn = fk_state.transactional ? fk_state.txn_no : 0;
        rec->headers = headers;
        rec->opaque = opaque;
        if (!fk_state.manual_ack)
                wakeup(); /* the broker's acknowledgement comes */
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

rd_kafka_resp_err_t cxw_kafka_produce_untracked(cxw_kafka_t *k, const char *topic,
                                                const void *key, size_t keylen,
                                                const void *value, size_t len)
{
        assert_ptr_equal(k, fk_state.k);
        record(topic, key, keylen, value, len)->untracked = 1;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

void cxw_kafka_store(cxw_kafka_t *k, const char *topic, int32_t partition, int64_t offset)
{
        fk_part_t *p = fk_part_get(topic, partition);

        assert_ptr_equal(k, fk_state.k);
        /* librdkafka refuses to store for a partition not assigned */
        assert_true(p->assigned);
        p->stored = offset;
        fk_state.stores++;
}

void cxw_kafka_commit(cxw_kafka_t *k)
{
        assert_ptr_equal(k, fk_state.k);
        fk_state.commits++;
}

void cxw_kafka_set_paused(cxw_kafka_t *k, int paused)
{
        assert_ptr_equal(k, fk_state.k);
        if (fk_state.paused == paused)
                return;
        fk_state.paused = paused;
        if (paused)
                fk_state.pauses++;
        else
                fk_state.resumes++;
}

size_t cxw_kafka_max_record_bytes(const cxw_kafka_t *k)
{
        (void)k;
        return 1000000; /* librdkafka's default message.max.bytes */
}

int64_t cxw_kafka_revoke_commit_failures(const cxw_kafka_t *k)
{
        (void)k;
        return 0;
}

int cxw_kafka_paused(const cxw_kafka_t *k)
{
        (void)k;
        return fk_state.paused;
}

int cxw_kafka_assigned_cnt(const cxw_kafka_t *k)
{
        (void)k;
        return assigned_cnt();
}

int cxw_kafka_total_partitions(const cxw_kafka_t *k)
{
        (void)k;
        return fk_state.total_partitions ? fk_state.total_partitions : assigned_cnt();
}

int cxw_kafka_reachable(const cxw_kafka_t *k)
{
        (void)k;
        return 1;
}

void cxw_kafka_foreach_lag(const cxw_kafka_t *k,
                           void (*cb)(void *opaque, const char *topic, int32_t partition,
                                      int64_t lag),
                           void *opaque)
{
        (void)k;
        (void)cb;
        (void)opaque;
}

rd_kafka_resp_err_t cxw_kafka_fatal(cxw_kafka_t *k, char *errstr, size_t errstr_size)
{
        (void)k;
        if (errstr_size)
                errstr[0] = '\0';
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

/* ------------------------------------------------------------------ */
/* the test's side                                                     */

static void rebalance(const char *topic, int32_t partition, int assign)
{
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        fk_part_t *p = fk_part_get(topic, partition);

        assert_non_null(fk_state.k);
        rd_kafka_topic_partition_list_add(l, topic, partition);
        if (assign) {
                assert_false(p->assigned);
                p->assigned = 1;
                fk_state.k->hooks.assigned(fk_state.k->opaque, l);
        } else {
                assert_true(p->assigned);
                fk_state.k->hooks.revoked(fk_state.k->opaque, l);
                fk_state.commits++; /* the synchronous commit after the hook */
                p->assigned = 0;
                /* What was fetched for it is dropped: the next owner reads it. */
                for (fk_msg_t **pp = &fk_state.qhead; *pp;) {
                        fk_msg_t *fm = *pp;
                        if (fm->m.partition == partition &&
                            strcmp(rd_kafka_topic_name(fm->m.rkt), topic) == 0) {
                                *pp = fm->next;
                                fk_msg_free(fm);
                        } else {
                                pp = &fm->next;
                        }
                }
                fk_state.qtail = NULL;
                for (fk_msg_t *t = fk_state.qhead; t; t = t->next)
                        fk_state.qtail = t;
        }
        rd_kafka_topic_partition_list_destroy(l);
}

void fk_assign(const char *topic, int32_t partition)
{
        rebalance(topic, partition, 1);
}

void fk_revoke(const char *topic, int32_t partition)
{
        rebalance(topic, partition, 0);
}

int64_t fk_inject(const char *topic, int32_t partition, const char *key,
                  const char *value, const char *const *headers)
{
        fk_part_t *p = fk_part_get(topic, partition);
        fk_msg_t *fm = msg_new(topic, partition, p->next_offset++);

        fm->m.len = strlen(value);
        fm->m.payload = strdup(value);
        if (key) {
                fm->m.key_len = strlen(key);
                fm->m.key = strdup(key);
        }
        if (headers) {
                fm->headers = rd_kafka_headers_new(4);
                for (const char *const *h = headers; h[0]; h += 2)
                        rd_kafka_header_add(fm->headers, h[0], -1, h[1], -1);
        }
        if (fk_state.qtail)
                fk_state.qtail->next = fm;
        else
                fk_state.qhead = fm;
        fk_state.qtail = fm;
        wakeup();
        return fm->m.offset;
}

size_t fk_queued(void)
{
        size_t n = 0;

        for (fk_msg_t *fm = fk_state.qhead; fm; fm = fm->next)
                n++;
        return n;
}

size_t fk_produced_cnt(const char *topic)
{
        size_t n = 0;

        for (fk_rec_t *rec = fk_state.rhead; rec; rec = rec->next)
                n += strcmp(rec->topic, topic) == 0;
        return n;
}

fk_rec_t *fk_produced(const char *topic, size_t i)
{
        for (fk_rec_t *rec = fk_state.rhead; rec; rec = rec->next)
                if (strcmp(rec->topic, topic) == 0 && i-- == 0)
                        return rec;
        return NULL;
}

const char *fk_rec_header(const fk_rec_t *rec, const char *name, char *buf, size_t size)
{
        const void *v = NULL;
        size_t n = 0;

        if (!rec->headers || rd_kafka_header_get_last(rec->headers, name, &v, &n) || !v)
                return NULL;
        snprintf(buf, size, "%.*s", (int)n, (const char *)v);
        return buf;
}

void fk_set_auto_ack(int on)
{
        fk_state.manual_ack = !on;
}

size_t fk_ack(rd_kafka_resp_err_t err)
{
        size_t n = 0;

        for (fk_rec_t *rec = fk_state.rhead; rec; rec = rec->next) {
                if (rec->untracked || rec->acked)
                        continue;
                rec->acked = 1;
                rec->err = err;
                n++;
        }
        if (n)
                wakeup();
        return n;
}

size_t fk_undelivered(void)
{
        size_t n = 0;

        for (fk_rec_t *rec = fk_state.rhead; rec; rec = rec->next)
                n += !rec->untracked && !rec->delivered;
        return n;
}

void fk_fail_produce(int n)
{
        fk_state.fail_produce = n;
}

int64_t fk_stored(const char *topic, int32_t partition)
{
        return fk_part_get(topic, partition)->stored;
}

size_t fk_store_cnt(void)
{
        return fk_state.stores;
}

int fk_is_paused(void)
{
        return fk_state.paused;
}

int fk_pause_cnt(void)
{
        return fk_state.pauses;
}

int fk_resume_cnt(void)
{
        return fk_state.resumes;
}

int fk_commit_cnt(void)
{
        return fk_state.commits;
}

void fk_set_total_partitions(int n)
{
        fk_state.total_partitions = n;
}

void fk_reset(void)
{
        assert_null(fk_state.k);
        assert_int_equal(fk_state.live_msgs, 0); /* the worker destroyed what it took */
        while (fk_state.qhead) {
                fk_msg_t *fm = fk_state.qhead;
                fk_state.qhead = fm->next;
                fk_msg_free(fm);
        }
        while (fk_state.rhead) {
                fk_rec_t *rec = fk_state.rhead;
                fk_state.rhead = rec->next;
                if (rec->headers)
                        rd_kafka_headers_destroy(rec->headers);
                free(rec->topic);
                free(rec->key);
                free(rec->value);
                free(rec);
        }
        while (fk_state.parts) {
                fk_part_t *p = fk_state.parts;
                fk_state.parts = p->next;
                free(p->topic);
                free(p);
        }
        while (fk_state.topics) {
                fk_topic_t *t = fk_state.topics;
                fk_state.topics = t->next;
                free(t->name);
                free(t);
        }
        memset(&fk_state, 0, sizeof(fk_state));
}
