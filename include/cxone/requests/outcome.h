/**
 * @file outcome.h
 * @brief The records the worker publishes: the outcome of every request
 *        (results topic), audit events, and the headers of DLQ copies.
 *        Formats are the contract of docs/messages.md.
 *
 * Nothing here ever carries a field value of a contact, a token or a secret
 * except the outcome's error text, which comes from validation or from
 * CXone's answer (truncated) and never from our credentials.
 */
#ifndef CXONE_OUTCOME_H
#define CXONE_OUTCOME_H

#include <stddef.h>
#include <stdint.h>

#include <librdkafka/rdkafka.h>

typedef enum {
        CXW_OUTCOME_SUCCEEDED = 0,
        CXW_OUTCOME_REJECTED, /**< invalid, or a non-retryable 4xx from CXone */
        CXW_OUTCOME_FAILED,   /**< retryable trouble outlasted the retry budget */
} cxw_outcome_status_t;

typedef struct cxw_outcome_s {
        const char *type; /**< "contact-update" | "schedule-import" */
        cxw_outcome_status_t status;
        const char *contact_id; /**< or NULL (left out); set for a rejected
                                     request too when its id could be read */
        const char *job_id;     /**< or NULL (left out) */
        long http_status;       /**< 0 = no call made (null) */
        int attempts;
        const char *error;          /**< NULL on success (null) */
        const char *batch_id;       /**< or NULL (null) */
        const char *correlation_id; /**< or NULL (null) */
        const char *topic;          /**< source */
        int32_t partition;
        int64_t offset;
        int64_t latency_ms;     /**< consumed → outcome */
        const char *job_status; /**< schedule imports: the job's last status, or NULL */
        int has_timings;        /**< schedule imports: write the three below */
        int64_t validation_ms, request_ms, polling_ms;
        int64_t finished_wall_ms;
        const char *finished_at; /**< finished_wall_ms as RFC 3339 when the caller
                                      formatted it once for all records, or NULL */
} cxw_outcome_t;

/** @brief "succeeded", "rejected", "failed". */
const char *cxw_outcome_status_str(cxw_outcome_status_t s);

/** @brief The outcome record's value (compact JSON). @returns malloc'd, or NULL on OOM.
 */
char *cxw_outcome_json(const cxw_outcome_t *o);

/**
 * @brief An audit event: {"at","action","worker","contactId"?,"fields"?,
 *        "jobId"?,"entries"?,"source"}. fields are names only.
 * @param entries < 0 to leave out.
 * @returns malloc'd, or NULL on OOM.
 */
char *cxw_audit_json(const char *action, const char *worker, const cxw_outcome_t *o,
                     const char *const *fields, size_t nfields, int entries);

/**
 * @brief Headers for the outcome record: batch-id and correlation-id when
 *        the request had them. @returns a new list (possibly empty).
 */
rd_kafka_headers_t *cxw_outcome_headers(const cxw_outcome_t *o);

/**
 * @brief Headers for the DLQ copy: the original headers (may be NULL) plus
 *        dlq-reason, dlq-contact-id (when o->contact_id is set), dlq-status,
 *        dlq-http-status, dlq-source-topic, dlq-source-partition,
 *        dlq-source-offset, dlq-attempts, dlq-worker, dlq-at (and
 *        dlq-truncated from cxw_dlq_fit()). @returns a new list.
 */
rd_kafka_headers_t *cxw_dlq_headers(const rd_kafka_headers_t *orig,
                                    const cxw_outcome_t *o, const char *worker);

/** Bytes a record may need beyond its key, value and headers (librdkafka's
 *  per-record overhead, at most 36 in format v2, with room to spare). */
#define CXW_RECORD_OVERHEAD 128

/**
 * @brief What a record of key, value and headers of these sizes counts
 *        against the producer's message.max.bytes, rounded up: keylen +
 *        len + each header's name and value with their length varints +
 *        CXW_RECORD_OVERHEAD.
 * @param hdrs may be NULL.
 */
size_t cxw_record_size(size_t keylen, size_t len, const rd_kafka_headers_t *hdrs);

/**
 * @brief Fits a DLQ copy into max_bytes (the producer's message.max.bytes).
 *        When the copy's value is not the whole original (len <
 *        orig_len: the worker kept none of an oversized message) or key,
 *        value and hdrs would not fit, adds to hdrs the header
 *        dlq-truncated (the original value's size in bytes, orig_len) and
 *        keeps only as many of the value's first bytes as fit.
 * @param hdrs the copy's headers (cxw_dlq_headers()); may gain dlq-truncated.
 * @param len the value's bytes at hand; orig_len the original's (>= len).
 * @returns the length of the value to produce (len when it fits whole, else
 *          less, possibly 0); -1 when not even the key and the headers fit
 *          (hdrs is then unchanged).
 */
long long cxw_dlq_fit(rd_kafka_headers_t *hdrs, size_t keylen, size_t len,
                      size_t orig_len, size_t max_bytes);

#endif
