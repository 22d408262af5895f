/* test_worker_exactly_once.c: the worker with kafka.exactly_once on the fakes
 * (fakes.h): a request's records go into a transaction only once every
 * request before it in its partition is decided, and the transaction
 * commits the offset that covers them, once its records are acknowledged
 * (what is decided meanwhile goes into the next); a revoke commits before the
 * partition goes; an abort rewinds and the redone call carries the same
 * Idempotency-Key; a fenced producer stops the replica, nothing written
 * after. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <string.h>

#include "fakes.h"
#include "cxone/base/util.h"

#define TC "t.contacts"

static fx_t *eos_new(int interval_ms)
{
        cxw_config_t *cfg = fx_config(NULL);

        cfg->kafka_exactly_once = true;
        cfg->kafka_txn_interval_ms = interval_ms;
        cfg->kafka_txn_max_records = 1000;
        return fx_start(cfg);
}

static int64_t inject(const char *id, const char *name)
{
        char buf[256];

        return fk_inject(TC, 0, id, fx_update(buf, sizeof(buf), id, name), NULL);
}

static int two_open(fx_t *f)
{
        (void)f;
        return fh_open_cnt() >= 2;
}

static int one_open(fx_t *f)
{
        (void)f;
        return fh_open_cnt() >= 1;
}

static int committed_once(fx_t *f)
{
        (void)f;
        return fk_txn_commits() >= 1;
}

static int no_jobs(fx_t *f)
{
        return f->w->njobs == 0;
}

static size_t results_in(int state)
{
        size_t n = 0;

        for (size_t i = 0; i < fk_produced_cnt("t.results"); i++)
                n += fk_produced("t.results", i)->txn_state == state;
        return n;
}

static void test_records_wait_for_earlier_offsets_and_commit_with_them(void **state)
{
        fx_t *f = eos_new(30);
        fh_req_t *a, *b;

        (void)state;
        assert_int_equal(inject("c-1", "A"), 0);
        assert_int_equal(inject("c-2", "B"), 1);
        assert_true(fx_until(f, two_open, 1000));
        a = fh_open("PATCH", "/c-1");
        b = fh_open("PATCH", "/c-2");
        assert_non_null(a);
        assert_non_null(b);
        /* The later one is decided first: its records wait for offset 0. */
        fh_answer(b, 200, "{}", NULL);
        fx_spin(f, 60);
        assert_int_equal(fk_produced_cnt("t.results"), 0);
        assert_int_equal(fk_txn_commits(), 0);
        fh_answer(a, 200, "{}", NULL);
        assert_true(fx_until(f, committed_once, 1000));
        assert_true(fx_until(f, no_jobs, 1000));
        /* Both outcomes, in offset order, in one committed transaction with
         * the offset after them; the consumer stored nothing itself. */
        assert_int_equal(fk_produced_cnt("t.results"), 2);
        assert_int_equal(results_in(FK_TXN_COMMITTED), 2);
        assert_int_equal(fk_produced("t.results", 0)->txn,
                         fk_produced("t.results", 1)->txn);
        assert_string_equal(fk_produced("t.results", 0)->key, "c-1");
        assert_int_equal(fk_txn_offset(TC, 0), 2);
        assert_int_equal(fk_stored(TC, 0), -1);
        assert_int_equal(fk_produced_cnt("t.audit"), 2);
        assert_int_equal(f->w->stats.txn_committed, (uint64_t)fk_txn_commits());
        fx_free(f);
}

static int committed_twice(fx_t *f)
{
        (void)f;
        return fk_txn_commits() >= 2;
}

static void
test_a_due_commit_waits_for_acks_and_later_records_go_to_the_next(void **state)
{
        fx_t *f = eos_new(30);
        fh_req_t *a, *b;

        (void)state;
        fk_set_auto_ack(0); /* records are acknowledged only by fk_ack() */
        assert_int_equal(inject("c-1", "A"), 0);
        assert_int_equal(inject("c-2", "B"), 1);
        assert_true(fx_until(f, two_open, 1000));
        a = fh_open("PATCH", "/c-1");
        b = fh_open("PATCH", "/c-2");
        fh_answer(a, 200, "{}", NULL);
        /* Due after 30 ms, but its records are not acknowledged: it drains,
         * the loop goes on, nothing is committed. */
        fx_spin(f, 80);
        assert_int_equal(fk_produced_cnt("t.results"), 1);
        assert_int_equal(fk_txn_commits(), 0);
        /* Decided while it drains: not put into the draining transaction. */
        fh_answer(b, 200, "{}", NULL);
        fx_spin(f, 20);
        assert_int_equal(fk_produced_cnt("t.results"), 1);
        assert_int_equal(fk_txn_commits(), 0);
        /* Acknowledged: it commits offset 1 alone, then c-2 opens the next. */
        fk_ack(RD_KAFKA_RESP_ERR_NO_ERROR);
        assert_true(fx_until(f, committed_once, 1000));
        assert_int_equal(fk_txn_offset(TC, 0), 1);
        fx_spin(f, 5);
        assert_int_equal(fk_produced_cnt("t.results"), 2);
        assert_true(fk_produced("t.results", 1)->txn > fk_produced("t.results", 0)->txn);
        assert_string_equal(fk_produced("t.results", 1)->key, "c-2");
        fk_ack(RD_KAFKA_RESP_ERR_NO_ERROR);
        assert_true(fx_until(f, committed_twice, 1000));
        assert_int_equal(fk_txn_offset(TC, 0), 2);
        assert_int_equal(results_in(FK_TXN_COMMITTED), 2);
        fk_set_auto_ack(1);
        fx_free(f);
}

static void test_revoke_commits_before_the_partition_goes(void **state)
{
        fx_t *f = eos_new(60000); /* never due by time */

        (void)state;
        inject("c-1", "A");
        assert_true(fx_until(f, one_open, 1000));
        fh_answer(fh_open("PATCH", "/c-1"), 200, "{}", NULL);
        fx_spin(f, 20);
        assert_int_equal(fk_produced_cnt("t.results"), 1);
        assert_int_equal(fk_txn_commits(), 0);
        assert_true(fk_txn_is_open());
        fk_revoke(TC, 0);
        assert_int_equal(fk_txn_commits(), 1);
        assert_int_equal(fk_txn_offset(TC, 0), 1);
        assert_int_equal(results_in(FK_TXN_COMMITTED), 1);
        fx_free(f);
}

static void test_revoke_drops_held_work_without_waiting(void **state)
{
        fx_t *f = eos_new(60000);
        int64_t t0;

        (void)state;
        inject("c-1", "A");
        inject("c-2", "B");
        assert_true(fx_until(f, two_open, 1000));
        fh_answer(fh_open("PATCH", "/c-2"), 200, "{}", NULL);
        fx_spin(f, 10);
        /* c-1 fails at the network until the revoke: c-2 stays held. */
        fh_fail(fh_open("PATCH", "/c-1"), 7, "connection refused");
        t0 = cxw_now_ms();
        fk_revoke(TC, 0);
        assert_true(cxw_now_ms() - t0 < 1000);
        /* Nothing of the partition was committed: its next owner redoes
         * both, and no outcome of them is in a committed transaction. */
        assert_int_equal(results_in(FK_TXN_COMMITTED), 0);
        assert_int_equal(fk_txn_offset(TC, 0), -1);
        assert_int_equal(f->w->njobs, 0);
        fx_free(f);
}

static void test_abort_rewinds_and_redoes_with_the_same_idempotency_key(void **state)
{
        fx_t *f = eos_new(20);
        fh_req_t *r;

        (void)state;
        fk_txn_fail_next_commit(CXW_KAFKA_TXN_ABORT);
        inject("c-1", "A");
        assert_true(fx_until(f, one_open, 1000));
        r = fh_open("PATCH", "/c-1");
        assert_string_equal(fh_header(r, "Idempotency-Key"), "t.contacts:0:0");
        fh_answer(r, 200, "{}", NULL);
        assert_true(fx_until(f, no_jobs, 1000));
        fx_spin(f, 50);
        assert_int_equal(fk_txn_aborts(), 1);
        assert_int_equal(fk_rewinds(), 1);
        assert_int_equal(f->w->stats.txn_aborted, 1);
        assert_int_equal(results_in(FK_TXN_ABORTED), 1);
        assert_int_equal(results_in(FK_TXN_COMMITTED), 0);
        /* Kafka delivers it again from the committed offset. */
        assert_int_equal(inject("c-1", "A"), 0);
        assert_true(fx_until(f, one_open, 1000));
        r = fh_open("PATCH", "/c-1");
        assert_string_equal(fh_header(r, "Idempotency-Key"), "t.contacts:0:0");
        fh_answer(r, 200, "{}", NULL);
        assert_true(fx_until(f, committed_once, 1000));
        assert_int_equal(results_in(FK_TXN_COMMITTED), 1);
        assert_int_equal(fk_txn_offset(TC, 0), 1);
        fx_free(f);
}

static void test_fenced_producer_stops_the_replica_writing_nothing_after(void **state)
{
        fx_t *f = eos_new(20);
        size_t before;

        (void)state;
        fk_txn_fail_next_commit(CXW_KAFKA_TXN_FATAL);
        inject("c-1", "A");
        inject("c-2", "B");
        assert_true(fx_until(f, two_open, 1000));
        fh_answer(fh_open("PATCH", "/c-1"), 200, "{}", NULL);
        /* The run produces c-1's records, commits at the interval, is
         * fenced, and returns 1. */
        assert_int_equal(cxw_worker_run(f->w), 1);
        assert_true(f->w->fatal);
        assert_int_equal(fk_produced_cnt("t.results"), 1);
        before = fk_produced_cnt("t.results") + fk_produced_cnt("t.audit") +
                 fk_produced_cnt("t.dlq");
        /* The other call ends after the fencing: its outcome is not written
         * (the fake also asserts no record is produced once fenced). */
        fh_answer(fh_open("PATCH", "/c-2"), 200, "{}", NULL);
        cxw_http_perform(f->w->http);
        cxw_kafka_serve(f->w->kafka);
        assert_int_equal(f->w->stats.succeeded, 2);
        assert_int_equal(fk_produced_cnt("t.results") + fk_produced_cnt("t.audit") +
                             fk_produced_cnt("t.dlq"),
                         before);
        assert_int_equal(results_in(FK_TXN_COMMITTED), 0);
        assert_int_equal(fk_txn_offset(TC, 0), -1);
        fx_free(f);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_teardown(
                test_records_wait_for_earlier_offsets_and_commit_with_them, fx_teardown),
            cmocka_unit_test_teardown(
                test_a_due_commit_waits_for_acks_and_later_records_go_to_the_next,
                fx_teardown),
            cmocka_unit_test_teardown(test_revoke_commits_before_the_partition_goes,
                                      fx_teardown),
            cmocka_unit_test_teardown(test_revoke_drops_held_work_without_waiting,
                                      fx_teardown),
            cmocka_unit_test_teardown(
                test_abort_rewinds_and_redoes_with_the_same_idempotency_key, fx_teardown),
            cmocka_unit_test_teardown(
                test_fenced_producer_stops_the_replica_writing_nothing_after,
                fx_teardown),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
