/**
 * @file schedules.h
 * @brief Schedule-import requests: decode and validate a Kafka message,
 *        build the CXone call (the POST body and the idempotency key).
 *
 * Message (docs/messages.md): value =
 * {"targetCalendarId", "validationMode", "conflictResolution",
 *  "requiredCapacityMinutes"?, "scheduleEntries": [{"agentId",
 *  "startDateTime", "endDateTime", "breaks": [{"startOffsetMinutes",
 *  "durationMinutes"}], "availabilityOverrides": [{"type", "reason",
 *  "start", "end"}]}]}.
 *
 * Validation is client-side and complete: every problem found is reported,
 * each naming where it is ("scheduleEntries[3] (agent a-17): breaks[1] ends
 * after the shift"). Indexes are 0-based, as JSON paths. The rules:
 *
 * - targetCalendarId and agentId: 1-128 of [A-Za-z0-9._-].
 * - validationMode and conflictResolution: both required, each one of its
 *   list of allowed values (cxw_schedule_limits_t: from the configuration,
 *   schedules.validation_modes and schedules.conflict_resolutions). The
 *   defaults are the seeds' API shape: validationMode STRICT or LENIENT;
 *   conflictResolution AUTO_RESOLVE (what the seed sends), OVERWRITE, SKIP or
 *   FAIL. Matched exactly (case included); the values are passed to CXone
 *   unchanged, the worker gives them no meaning of its own.
 * - Date-times (startDateTime, endDateTime, override start/end): RFC 3339
 *   "YYYY-MM-DDTHH:MM:SS[.frac](Z|+hh:mm|-hh:mm)", 'T'/'Z' in either case,
 *   any number of fraction digits (kept to the millisecond, truncated),
 *   seconds 00-59 (a leap second is rejected), years 0000-9999. Parsed by
 *   hand to milliseconds since the epoch; impossible dates (Feb 30, month
 *   13, hour 24) are rejected, and so is a missing offset.
 * - A shift ends strictly after it starts and lasts at most
 *   limits.max_shift_minutes.
 * - breaks (optional): startOffsetMinutes an integer >= 0, durationMinutes
 *   an integer > 0, offset + duration within the shift, no two breaks
 *   overlapping (touching is fine).
 * - availabilityOverrides (optional): type one of UNAVAILABLE, AVAILABLE,
 *   PARTIAL; reason (optional) a string of at most limits.max_reason_len
 *   bytes; start and end (optional: they default to the shift's start and
 *   end) valid date-times, end after start, inside the shift.
 * - No two shifts of one agent overlap (one starts before the other ends;
 *   end == start is touching, fine). Every overlapping pair is reported
 *   once, with both indexes, also when they are not neighbours in time.
 * - Capacity: the sum over entries of the minutes of the shift that are
 *   neither in a break nor in an UNAVAILABLE override, every window clipped
 *   to the shift and the windows merged first, so a minute is subtracted
 *   once even when UNAVAILABLE windows overlap each other or a break (the
 *   brief's "shift - breaks - UNAVAILABLE" with no double count). AVAILABLE
 *   and PARTIAL are not subtracted. Summed in milliseconds, floored to
 *   minutes at the end. When requiredCapacityMinutes (an integer >= 0) is
 *   given and the capacity is below it, the import is rejected naming both
 *   figures. The capacity is checked only when every entry's times, breaks
 *   and overrides are valid, since otherwise the figure means nothing.
 * - Optional members may also be null, read as absent (as in contacts).
 * - Unknown members are rejected, naming them, at every level: consistent
 *   with contact updates, and a misspelled optional member
 *   ("requiredCapacityMinute") must not silently drop a check.
 * - Bounds (cxw_schedule_limits_t): message bytes, entries per import,
 *   breaks and overrides per entry, reason length, shift length. Over a
 *   bound is rejected naming the limit; a message over max_bytes or with
 *   more entries than max_entries is rejected before anything else is
 *   looked at, so a huge import costs no per-entry work.
 */
#ifndef CXONE_SCHEDULES_H
#define CXONE_SCHEDULES_H

#include <stddef.h>
#include <stdint.h>

#define CXW_SCHED_ID_MAX       128  /**< targetCalendarId, agentId */
#define CXW_SCHED_PROBLEMS_MAX 50   /**< problems kept; the rest are counted */
#define CXW_SCHED_PROBLEM_SIZE 320  /**< bytes of one problem's text, with NUL */
#define CXW_SCHED_ERRSTR_SIZE  2048 /**< a good errstr size: fits an outcome */
#define CXW_SCHED_IDEMKEY_MAX  255  /**< longest idempotency-key header */
#define CXW_SCHED_IDEMKEY_SIZE 512  /**< a buffer that holds any derived key */
#define CXW_SCHED_ENUM_MAX     32   /**< longest validationMode, conflictResolution */

/** @brief The bounds of one import and the allowed values of its enumerated
 *         members; cxw_schedule_limits_default() fills them. */
typedef struct cxw_schedule_limits_s {
        size_t max_bytes;          /**< message bytes (1 MiB); 0: no limit */
        size_t max_entries;        /**< scheduleEntries per import (5,000) */
        size_t max_breaks;         /**< breaks per entry (16) */
        size_t max_overrides;      /**< availabilityOverrides per entry (16) */
        size_t max_reason_len;     /**< override reason bytes (256) */
        int64_t max_shift_minutes; /**< longest shift (16 h = 960) */
        /** validationMode values accepted (STRICT, LENIENT); the strings must
         *  outlive the decode call; NULL: the defaults. The import's copy of a
         *  value holds CXW_SCHED_ENUM_MAX bytes (the body is sent as is). */
        const char *const *validation_modes;
        size_t nvalidation_modes;
        /** conflictResolution values accepted (AUTO_RESOLVE, OVERWRITE, SKIP,
         *  FAIL); as validation_modes. */
        const char *const *conflict_resolutions;
        size_t nconflict_resolutions;
} cxw_schedule_limits_t;

/** @brief One validation problem. */
typedef struct cxw_schedule_problem_s {
        long entry; /**< scheduleEntries index, or -1 for the import itself */
        long other; /**< the second entry of an overlapping pair, else -1 */
        char text[CXW_SCHED_PROBLEM_SIZE]; /**< the message, with its place */
} cxw_schedule_problem_t;

/** @brief Every problem of a rejected import: the first 50 kept, all counted. */
typedef struct cxw_schedule_problems_s {
        cxw_schedule_problem_t items[CXW_SCHED_PROBLEMS_MAX];
        size_t n;     /**< items kept */
        size_t total; /**< problems found (>= n) */
} cxw_schedule_problems_t;

/** @brief A valid import. */
typedef struct cxw_schedule_import_s {
        char calendar_id[CXW_SCHED_ID_MAX + 1];
        char validation_mode[CXW_SCHED_ENUM_MAX + 1];
        char conflict_resolution[CXW_SCHED_ENUM_MAX + 1];
        size_t nentries;
        size_t nagents;                    /**< distinct agentIds */
        int64_t capacity_minutes;          /**< see the file comment */
        int64_t required_capacity_minutes; /**< -1 when absent */
        char *body;          /**< the POST body: the message, compact, key order kept;
                                malloc'd */
        size_t body_len;     /**< strlen(body) */
        int64_t validate_us; /**< time spent in decode, microseconds */
} cxw_schedule_import_t;

/** @brief A time window [start_ms, end_ms), milliseconds since the epoch. */
typedef struct cxw_schedule_window_s {
        int64_t start_ms;
        int64_t end_ms;
} cxw_schedule_window_t;

/** @brief Fills l with the defaults (1 MiB, 5000, 16, 16, 256, 960, the
 *         default value lists above, which are static). */
void cxw_schedule_limits_default(cxw_schedule_limits_t *l);

/**
 * @brief Decodes and validates one schedule import.
 *
 * @param value the message value, len bytes (not NUL-terminated).
 * @param limits the bounds, or NULL for the defaults.
 * @param out filled on success; clear with cxw_schedule_import_clear().
 *        Zeroed (nothing allocated) on failure.
 * @param problems if not NULL, receives every problem on failure (n = 0 on
 *        success).
 * @param errstr receives, on failure, the problems joined into one message
 *        for an outcome's error field: "N problems: a; b; ... and K more"
 *        (or the one problem alone), never longer than errstr_size - 1.
 *        CXW_SCHED_ERRSTR_SIZE is a good size.
 * @returns 0; -1 when rejected (the request is invalid), errstr set; -2 when
 *          out of memory (not the request's fault), errstr "out of memory".
 * @remark Pure: no I/O, no globals; any thread.
 */
int cxw_schedule_decode(const void *value, size_t len,
                        const cxw_schedule_limits_t *limits, cxw_schedule_import_t *out,
                        cxw_schedule_problems_t *problems, char *errstr,
                        size_t errstr_size);

/** @brief Frees what decode allocated; the struct may be reused. NULL-safe. */
void cxw_schedule_import_clear(cxw_schedule_import_t *imp);

/**
 * @brief Parses an RFC 3339 date-time with offset (see the file comment).
 *
 * @param s the text, len bytes (embedded NULs make it invalid).
 * @param ms receives the instant, milliseconds since the Unix epoch (UTC).
 * @param why if not NULL, receives on failure a short static reason
 *        ("day 30 does not exist in that month", "missing offset", ...).
 * @returns 0, or -1.
 */
int cxw_schedule_parse_time(const char *s, size_t len, int64_t *ms, const char **why);

/**
 * @brief The milliseconds of [start_ms, end_ms) not covered by any window,
 *        each window clipped to the shift, overlapping windows counted once.
 * @param w the windows; sorted in place by start. n may be 0.
 * @returns the available milliseconds, 0 if end_ms <= start_ms.
 * @remark O(n log n). This is the per-entry term of the capacity.
 */
int64_t cxw_schedule_available_ms(int64_t start_ms, int64_t end_ms,
                                  cxw_schedule_window_t *w, size_t n);

/**
 * @brief Derives the idempotency key of an import: the message header
 *        "idempotency-key" when present, else "<topic>/<partition>/<offset>".
 *
 * @param hdr the header value, hdrlen bytes, or NULL / 0 when absent.
 * @param out receives the key; CXW_SCHED_IDEMKEY_SIZE holds any.
 * @returns 0, or -1 with errstr set when the header is longer than
 *          CXW_SCHED_IDEMKEY_MAX or has a byte outside printable ASCII
 *          (0x21-0x7e; a key goes into an HTTP header, and falling back
 *          silently would change what is deduplicated), or out is too small.
 */
int cxw_schedule_idempotency_key(const void *hdr, size_t hdrlen, const char *topic,
                                 int32_t partition, int64_t offset, char *out,
                                 size_t outsize, char *errstr, size_t errstr_size);

/* ---- CXone's async job (the answer to a submission, its status polls) -- */

#define CXW_SCHED_JOB_ID_MAX      127 /**< longest jobId CXone may give */
#define CXW_SCHED_JOB_STATUS_SIZE 16  /**< a job status as kept, with NUL */
#define CXW_SCHED_JOB_DETAIL_MAX  256 /**< bytes of error text kept (then "...") */

/**
 * @brief 1 if s is a jobId the worker accepts: 1-127 of [A-Za-z0-9._-] (it
 *        goes into the poll URL and the outputs as is), else 0. NULL: 0.
 */
int cxw_schedule_job_id_ok(const char *s);

/** @brief What a job-status answer says (cxw_schedule_job_answer_parse()). */
typedef struct cxw_schedule_job_answer_s {
        /** 1 if "status" is a string (possibly empty), else 0 (absent, another
         *  type, or the body is not a JSON object). */
        int has_status;
        /** 1 if the status is exactly COMPLETED or FAILED (the fields' done
         *  and failed values): the job ended. */
        int ended;
        /** 1 if it ended well (the status is the done value). */
        int done;
        /** The status for outputs: bytes outside printable ASCII as '?'; at
         *  most 15 bytes, a longer one cut to 12 and "...". "" without one. */
        char status[CXW_SCHED_JOB_STATUS_SIZE];
        /** Only when ended: CXone's error text, "error": {"message": "..."} or
         *  "error": "...", printable as status, at most CXW_SCHED_JOB_DETAIL_MAX
         *  bytes and "..."; "" when there is none (or not a string). */
        char detail[CXW_SCHED_JOB_DETAIL_MAX + 4];
} cxw_schedule_job_answer_t;

/**
 * @brief Reads the answer to a job-status poll, {"jobId", "status",
 *        "error"?: {"message"} | "..."} (docs/cxone-sim.md): untrusted
 *        bytes from CXone, so every text kept is filtered to printable ASCII
 *        (they reach the outcome's error, the dlq-reason header, the logs
 *        and `cxonectl results`) and bounded.
 *
 * @param body the answer, len bytes (not NUL-terminated); NULL with len 0.
 * @param out always filled (zeroed first).
 * @returns 0 if the body is a JSON object, else -1 (out says no status).
 * @remark Pure: no I/O, no globals; any thread.
 */
int cxw_schedule_job_answer_parse(const void *body, size_t len,
                                  cxw_schedule_job_answer_t *out);

/** The names in CXone's job answers (cxone.schedules.*_field, *_value). */
typedef struct cxw_schedule_job_fields_s {
        const char *job_id; /**< the submission's answer: the job id, "jobId" */
        const char *status; /**< the poll's answer: the status, "status" */
        const char *done;   /**< the status of a job that ended well, "COMPLETED" */
        const char *failed; /**< the status of a job that failed, "FAILED" */
        const char *error;  /**< the error of an ended job, "error" */
} cxw_schedule_job_fields_t;

/**
 * @brief cxw_schedule_job_answer_parse() with the names of f (NULL: the
 *        defaults above, the seed's).
 */
int cxw_schedule_job_answer_parse_with(const void *body, size_t len,
                                       const cxw_schedule_job_fields_t *f,
                                       cxw_schedule_job_answer_t *out);

/**
 * @brief The job id of a submission's answer (member f->job_id, "jobId"
 *        with f NULL), if it is valid (cxw_schedule_job_id_ok()) and fits.
 * @returns out, or NULL.
 */
const char *cxw_schedule_job_id_get(const void *body, size_t len,
                                    const cxw_schedule_job_fields_t *f, char *out,
                                    size_t out_size);

#endif
