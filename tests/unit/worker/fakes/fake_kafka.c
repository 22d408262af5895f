/* fake_kafka.c: every public function of src/lib/io/kafka.c,
 * kafka_consumer.c, kafka_producer.c and kafka_reader.c (the group
 * consumer, the producer, the reader of the budget topic), for the worker's
 * unit tests (fakes.h). The test assigns and revokes partitions (the hooks
 * run inside fk_assign/fk_revoke, as inside a real consumer poll), injects
 * messages that cxw_kafka_consume() hands out, and acknowledges produced
 * records, whose delivery reports cxw_kafka_serve() gives; stores, commits
 * and pauses are recorded.
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

/* A topic object: rd_kafka_topic_t is opaque, this is ours. */
typedef struct fk_topic_s {
        struct fk_topic_s *next;
        char *name;
} fk_topic_t;

/* A message: the public struct last, so that a read of librdkafka's private
 * fields beyond it is an overflow AddressSanitizer reports. */
typedef struct fk_msg_s {
        struct fk_msg_s *next; /* the consume queue */
        uint32_t magic;
        rd_kafka_headers_t *headers;
        rd_kafka_message_t m;
} fk_msg_t;

#define FK_MAGIC 0x6b61666bu

typedef struct fk_part_s {
        struct fk_part_s *next;
        char *topic;
        int32_t partition;
        int64_t next_offset; /* of fk_inject */
        int64_t stored;      /* -1: none */
        int64_t txn_offset;  /* committed by a transaction, -1: none */
        int assigned;
} fk_part_t;

struct cxw_kafka_s {
        cxw_kafka_hooks_t hooks;
        void *opaque;
        int wakeup_fd;
};

struct cxw_kafka_reader_s {
        int started;
};

static struct {
        cxw_kafka_t *k;
        fk_topic_t *topics;
        fk_part_t *parts;
        fk_msg_t *qhead, *qtail; /* injected, not consumed */
        fk_rec_t *rhead, *rtail; /* produced */
        int manual_ack;
        int fail_produce;
        int paused, pauses, resumes, commits;
        size_t stores;
        int total_partitions;
        int live_msgs; /* handed out, not destroyed */
        int transactional, txn_open, txn_no, txn_commits, txn_aborts, rewinds;
        cxw_kafka_txn_step_t txn_next_commit;
        int fenced;
} S;

/* As librdkafka's queues do when something arrives: wakes the loop. */
static void wakeup(void)
{
        char c = 1;

        if (S.k && S.k->wakeup_fd != -1 && write(S.k->wakeup_fd, &c, 1) < 0) {
                /* full: a wakeup is pending anyway */
        }
}

static fk_topic_t *topic_get(const char *name)
{
        fk_topic_t *t;

        for (t = S.topics; t; t = t->next)
                if (strcmp(t->name, name) == 0)
                        return t;
        t = calloc(1, sizeof(*t));
        assert_non_null(t);
        t->name = strdup(name);
        t->next = S.topics;
        S.topics = t;
        return t;
}

static fk_part_t *part_get(const char *topic, int32_t partition)
{
        fk_part_t *p;

        for (p = S.parts; p; p = p->next)
                if (p->partition == partition && strcmp(p->topic, topic) == 0)
                        return p;
        p = calloc(1, sizeof(*p));
        assert_non_null(p);
        p->topic = strdup(topic);
        p->partition = partition;
        p->stored = -1;
        p->txn_offset = -1;
        p->next = S.parts;
        S.parts = p;
        return p;
}

static int assigned_cnt(void)
{
        int n = 0;

        for (fk_part_t *p = S.parts; p; p = p->next)
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

static void msg_free(fk_msg_t *fm)
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
        S.live_msgs--;
        msg_free(fm);
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
        assert_null(S.k);
        S.transactional = cfg->kafka_exactly_once;
        k->wakeup_fd = wakeup_fd;
        k->hooks = *hooks;
        k->opaque = opaque;
        S.k = k;
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
        if (!S.manual_ack)
                fk_ack(RD_KAFKA_RESP_ERR_NO_ERROR);
        deliver();
        if (assigned_cnt() > 0)
                S.commits++; /* the close commits */
        free(k);
        S.k = NULL;
}

rd_kafka_message_t *cxw_kafka_consume(cxw_kafka_t *k)
{
        fk_msg_t **pp;

        assert_ptr_equal(k, S.k);
        if (S.paused)
                return NULL;
        for (pp = &S.qhead; *pp; pp = &(*pp)->next) {
                fk_msg_t *fm = *pp;
                if (!part_get(rd_kafka_topic_name(fm->m.rkt), fm->m.partition)->assigned)
                        continue;
                *pp = fm->next;
                if (S.qtail == fm) {
                        S.qtail = NULL;
                        for (fk_msg_t *t = S.qhead; t; t = t->next)
                                S.qtail = t;
                }
                fm->next = NULL;
                S.live_msgs++;
                return &fm->m;
        }
        return NULL;
}

/* Gives the delivery reports of the acknowledged records. */
static void deliver(void)
{
        for (fk_rec_t *rec = S.rhead; rec; rec = rec->next) {
                fk_msg_t *fm;

                if (rec->untracked || !rec->acked || rec->delivered)
                        continue;
                rec->delivered = 1;
                fm = msg_new(rec->topic, 0, -1);
                fm->m.err = rec->err;
                fm->m._private = rec->opaque;
                S.k->hooks.delivered(S.k->opaque, &fm->m);
                msg_free(fm);
        }
}

void cxw_kafka_serve(cxw_kafka_t *k)
{
        assert_ptr_equal(k, S.k);
        if (!S.manual_ack)
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
        if (S.rtail)
                S.rtail->next = rec;
        else
                S.rhead = rec;
        S.rtail = rec;
        return rec;
}

rd_kafka_resp_err_t cxw_kafka_produce(cxw_kafka_t *k, const char *topic, const void *key,
                                      size_t keylen, const void *value, size_t len,
                                      rd_kafka_headers_t *headers, void *opaque)
{
        fk_rec_t *rec;

        assert_ptr_equal(k, S.k);
        if (S.fail_produce > 0) {
                S.fail_produce--;
                return RD_KAFKA_RESP_ERR__QUEUE_FULL;
        }
        /* A transactional producer refuses a record outside a transaction. */
        if (S.transactional)
                assert_true(S.txn_open && !S.fenced);
        rec = record(topic, key, keylen, value, len);
        rec->txn = S.transactional ? S.txn_no : 0;
        rec->headers = headers;
        rec->opaque = opaque;
        if (!S.manual_ack)
                wakeup(); /* the broker's acknowledgement comes */
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

rd_kafka_resp_err_t cxw_kafka_produce_untracked(cxw_kafka_t *k, const char *topic,
                                                const void *key, size_t keylen,
                                                const void *value, size_t len)
{
        assert_ptr_equal(k, S.k);
        record(topic, key, keylen, value, len)->untracked = 1;
        return RD_KAFKA_RESP_ERR_NO_ERROR;
}

void cxw_kafka_store(cxw_kafka_t *k, const char *topic, int32_t partition, int64_t offset)
{
        fk_part_t *p = part_get(topic, partition);

        assert_ptr_equal(k, S.k);
        /* librdkafka refuses to store for a partition not assigned */
        assert_true(p->assigned);
        p->stored = offset;
        S.stores++;
}

void cxw_kafka_commit(cxw_kafka_t *k)
{
        assert_ptr_equal(k, S.k);
        S.commits++;
}

void cxw_kafka_set_paused(cxw_kafka_t *k, int paused)
{
        assert_ptr_equal(k, S.k);
        if (S.paused == paused)
                return;
        S.paused = paused;
        if (paused)
                S.pauses++;
        else
                S.resumes++;
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
        return S.paused;
}

int cxw_kafka_assigned_cnt(const cxw_kafka_t *k)
{
        (void)k;
        return assigned_cnt();
}

int cxw_kafka_total_partitions(const cxw_kafka_t *k)
{
        (void)k;
        return S.total_partitions ? S.total_partitions : assigned_cnt();
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

/* Transactions (kafka_txn.c). */

int cxw_kafka_transactional(const cxw_kafka_t *k)
{
        assert_ptr_equal(k, S.k);
        return S.transactional;
}

cxw_kafka_txn_step_t cxw_kafka_txn_begin(cxw_kafka_t *k)
{
        assert_ptr_equal(k, S.k);
        assert_true(S.transactional);
        if (S.fenced)
                return CXW_KAFKA_TXN_FATAL;
        assert_false(S.txn_open);
        S.txn_open = 1;
        S.txn_no++;
        return CXW_KAFKA_TXN_OK;
}

static void txn_end(int state)
{
        for (fk_rec_t *r = S.rhead; r; r = r->next)
                if (r->txn == S.txn_no && r->txn_state == FK_TXN_OPEN)
                        r->txn_state = state;
        S.txn_open = 0;
}

cxw_kafka_txn_step_t cxw_kafka_txn_commit(cxw_kafka_t *k,
                                          const rd_kafka_topic_partition_list_t *offsets)
{
        cxw_kafka_txn_step_t r = S.txn_next_commit;

        assert_ptr_equal(k, S.k);
        assert_true(S.txn_open);
        if (S.fenced)
                return CXW_KAFKA_TXN_FATAL;
        S.txn_next_commit = CXW_KAFKA_TXN_OK;
        if (r == CXW_KAFKA_TXN_FATAL)
                S.fenced = 1;
        if (r != CXW_KAFKA_TXN_OK)
                return r;
        /* librdkafka's commit flushes: every record is acknowledged first */
        fk_ack(RD_KAFKA_RESP_ERR_NO_ERROR);
        for (int i = 0; offsets && i < offsets->cnt; i++) {
                fk_part_t *p =
                    part_get(offsets->elems[i].topic, offsets->elems[i].partition);
                /* offsets of partitions this replica does not own are refused */
                assert_true(p->assigned);
                p->txn_offset = offsets->elems[i].offset;
        }
        txn_end(FK_TXN_COMMITTED);
        S.txn_commits++;
        return CXW_KAFKA_TXN_OK;
}

cxw_kafka_txn_step_t cxw_kafka_txn_abort(cxw_kafka_t *k)
{
        assert_ptr_equal(k, S.k);
        if (S.fenced)
                return CXW_KAFKA_TXN_FATAL;
        /* the records not acknowledged yet fail (purged) */
        fk_ack(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT);
        txn_end(FK_TXN_ABORTED);
        S.txn_aborts++;
        return CXW_KAFKA_TXN_OK;
}

int cxw_kafka_rewind(cxw_kafka_t *k)
{
        fk_msg_t **pp = &S.qhead;

        assert_ptr_equal(k, S.k);
        S.rewinds++;
        while (*pp) {
                fk_msg_t *fm = *pp;
                fk_part_t *p = part_get(rd_kafka_topic_name(fm->m.rkt), fm->m.partition);
                if (p->assigned) {
                        *pp = fm->next;
                        msg_free(fm);
                } else {
                        pp = &fm->next;
                }
        }
        S.qtail = NULL;
        for (fk_msg_t *fm = S.qhead; fm; fm = fm->next)
                S.qtail = fm;
        for (fk_part_t *p = S.parts; p; p = p->next)
                if (p->assigned)
                        p->next_offset = p->txn_offset < 0 ? 0 : p->txn_offset;
        return 0;
}

void fk_txn_fail_next_commit(cxw_kafka_txn_step_t step)
{
        S.txn_next_commit = step;
}

int fk_txn_commits(void)
{
        return S.txn_commits;
}

int fk_txn_aborts(void)
{
        return S.txn_aborts;
}

int fk_txn_is_open(void)
{
        return S.txn_open;
}

int64_t fk_txn_offset(const char *topic, int32_t partition)
{
        return part_get(topic, partition)->txn_offset;
}

int fk_rewinds(void)
{
        return S.rewinds;
}

/* The reader of the budget topic: reads nothing. */
cxw_kafka_reader_t *cxw_kafka_reader_new(const cxw_config_t *cfg, const char *topic,
                                         int wakeup_fd, char *errstr, size_t errstr_size)
{
        (void)cfg;
        (void)topic;
        (void)wakeup_fd;
        (void)errstr;
        (void)errstr_size;
        return calloc(1, sizeof(cxw_kafka_reader_t));
}

void cxw_kafka_reader_destroy(cxw_kafka_reader_t *r)
{
        free(r);
}

int cxw_kafka_reader_start(cxw_kafka_reader_t *r, int timeout_ms)
{
        (void)timeout_ms;
        r->started = 1;
        return 1;
}

void cxw_kafka_reader_poll(cxw_kafka_reader_t *r,
                           void (*cb)(void *opaque, const void *value, size_t len),
                           void *opaque)
{
        (void)r;
        (void)cb;
        (void)opaque;
}

int cxw_kafka_reader_more(const cxw_kafka_reader_t *r)
{
        (void)r;
        return 0;
}

/* ------------------------------------------------------------------ */
/* the test's side                                                     */

static void rebalance(const char *topic, int32_t partition, int assign)
{
        rd_kafka_topic_partition_list_t *l = rd_kafka_topic_partition_list_new(1);
        fk_part_t *p = part_get(topic, partition);

        assert_non_null(S.k);
        rd_kafka_topic_partition_list_add(l, topic, partition);
        if (assign) {
                assert_false(p->assigned);
                p->assigned = 1;
                S.k->hooks.assigned(S.k->opaque, l);
        } else {
                assert_true(p->assigned);
                S.k->hooks.revoked(S.k->opaque, l);
                S.commits++; /* the synchronous commit after the hook */
                p->assigned = 0;
                /* What was fetched for it is dropped: the next owner reads it. */
                for (fk_msg_t **pp = &S.qhead; *pp;) {
                        fk_msg_t *fm = *pp;
                        if (fm->m.partition == partition &&
                            strcmp(rd_kafka_topic_name(fm->m.rkt), topic) == 0) {
                                *pp = fm->next;
                                msg_free(fm);
                        } else {
                                pp = &fm->next;
                        }
                }
                S.qtail = NULL;
                for (fk_msg_t *t = S.qhead; t; t = t->next)
                        S.qtail = t;
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
        fk_part_t *p = part_get(topic, partition);
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
        if (S.qtail)
                S.qtail->next = fm;
        else
                S.qhead = fm;
        S.qtail = fm;
        wakeup();
        return fm->m.offset;
}

size_t fk_queued(void)
{
        size_t n = 0;

        for (fk_msg_t *fm = S.qhead; fm; fm = fm->next)
                n++;
        return n;
}

size_t fk_produced_cnt(const char *topic)
{
        size_t n = 0;

        for (fk_rec_t *rec = S.rhead; rec; rec = rec->next)
                n += strcmp(rec->topic, topic) == 0;
        return n;
}

fk_rec_t *fk_produced(const char *topic, size_t i)
{
        for (fk_rec_t *rec = S.rhead; rec; rec = rec->next)
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
        S.manual_ack = !on;
}

size_t fk_ack(rd_kafka_resp_err_t err)
{
        size_t n = 0;

        for (fk_rec_t *rec = S.rhead; rec; rec = rec->next) {
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

        for (fk_rec_t *rec = S.rhead; rec; rec = rec->next)
                n += !rec->untracked && !rec->delivered;
        return n;
}

void fk_fail_produce(int n)
{
        S.fail_produce = n;
}

int64_t fk_stored(const char *topic, int32_t partition)
{
        return part_get(topic, partition)->stored;
}

size_t fk_store_cnt(void)
{
        return S.stores;
}

int fk_is_paused(void)
{
        return S.paused;
}

int fk_pause_cnt(void)
{
        return S.pauses;
}

int fk_resume_cnt(void)
{
        return S.resumes;
}

int fk_commit_cnt(void)
{
        return S.commits;
}

void fk_set_total_partitions(int n)
{
        S.total_partitions = n;
}

void fk_reset(void)
{
        assert_null(S.k);
        assert_int_equal(S.live_msgs, 0); /* the worker destroyed what it took */
        while (S.qhead) {
                fk_msg_t *fm = S.qhead;
                S.qhead = fm->next;
                msg_free(fm);
        }
        while (S.rhead) {
                fk_rec_t *rec = S.rhead;
                S.rhead = rec->next;
                if (rec->headers)
                        rd_kafka_headers_destroy(rec->headers);
                free(rec->topic);
                free(rec->key);
                free(rec->value);
                free(rec);
        }
        while (S.parts) {
                fk_part_t *p = S.parts;
                S.parts = p->next;
                free(p->topic);
                free(p);
        }
        while (S.topics) {
                fk_topic_t *t = S.topics;
                S.topics = t->next;
                free(t->name);
                free(t);
        }
        memset(&S, 0, sizeof(S));
}
