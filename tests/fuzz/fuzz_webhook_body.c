/* fuzz_webhook_body.c: the body of a verified webhook through
 * cxw_webhook_body_parse(). Input: the body (its signature is fuzz_webhook's
 * part).
 *
 * Beyond not crashing: against jansson reading the same bytes (duplicate
 * keys refused): MALFORMED exactly when the body is not an object with a
 * "jobId" string of 1-127 of [A-Za-z0-9._-] and a "status" string of at
 * most 15 bytes, and then every field empty; else IGNORED exactly when an
 * "eventType" string other than WFM_SCHEDULE_IMPORT_COMPLETED is there,
 * job_id the jobId, status the status with every byte outside printable
 * ASCII as '?', ended exactly when the status is COMPLETED or FAILED. */
#include "fuzz_common.h"

#include "cxone/requests/webhook.h"

#include <jansson.h>

static int id_ok(const char *s)
{
        size_t n = s ? strlen(s) : 0;

        if (n < 1 || n > 127 || strspn(s, ".") == n) /* dots only: a dot segment */
                return 0;
        for (; *s; s++)
                if (!((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
                      (*s >= '0' && *s <= '9') || strchr("._-", *s)))
                        return 0;
        return 1;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        cxw_webhook_body_t b;
        cxw_webhook_body_kind_t k;
        json_t *j;
        const char *id, *status, *event;
        size_t n;

        memset(&b, 0x5a, sizeof(b)); /* the parser fills every field */
        k = cxw_webhook_body_parse(data, size, &b);
        FUZZ_CHECK(k == CXW_WEBHOOK_BODY_JOB || k == CXW_WEBHOOK_BODY_IGNORED ||
                   k == CXW_WEBHOOK_BODY_MALFORMED);
        FUZZ_CHECK(memchr(b.job_id, '\0', sizeof(b.job_id)));
        FUZZ_CHECK(memchr(b.status, '\0', sizeof(b.status)));

        j = json_loadb((const char *)data, size, JSON_REJECT_DUPLICATES, NULL);
        id = json_string_value(json_object_get(j, "jobId"));
        status = json_string_value(json_object_get(j, "status"));
        event = json_string_value(json_object_get(j, "eventType"));
        if (!json_is_object(j) || !id_ok(id) || !status || strlen(status) > 15) {
                FUZZ_CHECK(k == CXW_WEBHOOK_BODY_MALFORMED);
                FUZZ_CHECK(!b.job_id[0] && !b.status[0] && !b.ended);
                json_decref(j);
                return 0;
        }
        FUZZ_CHECK(k == (event && strcmp(event, "WFM_SCHEDULE_IMPORT_COMPLETED")
                             ? CXW_WEBHOOK_BODY_IGNORED
                             : CXW_WEBHOOK_BODY_JOB));
        FUZZ_CHECK(strcmp(b.job_id, id) == 0);
        n = strlen(status);
        FUZZ_CHECK(strlen(b.status) == n);
        for (size_t i = 0; i < n; i++) {
                unsigned char c = (unsigned char)status[i];
                FUZZ_CHECK(b.status[i] == (c >= 0x20 && c < 0x7f ? (char)c : '?'));
        }
        FUZZ_CHECK(b.ended ==
                   (strcmp(status, "COMPLETED") == 0 || strcmp(status, "FAILED") == 0));
        json_decref(j);
        return 0;
}
