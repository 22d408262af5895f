/**
 * @file memcost.h
 * @brief What a buffered request costs in memory, for
 *        limits.max_buffered_bytes: every allocation it owns, counted as
 *        the heap chunk the allocator gives it, not just the bytes asked for.
 *
 * The heap figure follows glibc's malloc on 64-bit Linux: a chunk is the
 * request plus an 8-byte header, rounded up to 16, at least 32 bytes.
 * Objects that live inside librdkafka (a copy of a message's headers, a
 * record waiting in the producer's queue) are estimated from their layout
 * in librdkafka 2.0.2, rounded up.
 *
 * @locality any thread; pure functions.
 */
#ifndef CXONE_MEMCOST_H
#define CXONE_MEMCOST_H

#include <stddef.h>

#include <librdkafka/rdkafka.h>

/** Heap cost of one record in librdkafka's producer queue, beyond its key,
 *  value and headers (rd_kafka_msg_t and its share of the queue). */
#define CXW_MEMCOST_PRODUCED_MSG 256

/** Heap cost of one item waiting in the dispatcher (dispatch.c: a node
 *  and, per key, an entry holding the key), beyond the key's own length,
 *  and of its slot in the offset tracker (offsets.c: a 16-byte entry in a
 *  ring that doubles, so up to 32 bytes an item). */
#define CXW_MEMCOST_DISPATCH_ITEM (32 + 96 + 32)

/** @brief The heap chunk malloc(n) takes: max(32, round16(n + 8)). */
size_t cxw_memcost_chunk(size_t n);

/**
 * @brief What rd_kafka_headers_copy(h) allocates: the list (struct and
 *        pointer array) and one block per header (name and value inline).
 * @returns 0 for NULL.
 */
size_t cxw_memcost_headers(const rd_kafka_headers_t *h);

/** @brief A record in the producer's queue until it is acknowledged (copied
 *         key and value, headers). */
size_t cxw_memcost_produced(size_t keylen, size_t len, const rd_kafka_headers_t *h);

#endif
