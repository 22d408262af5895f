/* memcost.c: the memory a buffered request really costs (see memcost.h). */
#include "cxone/base/memcost.h"

#include <string.h>

/* librdkafka 2.0.2 (rdkafka_header.h, rdlist.h): rd_kafka_headers_t is an
 * rd_list_t (40 bytes) and a size (8); each header is one allocation of a
 * 40-byte struct, the name, a NUL, the value and a NUL. The list's pointer
 * array is sized for the count, at least what headers_new() asked for (the
 * copy asks for the count). */
#define RDK_HEADERS_STRUCT 48
#define RDK_HEADER_STRUCT  40

size_t cxw_memcost_chunk(size_t n)
{
        size_t c = (n + 8 + 15) & ~(size_t)15;

        return c < 32 ? 32 : c;
}

size_t cxw_memcost_headers(const rd_kafka_headers_t *h)
{
        size_t cnt, cost;

        if (!h)
                return 0;
        cnt = rd_kafka_header_cnt(h);
        cost = cxw_memcost_chunk(RDK_HEADERS_STRUCT) +
               cxw_memcost_chunk((cnt ? cnt : 1) * sizeof(void *));
        for (size_t i = 0; i < cnt; i++) {
                const char *name = NULL;
                const void *value = NULL;
                size_t size = 0;
                if (rd_kafka_header_get_all(h, i, &name, &value, &size))
                        break;
                cost +=
                    cxw_memcost_chunk(RDK_HEADER_STRUCT + strlen(name) + 1 + size + 1);
        }
        return cost;
}

size_t cxw_memcost_produced(size_t keylen, size_t len, const rd_kafka_headers_t *h)
{
        return CXW_MEMCOST_PRODUCED_MSG + cxw_memcost_chunk(keylen + len) +
               cxw_memcost_headers(h);
}
