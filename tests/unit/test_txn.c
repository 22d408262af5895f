/* test_txn.c: the transaction scheduler commits on time and on size (after
 * draining its records' acknowledgements), settles
 * before a revoke, aborts on a failed record or an abortable error (the
 * caller then rewinds), and after a fatal error does nothing more. A fake
 * producer records every call and answers what the test scripts. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/flow/txn.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define T "cxone.contact-updates"

typedef struct {
        int begins, commits, aborts;
        cxw_txn_step_t begin_ans, commit_ans[8], abort_ans;
        int ncommit_ans; /* answers scripted for the next commits, then OK */
        /* the offsets of the last commit */
        char topics[8][64];
        int32_t parts[8];
        int64_t offs[8];
        size_t noffs;
        size_t unacked; /* records not acknowledged, as the test sets them */
        int unacked_calls;
} fake_t;

static cxw_txn_step_t f_begin(void *o)
{
        fake_t *f = o;

        f->begins++;
        return f->begin_ans;
}

static cxw_txn_step_t f_commit(void *o, const cxw_txn_offset_t *offs, size_t n)
{
        fake_t *f = o;
        cxw_txn_step_t r = CXW_TXN_STEP_OK;

        f->commits++;
        if (f->ncommit_ans > 0) {
                r = f->commit_ans[0];
                memmove(f->commit_ans, f->commit_ans + 1,
                        sizeof(f->commit_ans) - sizeof(f->commit_ans[0]));
                f->ncommit_ans--;
        }
        assert_true(n <= 8);
        f->noffs = n;
        for (size_t i = 0; i < n; i++) {
                snprintf(f->topics[i], sizeof(f->topics[i]), "%s", offs[i].topic);
                f->parts[i] = offs[i].partition;
                f->offs[i] = offs[i].offset;
        }
        return r;
}

static size_t f_unacked(void *o)
{
        fake_t *f = o;

        f->unacked_calls++;
        return f->unacked;
}

static cxw_txn_step_t f_abort(void *o)
{
        fake_t *f = o;

        f->aborts++;
        return f->abort_ans;
}

typedef struct {
        fake_t f;
        cxw_txn_t *t;
} fx_t;

static int setup(void **state)
{
        fx_t *x = calloc(1, sizeof(*x));
        cxw_txn_conf_t conf = {100, 10};
        cxw_txn_producer_t prod = {f_begin, f_commit, f_abort, NULL, f_unacked};

        if (!x)
                return -1;
        prod.opaque = &x->f;
        x->t = cxw_txn_new(&conf, &prod);
        *state = x;
        return x->t ? 0 : -1;
}

static int teardown(void **state)
{
        fx_t *x = *state;

        cxw_txn_destroy(x->t);
        free(x);
        return 0;
}

static int64_t offset_of(const fake_t *f, int32_t partition)
{
        for (size_t i = 0; i < f->noffs; i++)
                if (f->parts[i] == partition && strcmp(f->topics[i], T) == 0)
                        return f->offs[i];
        return -1;
}

static void commits_once_open_for_the_interval_with_its_offsets(void **state)
{
        fx_t *x = *state;

        assert_int_equal(cxw_txn_tick(x->t, 0, 0, 0), CXW_TXN_IDLE); /* none open */
        assert_int_equal(cxw_txn_due_at(x->t), INT64_MAX);
        assert_int_equal(cxw_txn_open(x->t, 1000), 0);
        assert_int_equal(cxw_txn_open(x->t, 1010), 0); /* already open: no begin */
        assert_int_equal(x->f.begins, 1);
        cxw_txn_add_records(x->t, 3);
        assert_int_equal(cxw_txn_set_offset(x->t, T, 0, 5), 0);
        assert_int_equal(cxw_txn_set_offset(x->t, T, 0, 8), 0);
        assert_int_equal(cxw_txn_set_offset(x->t, T, 0, 7), 0); /* never backwards */
        assert_int_equal(cxw_txn_set_offset(x->t, T, 3, 2), 0);
        assert_int_equal(cxw_txn_due_at(x->t), 1100);
        assert_false(cxw_txn_due(x->t, 1099));
        assert_true(cxw_txn_due(x->t, 1100));
        assert_int_equal(cxw_txn_tick(x->t, 1099, 0, 0), CXW_TXN_IDLE);
        assert_int_equal(x->f.commits, 0);
        assert_int_equal(cxw_txn_tick(x->t, 1100, 0, 0), CXW_TXN_COMMITTED);
        assert_int_equal(x->f.commits, 1);
        assert_int_equal(x->f.noffs, 2);
        assert_int_equal(offset_of(&x->f, 0), 8);
        assert_int_equal(offset_of(&x->f, 3), 2);
        assert_false(cxw_txn_is_open(x->t));
        assert_int_equal(cxw_txn_records(x->t), 0);
        assert_int_equal(cxw_txn_committed(x->t), 1);
        /* The next one starts empty: its offsets are its own. */
        assert_int_equal(cxw_txn_open(x->t, 2000), 0);
        cxw_txn_add_records(x->t, 1);
        assert_int_equal(cxw_txn_tick(x->t, 2100, 0, 0), CXW_TXN_COMMITTED);
        assert_int_equal(x->f.noffs, 0);
}

static void a_due_commit_drains_its_records_first(void **state)
{
        fx_t *x = *state;

        assert_int_equal(cxw_txn_open(x->t, 1000), 0);
        cxw_txn_add_records(x->t, 3);
        assert_int_equal(cxw_txn_set_offset(x->t, T, 0, 5), 0);
        x->f.unacked = 2;
        /* Not due: the producer is not even asked. */
        assert_int_equal(cxw_txn_tick(x->t, 1050, 0, 0), CXW_TXN_IDLE);
        assert_int_equal(x->f.unacked_calls, 0);
        assert_true(cxw_txn_accepting(x->t));
        /* Due with records in flight: it drains, takes nothing new, and
         * looks again soon. */
        assert_int_equal(cxw_txn_tick(x->t, 1100, 0, 0), CXW_TXN_IDLE);
        assert_int_equal(x->f.commits, 0);
        assert_false(cxw_txn_accepting(x->t));
        assert_true(cxw_txn_due(x->t, 1101));
        assert_true(cxw_txn_due_at(x->t) > 1100 && cxw_txn_due_at(x->t) <= 1110);
        x->f.unacked = 1;
        assert_int_equal(cxw_txn_tick(x->t, 1102, 0, 0), CXW_TXN_IDLE);
        assert_int_equal(x->f.commits, 0);
        /* All acknowledged: it commits, and accepts again. */
        x->f.unacked = 0;
        assert_int_equal(cxw_txn_tick(x->t, 1104, 0, 0), CXW_TXN_COMMITTED);
        assert_int_equal(x->f.commits, 1);
        assert_int_equal(offset_of(&x->f, 0), 5);
        assert_true(cxw_txn_accepting(x->t));
        assert_int_equal(cxw_txn_due_at(x->t), INT64_MAX);
        /* The next one opens at its first record, due an interval later. */
        assert_int_equal(cxw_txn_open(x->t, 1200), 0);
        assert_int_equal(cxw_txn_due_at(x->t), 1300);
}

static void a_forced_commit_does_not_drain(void **state)
{
        fx_t *x = *state;

        assert_int_equal(cxw_txn_open(x->t, 0), 0);
        cxw_txn_add_records(x->t, 1);
        x->f.unacked = 4;
        assert_int_equal(cxw_txn_tick(x->t, 100, 0, 0), CXW_TXN_IDLE);
        assert_false(cxw_txn_accepting(x->t));
        cxw_txn_undrain(x->t);
        assert_true(cxw_txn_accepting(x->t));
        assert_int_equal(cxw_txn_tick(x->t, 101, 1, 0), CXW_TXN_COMMITTED);
        assert_int_equal(x->f.commits, 1);
}

static void a_failed_record_aborts_a_draining_transaction(void **state)
{
        fx_t *x = *state;

        assert_int_equal(cxw_txn_open(x->t, 0), 0);
        cxw_txn_add_records(x->t, 1);
        x->f.unacked = 1;
        assert_int_equal(cxw_txn_tick(x->t, 100, 0, 0), CXW_TXN_IDLE);
        cxw_txn_fail(x->t);
        assert_int_equal(cxw_txn_tick(x->t, 102, 0, 0), CXW_TXN_ABORTED);
        assert_int_equal(x->f.aborts, 1);
        assert_int_equal(x->f.commits, 0);
        assert_true(cxw_txn_accepting(x->t));
}

static void commits_at_max_records_before_the_interval(void **state)
{
        fx_t *x = *state;

        assert_int_equal(cxw_txn_open(x->t, 0), 0);
        cxw_txn_add_records(x->t, 9);
        assert_false(cxw_txn_due(x->t, 1));
        assert_int_equal(cxw_txn_tick(x->t, 1, 0, 0), CXW_TXN_IDLE);
        cxw_txn_add_records(x->t, 1);
        assert_true(cxw_txn_due(x->t, 2));
        assert_int_equal(cxw_txn_tick(x->t, 2, 0, 0), CXW_TXN_COMMITTED);
        assert_int_equal(x->f.commits, 1);
}

static void blocked_commit_waits_and_a_forced_one_commits_at_once(void **state)
{
        fx_t *x = *state;

        assert_int_equal(cxw_txn_open(x->t, 0), 0);
        cxw_txn_add_records(x->t, 20);
        /* Records still to be queued: a commit now would leave them out. */
        assert_int_equal(cxw_txn_tick(x->t, 500, 0, 1), CXW_TXN_IDLE);
        assert_int_equal(x->f.commits, 0);
        /* A revoke forces it, not due yet by time or size. */
        assert_int_equal(cxw_txn_open(x->t, 600), 0);
        assert_int_equal(cxw_txn_tick(x->t, 501, 1, 0), CXW_TXN_COMMITTED);
        assert_int_equal(x->f.commits, 1);
        assert_int_equal(x->f.aborts, 0);
}

static void revoke_while_blocked_aborts_so_the_next_owner_redoes(void **state)
{
        fx_t *x = *state;

        assert_int_equal(cxw_txn_open(x->t, 0), 0);
        cxw_txn_add_records(x->t, 2);
        cxw_txn_set_offset(x->t, T, 1, 40);
        assert_int_equal(cxw_txn_tick(x->t, 1, 1, 1), CXW_TXN_ABORTED);
        assert_int_equal(x->f.commits, 0);
        assert_int_equal(x->f.aborts, 1);
        assert_int_equal(cxw_txn_aborted(x->t), 1);
        assert_false(cxw_txn_is_open(x->t));
        /* The aborted offsets are gone: the next commit does not carry them. */
        assert_int_equal(cxw_txn_open(x->t, 10), 0);
        assert_int_equal(cxw_txn_tick(x->t, 10, 1, 0), CXW_TXN_COMMITTED);
        assert_int_equal(x->f.noffs, 0);
}

static void abortable_commit_aborts_and_asks_for_a_rewind(void **state)
{
        fx_t *x = *state;

        x->f.commit_ans[0] = CXW_TXN_STEP_ABORT;
        x->f.ncommit_ans = 1;
        assert_int_equal(cxw_txn_open(x->t, 0), 0);
        cxw_txn_add_records(x->t, 3);
        cxw_txn_set_offset(x->t, T, 0, 3);
        assert_int_equal(cxw_txn_tick(x->t, 100, 0, 0), CXW_TXN_ABORTED);
        assert_int_equal(x->f.aborts, 1);
        assert_int_equal(cxw_txn_committed(x->t), 0);
        /* The redo goes into a new transaction. */
        assert_int_equal(cxw_txn_open(x->t, 200), 0);
        cxw_txn_add_records(x->t, 3);
        cxw_txn_set_offset(x->t, T, 0, 3);
        assert_int_equal(cxw_txn_tick(x->t, 300, 0, 0), CXW_TXN_COMMITTED);
        assert_int_equal(offset_of(&x->f, 0), 3);
        assert_int_equal(x->f.begins, 2);
}

static void failed_record_aborts_at_the_next_tick_without_committing(void **state)
{
        fx_t *x = *state;

        cxw_txn_fail(x->t); /* none open: nothing to abort */
        assert_int_equal(cxw_txn_tick(x->t, 0, 0, 0), CXW_TXN_IDLE);
        assert_int_equal(cxw_txn_open(x->t, 0), 0);
        cxw_txn_add_records(x->t, 1);
        cxw_txn_fail(x->t);
        assert_true(cxw_txn_due(x->t, 1)); /* before its interval: to abort */
        /* No new records go in until it is aborted. */
        assert_int_equal(cxw_txn_open(x->t, 1), -1);
        assert_int_equal(cxw_txn_tick(x->t, 1, 0, 0), CXW_TXN_ABORTED);
        assert_int_equal(x->f.commits, 0);
        assert_int_equal(cxw_txn_open(x->t, 2), 0);
}

static void retriable_commit_is_tried_again_unless_forced(void **state)
{
        fx_t *x = *state;

        x->f.commit_ans[0] = CXW_TXN_STEP_RETRY;
        x->f.commit_ans[1] = CXW_TXN_STEP_RETRY;
        x->f.ncommit_ans = 2;
        assert_int_equal(cxw_txn_open(x->t, 0), 0);
        cxw_txn_add_records(x->t, 1);
        assert_int_equal(cxw_txn_tick(x->t, 100, 0, 0), CXW_TXN_IDLE);
        assert_true(cxw_txn_is_open(x->t));
        assert_int_equal(cxw_txn_tick(x->t, 101, 0, 0), CXW_TXN_IDLE);
        assert_int_equal(cxw_txn_tick(x->t, 102, 0, 0), CXW_TXN_COMMITTED);
        assert_int_equal(x->f.commits, 3);
        /* Forced (a revoke): no later to wait for, so it aborts. */
        x->f.commit_ans[0] = CXW_TXN_STEP_RETRY;
        x->f.ncommit_ans = 1;
        assert_int_equal(cxw_txn_open(x->t, 200), 0);
        assert_int_equal(cxw_txn_tick(x->t, 201, 1, 0), CXW_TXN_ABORTED);
}

static void fenced_producer_is_fatal_and_nothing_follows(void **state)
{
        fx_t *x = *state;

        x->f.commit_ans[0] = CXW_TXN_STEP_FATAL;
        x->f.ncommit_ans = 1;
        assert_int_equal(cxw_txn_open(x->t, 0), 0);
        cxw_txn_add_records(x->t, 1);
        assert_int_equal(cxw_txn_tick(x->t, 100, 0, 0), CXW_TXN_FATAL);
        assert_true(cxw_txn_is_fatal(x->t));
        assert_int_equal(cxw_txn_open(x->t, 200), -1);
        assert_int_equal(cxw_txn_tick(x->t, 300, 1, 0), CXW_TXN_FATAL);
        assert_int_equal(x->f.begins, 1);
        assert_int_equal(x->f.commits, 1);
        assert_int_equal(x->f.aborts, 0);
}

static void fatal_begin_and_failed_abort_are_fatal(void **state)
{
        fx_t *x = *state;

        x->f.begin_ans = CXW_TXN_STEP_RETRY;
        assert_int_equal(cxw_txn_open(x->t, 0), -1);
        assert_false(cxw_txn_is_fatal(x->t));
        x->f.begin_ans = CXW_TXN_STEP_OK;
        assert_int_equal(cxw_txn_open(x->t, 0), 0);
        x->f.abort_ans = CXW_TXN_STEP_RETRY;
        cxw_txn_fail(x->t);
        assert_int_equal(cxw_txn_tick(x->t, 1, 0, 0), CXW_TXN_IDLE);  /* again later */
        assert_int_equal(cxw_txn_tick(x->t, 2, 1, 0), CXW_TXN_FATAL); /* forced */
        assert_int_equal(x->f.aborts, 2);
        assert_true(cxw_txn_is_fatal(x->t));
}

static void forget_drops_a_revoked_partitions_offset(void **state)
{
        fx_t *x = *state;

        assert_int_equal(cxw_txn_open(x->t, 0), 0);
        for (int32_t p = 0; p < 5; p++)
                cxw_txn_set_offset(x->t, T, p, 10 + p);
        cxw_txn_forget(x->t, T, 1);
        cxw_txn_forget(x->t, T, 9); /* unknown: nothing */
        assert_int_equal(cxw_txn_tick(x->t, 0, 1, 0), CXW_TXN_COMMITTED);
        assert_int_equal(x->f.noffs, 4);
        assert_int_equal(offset_of(&x->f, 1), -1);
        assert_int_equal(offset_of(&x->f, 4), 14);
}

static void bad_conf_is_refused(void **state)
{
        cxw_txn_conf_t conf = {0, 10};
        cxw_txn_producer_t prod = {f_begin, f_commit, f_abort, NULL, NULL};

        (void)state;
        assert_null(cxw_txn_new(&conf, &prod));
        conf.interval_ms = 100;
        conf.max_records = 0;
        assert_null(cxw_txn_new(&conf, &prod));
        conf.max_records = 1;
        prod.abort = NULL;
        assert_null(cxw_txn_new(&conf, &prod));
        cxw_txn_destroy(NULL);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test_setup_teardown(
                commits_once_open_for_the_interval_with_its_offsets, setup, teardown),
            cmocka_unit_test_setup_teardown(a_due_commit_drains_its_records_first, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(a_forced_commit_does_not_drain, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(a_failed_record_aborts_a_draining_transaction,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(commits_at_max_records_before_the_interval,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(
                blocked_commit_waits_and_a_forced_one_commits_at_once, setup, teardown),
            cmocka_unit_test_setup_teardown(
                revoke_while_blocked_aborts_so_the_next_owner_redoes, setup, teardown),
            cmocka_unit_test_setup_teardown(abortable_commit_aborts_and_asks_for_a_rewind,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(
                failed_record_aborts_at_the_next_tick_without_committing, setup,
                teardown),
            cmocka_unit_test_setup_teardown(retriable_commit_is_tried_again_unless_forced,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(fenced_producer_is_fatal_and_nothing_follows,
                                            setup, teardown),
            cmocka_unit_test_setup_teardown(fatal_begin_and_failed_abort_are_fatal, setup,
                                            teardown),
            cmocka_unit_test_setup_teardown(forget_drops_a_revoked_partitions_offset,
                                            setup, teardown),
            cmocka_unit_test(bad_conf_is_refused),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
