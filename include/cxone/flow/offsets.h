/**
 * @file offsets.h
 * @brief Per-partition completion tracking: requests finish out of order,
 *        but only the contiguous prefix of finished offsets may be committed.
 *
 * Offsets of one partition are added in increasing order (gaps allowed, as
 * compaction and transaction markers leave them). cxw_offsets_done() marks
 * one finished and answers the offset to commit (last contiguous finished
 * offset + 1, Kafka's convention) when it advanced.
 */
#ifndef CXONE_OFFSETS_H
#define CXONE_OFFSETS_H

#include <stddef.h>
#include <stdint.h>

typedef struct cxw_offsets_s cxw_offsets_t;

/** @brief A new, empty tracker. @remark free with cxw_offsets_destroy(). */
cxw_offsets_t *cxw_offsets_new(void);

/** @brief NULL-safe. */
void cxw_offsets_destroy(cxw_offsets_t *o);

/**
 * @brief Registers offset as in progress on topic/partition.
 * @returns 0, or -1 if offset is not greater than the last added of that
 *          partition (the caller's bug or a redelivery after a seek: the
 *          caller must drop the partition first).
 */
int cxw_offsets_add(cxw_offsets_t *o, const char *topic, int32_t partition,
                    int64_t offset);

/**
 * @brief Marks offset finished.
 * @returns the new commit offset (next offset to consume) if the contiguous
 *          prefix advanced, else -1 (also for an unknown offset/partition).
 */
int64_t cxw_offsets_done(cxw_offsets_t *o, const char *topic, int32_t partition,
                         int64_t offset);

/** @brief Offsets added and not yet finished on topic/partition (0 if unknown). */
size_t cxw_offsets_pending(const cxw_offsets_t *o, const char *topic, int32_t partition);

/** @brief Offsets added and not yet finished, all partitions. */
size_t cxw_offsets_pending_total(const cxw_offsets_t *o);

/**
 * @brief Forgets a partition (on revoke): later done() calls for it return -1.
 */
void cxw_offsets_drop(cxw_offsets_t *o, const char *topic, int32_t partition);

#endif
