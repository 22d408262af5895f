/**
 * @file accepted.h
 * @brief The accepted answers of one endpoint class by the send time of
 *        their request, kept for the last few seconds, to count what the
 *        server accepted over a trip's window (trip.h).
 *
 * A ring of 1 ms slots: a slot holds the number of accepted answers to
 * requests sent in its ms and the fastest of their round trips. A slot is
 * reused CXW_ACCEPTED_SLOTS ms later. A pure data structure with the clock
 * passed in (monotonic ms, >= 0); the struct is embedded by its owner.
 * @locality the owner's thread (the loop thread).
 */
#ifndef CXONE_ACCEPTED_H
#define CXONE_ACCEPTED_H

#include <stdint.h>

/** ms covered by the ring: a window and the answers of a pause must fit. */
#define CXW_ACCEPTED_SLOTS   8192
#define CXW_ACCEPTED_SLOT_MS 1

typedef struct cxw_accepted_s {
        int64_t slot[CXW_ACCEPTED_SLOTS]; /**< the slot number held */
        uint32_t cnt[CXW_ACCEPTED_SLOTS]; /**< accepted answers sent in it */
        uint32_t rtt[CXW_ACCEPTED_SLOTS]; /**< the fastest of their round trips, ms */
} cxw_accepted_t;

/** @brief Empties the ring (a zeroed ring is empty too). */
void cxw_accepted_init(cxw_accepted_t *a);

/**
 * @brief Counts an accepted answer, at now_ms, to a request sent at
 *        sent_ms. A negative sent_ms (not known) is not counted.
 */
void cxw_accepted_add(cxw_accepted_t *a, int64_t sent_ms, int64_t now_ms);

/**
 * @brief Counts the accepted answers to requests sent in [from_ms, to_ms]
 *        (both ms included; to_ms - from_ms below the ring's span).
 * @param first_ms receives when the server saw the earliest of them: its
 *        send time, later by as much as its round trip was longer than the
 *        fastest one counted (a new connection waits to be accepted), at
 *        most a quarter of the time from it to to_ms; -1 if none.
 * @returns the number counted.
 */
long cxw_accepted_count(const cxw_accepted_t *a, int64_t from_ms, int64_t to_ms,
                        int64_t *first_ms);

#endif
