/* fuzz_webhook.c: a webhook's X-CXone-Timestamp and X-CXone-Signature
 * headers and body through cxw_webhook_verify(). Input: timestamp, NUL,
 * signature, NUL, body (a header missing when its part is).
 *
 * Beyond not crashing: the headers as given are accepted only with the
 * signature cxw_webhook_sign() computes for them; the body signed at a
 * timestamp inside the tolerance is accepted, one changed hex digit of its
 * signature or one changed body byte is refused as a bad signature, and a
 * timestamp one second past the tolerance is refused as expired. */
#include "fuzz_common.h"

#include "cxone/requests/webhook.h"

#include <inttypes.h>

#define SECRET    "whsec-fuzz-1f0c"
#define NOW_S     ((int64_t)1795000000)
#define TOLERANCE ((int64_t)300)

static void check_signed(const uint8_t *body, size_t len, int64_t offset)
{
        char sig[80], ts[24];
        int64_t at = NOW_S + offset % (TOLERANCE + 1);

        snprintf(ts, sizeof(ts), "%" PRId64, at);
        FUZZ_CHECK(cxw_webhook_sign(SECRET, at, body, len, sig, sizeof(sig)) == 0);
        FUZZ_CHECK(cxw_webhook_verify(SECRET, ts, sig, body, len, NOW_S, TOLERANCE) ==
                   CXW_WEBHOOK_OK);
        /* another secret */
        FUZZ_CHECK(cxw_webhook_verify("whsec-other", ts, sig, body, len, NOW_S,
                                      TOLERANCE) == CXW_WEBHOOK_BAD_SIGNATURE);
        /* one hex digit changed (upper case hex is the same digit) */
        size_t i = 7 + (len ? body[0] : 0) % 64;
        sig[i] = sig[i] == '0' ? '1' : '0';
        FUZZ_CHECK(cxw_webhook_verify(SECRET, ts, sig, body, len, NOW_S, TOLERANCE) ==
                   CXW_WEBHOOK_BAD_SIGNATURE);
        sig[i] = sig[i] == '0' ? '1' : '0';
        if (len > 0) {
                uint8_t *copy = malloc(len);
                FUZZ_CHECK(copy);
                memcpy(copy, body, len);
                copy[len - 1] ^= 0x01;
                FUZZ_CHECK(cxw_webhook_verify(SECRET, ts, sig, copy, len, NOW_S,
                                              TOLERANCE) == CXW_WEBHOOK_BAD_SIGNATURE);
                free(copy);
        }
        /* past the tolerance */
        at = NOW_S - TOLERANCE - 1;
        snprintf(ts, sizeof(ts), "%" PRId64, at);
        FUZZ_CHECK(cxw_webhook_sign(SECRET, at, body, len, sig, sizeof(sig)) == 0);
        FUZZ_CHECK(cxw_webhook_verify(SECRET, ts, sig, body, len, NOW_S, TOLERANCE) ==
                   CXW_WEBHOOK_EXPIRED);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        const uint8_t *rest, *body;
        size_t tslen, siglen, restlen, bodylen;
        int has_sig = 0, has_body = 0;
        char *ts, *sig = NULL;
        cxw_webhook_result_t r;

        has_sig = fuzz_split(data, size, 0, &tslen, &rest, &restlen);
        ts = fuzz_strndup(data, tslen);
        body = rest;
        bodylen = 0;
        if (has_sig) {
                has_body = fuzz_split(rest, restlen, 0, &siglen, &body, &bodylen);
                sig = fuzz_strndup(rest, siglen);
        }
        (void)has_body;

        r = cxw_webhook_verify(SECRET, ts, sig, body, bodylen, NOW_S, TOLERANCE);
        FUZZ_CHECK(r >= CXW_WEBHOOK_OK && r <= CXW_WEBHOOK_BAD_SIGNATURE);
        FUZZ_CHECK(cxw_webhook_result_str(r) && cxw_webhook_result_str(r)[0]);
        if (!sig)
                FUZZ_CHECK(r == CXW_WEBHOOK_MISSING);
        if (r == CXW_WEBHOOK_OK) {
                /* only the signature of exactly that text, in lower or upper hex */
                char want[80];
                int64_t at = strtoll(ts, NULL, 10);
                char canon[24];
                snprintf(canon, sizeof(canon), "%" PRId64, at);
                if (strcmp(canon, ts) == 0) {
                        FUZZ_CHECK(cxw_webhook_sign(SECRET, at, body, bodylen, want,
                                                    sizeof(want)) == 0);
                        FUZZ_CHECK(strcasecmp(want, sig) == 0);
                }
                FUZZ_CHECK(at >= NOW_S - TOLERANCE && at <= NOW_S + TOLERANCE);
        }
        /* no secret: refused whatever the rest */
        FUZZ_CHECK(cxw_webhook_verify("", ts, sig, body, bodylen, NOW_S, TOLERANCE) ==
                   CXW_WEBHOOK_MISSING);

        check_signed(body, bodylen, tslen);
        free(ts);
        free(sig);
        return 0;
}
