/* test_memcost.c: what limits.max_buffered_bytes counts matches what the
 * heap really gives (glibc: malloc_usable_size, mallinfo2). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/requests/contacts.h"
#include "cxone/base/memcost.h"

#include <malloc.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define N 2000 /* objects kept alive at once per measurement */

/* Under ASan (tests/run.sh's second pass) malloc is the sanitizer's, with
 * its own chunk sizes and no glibc arena to read: the heap comparisons have
 * nothing to compare with there. */
#if defined(__SANITIZE_ADDRESS__)
#define NEED_GLIBC_HEAP() skip()
#else
#define NEED_GLIBC_HEAP() ((void)0)
#endif

/* Bytes in use on the heap (main arena: this test has one thread). */
static size_t heap_in_use(void)
{
        return mallinfo2().uordblks;
}

static void chunk_is_what_malloc_takes(void **state)
{
        NEED_GLIBC_HEAP();
        (void)state;
        for (size_t n = 0; n <= 70000; n += n < 1100 ? 1 : 997) {
                void *p = malloc(n);
                assert_non_null(p);
                /* a chunk is the usable size plus its 8-byte header */
                if (cxw_memcost_chunk(n) != malloc_usable_size(p) + 8)
                        fail_msg("malloc(%zu): counted %zu, heap chunk %zu", n,
                                 cxw_memcost_chunk(n), malloc_usable_size(p) + 8);
                free(p);
        }
}

static void headers_copy_cost_covers_librdkafka(void **state)
{
        NEED_GLIBC_HEAP();
        rd_kafka_headers_t *orig = rd_kafka_headers_new(2);
        rd_kafka_headers_t **copies = calloc(N, sizeof(*copies));
        size_t before, real, counted;
        (void)state;

        assert_null(cxw_memcost_headers(NULL) ? "not 0" : NULL);
        rd_kafka_header_add(orig, "batch-id", -1, "import-2026-11-21-001", -1);
        rd_kafka_header_add(orig, "correlation-id", -1, "0f8fad5b-d9cb-469f-a165", -1);
        rd_kafka_header_add(orig, "idempotency-key", -1, "k", -1);
        counted = cxw_memcost_headers(orig);

        before = heap_in_use();
        for (int i = 0; i < N; i++)
                copies[i] = rd_kafka_headers_copy(orig);
        real = (heap_in_use() - before) / N;
        for (int i = 0; i < N; i++)
                rd_kafka_headers_destroy(copies[i]);
        free(copies);
        rd_kafka_headers_destroy(orig);

        /* never less than the heap holds, and not far above it */
        if (counted < real || counted > real + real / 4)
                fail_msg("headers copy: counted %zu, heap %zu", counted, real);
}

static void contact_update_bytes_are_what_decode_keeps(void **state)
{
        NEED_GLIBC_HEAP();
        static const char *const allowed[] = {"firstName", "lastName", "email"};
        cxw_contact_update_t *u = calloc(N, sizeof(*u));
        size_t before, real, counted = 0;
        char msg[256], err[256];
        (void)state;

        before = heap_in_use();
        for (int i = 0; i < N; i++) {
                int n =
                    snprintf(msg, sizeof(msg),
                             "{\"contactId\":\"c-%d\",\"firstName\":\"Ann%d\","
                             "\"lastName\":\"O'Neil\",\"email\":\"ann%d@example.com\"}",
                             i, i, i);
                assert_int_equal(cxw_contact_decode(msg, (size_t)n, NULL, 0, allowed, 3,
                                                    0, &u[i], err, sizeof(err)),
                                 0);
                counted += cxw_contact_update_bytes(&u[i]);
        }
        real = heap_in_use() - before;
        for (int i = 0; i < N; i++)
                cxw_contact_update_clear(&u[i]);
        assert_int_equal(cxw_contact_update_bytes(&u[0]), 0);
        free(u);

        /* jansson's temporaries are freed; a few may sit in glibc's
         * per-thread cache, which mallinfo2 counts as in use */
        if (counted < real - real / 20 || counted > real + real / 20)
                fail_msg("%d updates: counted %zu bytes, heap grew by %zu", N, counted,
                         real);
}

static void produced_record_counts_copy_and_headers(void **state)
{
        rd_kafka_headers_t *h = rd_kafka_headers_new(1);
        (void)state;

        rd_kafka_header_add(h, "batch-id", -1, "b", -1);
        assert_int_equal(cxw_memcost_produced(10, 300, NULL),
                         CXW_MEMCOST_PRODUCED_MSG + cxw_memcost_chunk(310));
        assert_int_equal(cxw_memcost_produced(10, 300, h), CXW_MEMCOST_PRODUCED_MSG +
                                                               cxw_memcost_chunk(310) +
                                                               cxw_memcost_headers(h));
        rd_kafka_headers_destroy(h);
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(chunk_is_what_malloc_takes),
            cmocka_unit_test(headers_copy_cost_covers_librdkafka),
            cmocka_unit_test(contact_update_bytes_are_what_decode_keeps),
            cmocka_unit_test(produced_record_counts_copy_and_headers),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
