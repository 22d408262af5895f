/* fake_kafka_txn.c: the transactions of the Kafka fake (kafka_txn.c's
 * functions, fakes.h): begin, commit with offsets, abort, rewind, as a
 * transactional producer and its coordinator would; records are marked
 * committed or aborted, and once fenced nothing more may be produced. */
#include "fake_kafka_int.h"

#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <cmocka.h>
#include <stdlib.h>

/* Transactions (kafka_txn.c). */

int cxw_kafka_transactional(const cxw_kafka_t *k)
{
        assert_ptr_equal(k, fk_state.k);
        return fk_state.transactional;
}

size_t cxw_kafka_txn_unacked(cxw_kafka_t *k)
{
        assert_ptr_equal(k, fk_state.k);
        return fk_undelivered();
}

cxw_kafka_txn_step_t cxw_kafka_txn_begin(cxw_kafka_t *k)
{
        assert_ptr_equal(k, fk_state.k);
        assert_true(fk_state.transactional);
        if (fk_state.fenced)
                return CXW_KAFKA_TXN_FATAL;
        assert_false(fk_state.txn_open);
        fk_state.txn_open = 1;
        fk_state.txn_no++;
        return CXW_KAFKA_TXN_OK;
}

static void txn_end(int state)
{
        for (fk_rec_t *r = fk_state.rhead; r; r = r->next)
                if (r->txn == fk_state.txn_no && r->txn_state == FK_TXN_OPEN)
                        r->txn_state = state;
        fk_state.txn_open = 0;
}

cxw_kafka_txn_step_t cxw_kafka_txn_commit(cxw_kafka_t *k,
                                          const rd_kafka_topic_partition_list_t *offsets)
{
        cxw_kafka_txn_step_t r = fk_state.txn_next_commit;

        assert_ptr_equal(k, fk_state.k);
        assert_true(fk_state.txn_open);
        if (fk_state.fenced)
                return CXW_KAFKA_TXN_FATAL;
        fk_state.txn_next_commit = CXW_KAFKA_TXN_OK;
        if (r == CXW_KAFKA_TXN_FATAL)
                fk_state.fenced = 1;
        if (r != CXW_KAFKA_TXN_OK)
                return r;
        /* librdkafka's commit flushes: every record is acknowledged first */
        fk_ack(RD_KAFKA_RESP_ERR_NO_ERROR);
        for (int i = 0; offsets && i < offsets->cnt; i++) {
                fk_part_t *p =
                    fk_part_get(offsets->elems[i].topic, offsets->elems[i].partition);
                /* offsets of partitions this replica does not own are refused */
                assert_true(p->assigned);
                p->txn_offset = offsets->elems[i].offset;
        }
        txn_end(FK_TXN_COMMITTED);
        fk_state.txn_commits++;
        return CXW_KAFKA_TXN_OK;
}

cxw_kafka_txn_step_t cxw_kafka_txn_abort(cxw_kafka_t *k)
{
        assert_ptr_equal(k, fk_state.k);
        if (fk_state.fenced)
                return CXW_KAFKA_TXN_FATAL;
        /* the records not acknowledged yet fail (purged) */
        fk_ack(RD_KAFKA_RESP_ERR__PURGE_INFLIGHT);
        txn_end(FK_TXN_ABORTED);
        fk_state.txn_aborts++;
        return CXW_KAFKA_TXN_OK;
}

int cxw_kafka_rewind(cxw_kafka_t *k)
{
        fk_msg_t **pp = &fk_state.qhead;

        assert_ptr_equal(k, fk_state.k);
        fk_state.rewinds++;
        while (*pp) {
                fk_msg_t *fm = *pp;
                fk_part_t *p =
                    fk_part_get(rd_kafka_topic_name(fm->m.rkt), fm->m.partition);
                if (p->assigned) {
                        *pp = fm->next;
                        fk_msg_free(fm);
                } else {
                        pp = &fm->next;
                }
        }
        fk_state.qtail = NULL;
        for (fk_msg_t *fm = fk_state.qhead; fm; fm = fm->next)
                fk_state.qtail = fm;
        for (fk_part_t *p = fk_state.parts; p; p = p->next)
                if (p->assigned)
                        p->next_offset = p->txn_offset < 0 ? 0 : p->txn_offset;
        return 0;
}

void fk_txn_fail_next_commit(cxw_kafka_txn_step_t step)
{
        fk_state.txn_next_commit = step;
}

int fk_txn_commits(void)
{
        return fk_state.txn_commits;
}

int fk_txn_aborts(void)
{
        return fk_state.txn_aborts;
}

int fk_txn_is_open(void)
{
        return fk_state.txn_open;
}

int64_t fk_txn_offset(const char *topic, int32_t partition)
{
        return fk_part_get(topic, partition)->txn_offset;
}

int fk_rewinds(void)
{
        return fk_state.rewinds;
}
