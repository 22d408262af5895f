/* schedules_int.h: what the parts of the schedules module share, private
 * to src/lib/requests/schedules*.c:
 *   schedules.c           decoding an import: the limits, the message as a
 *                         whole, the capacity, the problems joined, the call
 *   schedules_validate.c  the checks of the message's members: the top
 *                         object, each entry with its breaks and overrides,
 *                         overlapping shifts
 *   schedules_time.c      date-times and the available time of an entry
 *   schedules_job.c       the async job's id and answer */
#ifndef CXONE_REQUESTS_SCHEDULES_INT_H
#define CXONE_REQUESTS_SCHEDULES_INT_H

#include "cxone/requests/schedules.h"

#include <jansson.h>
#include <stddef.h>
#include <stdint.h>

#define MS_PER_MIN ((int64_t)60000)
#define NELEM(a)   (sizeof(a) / sizeof((a)[0]))

/* One entry as the cross-entry checks (overlaps, capacity) see it. */
struct entry {
        const char *agent; /* into the parsed message; NULL when invalid */
        int64_t start, end;
        int timed;        /* start and end valid, end after start */
        int countable;    /* timed, and breaks and overrides all valid */
        int64_t avail_ms; /* when countable */
};

/* ---- schedules_validate.c ---------------------------------------------- */

/* Records a problem: kept while there is room, always counted. */
void sched_problem(cxw_schedule_problems_t *p, long entry, long other, const char *fmt,
                   ...) __attribute__((format(printf, 4, 5)));
/* The top object's members but scheduleEntries: targetCalendarId,
 * validationMode and conflictResolution (their indexes into vmodes and cres
 * in *mode and *resolution, -1 when invalid) and requiredCapacityMinutes
 * (in *required; unchanged when absent or invalid). */
void sched_check_top(cxw_schedule_problems_t *p, const json_t *root,
                     const char *const *vmodes, size_t nvmodes, const char *const *cres,
                     size_t ncres, int *mode, int *resolution, int64_t *required);
/* Validates scheduleEntries[idx] into *e. @returns 0, or -1 out of memory. */
int sched_check_entry(cxw_schedule_problems_t *p, const cxw_schedule_limits_t *lim,
                      long idx, const json_t *obj, struct entry *e);
/* Every pair of overlapping shifts of one agent, and the number of agents.
 * @returns 0, or -1 out of memory. */
int sched_check_overlaps(cxw_schedule_problems_t *p, const struct entry *ents, size_t n,
                         size_t *nagents);

#endif
