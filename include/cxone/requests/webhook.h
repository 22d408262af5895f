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

#endif
