/* webhook.c: HMAC-SHA256 signatures and timestamp window of CXone webhooks,
 * and reading a verified body. */
#include "cxone/requests/webhook.h"
#include "cxone/base/util.h"
#include "cxone/requests/schedules.h"

#include <jansson.h>

#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const char *const results[] = {"ok", "missing signature", "malformed signature",
                                      "timestamp outside the accepted window",
                                      "bad signature"};

const char *cxw_webhook_result_str(cxw_webhook_result_t r)
{
        return (unsigned)r < sizeof(results) / sizeof(results[0]) ? results[r]
                                                                  : "unknown";
}

/* HMAC-SHA256(secret, "<ts>.<body>") into mac[32]; 0 or -1. */
static int mac_of(const char *secret, const char *ts, const void *body, size_t len,
                  unsigned char mac[32])
{
        HMAC_CTX *ctx;
        unsigned int n = 0;
        int ok;

        /* HMAC_* is deprecated in OpenSSL 3 but exact and small; EVP_MAC
         * would do the same in three times the lines. */
#pragma GCC diagnostic push
#pragma GCC diagnostic ignored "-Wdeprecated-declarations"
        ctx = HMAC_CTX_new();
        if (!ctx)
                return -1;
        ok = HMAC_Init_ex(ctx, secret, (int)strlen(secret), EVP_sha256(), NULL) &&
             HMAC_Update(ctx, (const unsigned char *)ts, strlen(ts)) &&
             HMAC_Update(ctx, (const unsigned char *)".", 1) &&
             HMAC_Update(ctx, body, len) && HMAC_Final(ctx, mac, &n);
        HMAC_CTX_free(ctx);
#pragma GCC diagnostic pop
        return ok && n == 32 ? 0 : -1;
}

static int parse_ts(const char *s, int64_t *out)
{
        int64_t v = 0;
        size_t i;

        for (i = 0; s[i]; i++) {
                if (s[i] < '0' || s[i] > '9' || i >= 12)
                        return -1;
                v = v * 10 + (s[i] - '0');
        }
        if (i == 0)
                return -1;
        *out = v;
        return 0;
}

cxw_webhook_result_t cxw_webhook_verify(const char *secret, const char *timestamp,
                                        const char *signature, const void *body,
                                        size_t len, int64_t now_s, int64_t tolerance_s)
{
        unsigned char want[32], got[32];
        int64_t ts;
        int diff;

        if (!secret || !*secret || !timestamp || !signature)
                return CXW_WEBHOOK_MISSING;
        if (parse_ts(timestamp, &ts) == -1 || strncmp(signature, "sha256=", 7) != 0 ||
            strlen(signature) != 7 + 64)
                return CXW_WEBHOOK_MALFORMED;
        for (int i = 0; i < 32; i++) {
                int hi = cxw_hexval(signature[7 + 2 * i]),
                    lo = cxw_hexval(signature[8 + 2 * i]);
                if (hi < 0 || lo < 0)
                        return CXW_WEBHOOK_MALFORMED;
                got[i] = (unsigned char)(hi << 4 | lo);
        }
        if (ts > now_s + tolerance_s || ts < now_s - tolerance_s)
                return CXW_WEBHOOK_EXPIRED;
        if (mac_of(secret, timestamp, body, len, want) == -1)
                return CXW_WEBHOOK_BAD_SIGNATURE;
        diff = CRYPTO_memcmp(want, got, sizeof(want));
        OPENSSL_cleanse(want, sizeof(want));
        return diff == 0 ? CXW_WEBHOOK_OK : CXW_WEBHOOK_BAD_SIGNATURE;
}

int cxw_webhook_sign(const char *secret, int64_t timestamp, const void *body, size_t len,
                     char *out, size_t out_size)
{
        unsigned char mac[32];
        char ts[24];

        if (out_size < 72)
                return -1;
        snprintf(ts, sizeof(ts), "%lld", (long long)timestamp);
        if (mac_of(secret, ts, body, len, mac) == -1)
                return -1;
        memcpy(out, "sha256=", 7);
        for (int i = 0; i < 32; i++)
                snprintf(out + 7 + 2 * i, 3, "%02x", mac[i]);
        return 0;
}

cxw_webhook_body_kind_t cxw_webhook_body_parse(const void *body, size_t len,
                                               cxw_webhook_body_t *out)
{
        json_t *j;
        const char *job_id, *status, *event;
        char text[15 + 4];
        cxw_webhook_body_kind_t kind = CXW_WEBHOOK_BODY_MALFORMED;

        memset(out, 0, sizeof(*out));
        j = body ? json_loadb(body, len, JSON_REJECT_DUPLICATES, NULL) : NULL;
        if (!json_is_object(j))
                goto out;
        job_id = json_string_value(json_object_get(j, "jobId"));
        status = json_string_value(json_object_get(j, "status"));
        event = json_string_value(json_object_get(j, "eventType"));
        if (!cxw_schedule_job_id_ok(job_id) || !status ||
            strlen(status) >= sizeof(out->status))
                goto out;
        cxw_strlcpy(out->job_id, job_id, sizeof(out->job_id));
        cxw_strlcpy(out->status, cxw_printable(status, strlen(status), 15, text),
                    sizeof(out->status));
        out->ended = strcmp(status, "COMPLETED") == 0 || strcmp(status, "FAILED") == 0;
        kind = event && strcmp(event, "WFM_SCHEDULE_IMPORT_COMPLETED") != 0
                   ? CXW_WEBHOOK_BODY_IGNORED
                   : CXW_WEBHOOK_BODY_JOB;
out:
        json_decref(j);
        return kind;
}
