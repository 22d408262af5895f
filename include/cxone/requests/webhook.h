/**
 * @file webhook.h
 * @brief Verifying CXone's webhooks: an HMAC-SHA256 signature over the body
 *        with a shared secret, and a timestamp window against replays.
 *
 * Scheme (the one cxone-sim signs with; docs/cxone-sim.md):
 *   X-CXone-Timestamp: <unix seconds>
 *   X-CXone-Signature: sha256=<lowercase hex of HMAC-SHA256(secret,
 * "<timestamp>.<body>")> The timestamp is inside the signed text, so it cannot be changed
 * without breaking the signature, and a captured request stops being accepted once it is
 * older than the tolerance.
 *
 * A verified body is read by cxw_webhook_body_parse().
 */
#ifndef CXONE_WEBHOOK_H
#define CXONE_WEBHOOK_H

#include <stddef.h>
#include <stdint.h>

typedef enum {
        CXW_WEBHOOK_OK = 0,
        CXW_WEBHOOK_MISSING,   /**< a header is absent or the secret is empty */
        CXW_WEBHOOK_MALFORMED, /**< a header is not of the expected form */
        CXW_WEBHOOK_EXPIRED,   /**< the timestamp is outside the tolerance */
        CXW_WEBHOOK_BAD_SIGNATURE,
} cxw_webhook_result_t;

/** @brief "ok", "missing signature", ... for answers and logs. */
const char *cxw_webhook_result_str(cxw_webhook_result_t r);

/**
 * @brief Checks a webhook's signature and timestamp. The comparison takes
 *        the same time whatever the signature (CRYPTO_memcmp).
 * @param timestamp, signature the header values, or NULL when absent.
 * @param now_s wall clock, Unix seconds.
 * @param tolerance_s largest accepted |now - timestamp|.
 */
cxw_webhook_result_t cxw_webhook_verify(const char *secret, const char *timestamp,
                                        const char *signature, const void *body,
                                        size_t len, int64_t now_s, int64_t tolerance_s);

/**
 * @brief The signature header value for body at timestamp ("sha256=<hex>"),
 *        as a sender computes it; for tests and tools.
 * @returns 0, or -1 if out is smaller than 72 bytes.
 */
int cxw_webhook_sign(const char *secret, int64_t timestamp, const void *body, size_t len,
                     char *out, size_t out_size);

/** @brief What a verified webhook body is (cxw_webhook_body_parse()). */
typedef enum {
        CXW_WEBHOOK_BODY_JOB = 0,  /**< a schedule import's job status */
        CXW_WEBHOOK_BODY_IGNORED,  /**< another eventType: answered, not used */
        CXW_WEBHOOK_BODY_MALFORMED /**< not the documented shape: refused (400) */
} cxw_webhook_body_kind_t;

/** @brief The job and status of a webhook body. */
typedef struct cxw_webhook_body_s {
        char job_id[128]; /**< a valid jobId (cxw_schedule_job_id_ok()) */
        /** The status, 0-15 bytes, bytes outside printable ASCII as '?'. */
        char status[16];
        /** 1 if the status is exactly COMPLETED or FAILED: the job ended. */
        int ended;
} cxw_webhook_body_t;

/**
 * @brief Reads a webhook body, {"eventType": "WFM_SCHEDULE_IMPORT_COMPLETED",
 *        "jobId", "status"}, once its signature is verified (the sender
 *        knows the secret, but the text is still checked and bounded).
 *
 * A JSON object (duplicate keys refused) with "jobId" a valid job id and
 * "status" a string of at most 15 bytes, else MALFORMED. Then an
 * "eventType" string other than WFM_SCHEDULE_IMPORT_COMPLETED is IGNORED;
 * without one (or not a string) it is a JOB event.
 *
 * @param body len bytes (not NUL-terminated); NULL with len 0.
 * @param out always filled (zeroed first); job_id and status only for
 *        JOB and IGNORED.
 * @remark Pure: no I/O, no globals; any thread.
 */
cxw_webhook_body_kind_t cxw_webhook_body_parse(const void *body, size_t len,
                                               cxw_webhook_body_t *out);

#endif
