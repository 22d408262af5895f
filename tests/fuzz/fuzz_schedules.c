/* fuzz_schedules.c: a schedule-import message through cxw_schedule_decode()
 * (JSON, every validation rule, overlaps, capacity), the same bytes through
 * cxw_schedule_parse_time(), and the idempotency-key header. Input: the
 * value, optionally followed by a NUL and the idempotency-key header.
 *
 * Beyond not crashing: a rejected import reports at least one problem,
 * within the bounds of the problem list and errstr; an accepted one has a
 * body equal (as JSON) to the message, sane counts, and a capacity not
 * below the one required. A parsed time formats back (UTC, milliseconds)
 * to text that parses to the same instant (when its UTC year has 4 digits). */
#include "fuzz_common.h"

#include "cxone/requests/schedules.h"

#include <inttypes.h>
#include <jansson.h>
#include <time.h>

static void check_accepted(const cxw_schedule_import_t *imp, const uint8_t *value,
                           size_t len)
{
        json_t *a, *b;

        FUZZ_CHECK(imp->body && strlen(imp->body) == imp->body_len);
        a = json_loadb(imp->body, imp->body_len, 0, NULL);
        b = json_loadb((const char *)value, len, 0, NULL);
        FUZZ_CHECK(a && b && json_equal(a, b));
        json_decref(a);
        json_decref(b);
        FUZZ_CHECK(imp->calendar_id[0]);
        FUZZ_CHECK(imp->nentries >= 1 && imp->nagents >= 1 &&
                   imp->nagents <= imp->nentries);
        FUZZ_CHECK(imp->capacity_minutes >= 0);
        FUZZ_CHECK(imp->required_capacity_minutes < 0 ||
                   imp->capacity_minutes >= imp->required_capacity_minutes);
}

static void check_rejected(const cxw_schedule_problems_t *p, const char *err,
                           size_t errsize)
{
        FUZZ_CHECK(p->total >= 1 && p->n >= 1 && p->n <= p->total &&
                   p->n <= CXW_SCHED_PROBLEMS_MAX);
        for (size_t i = 0; i < p->n; i++)
                FUZZ_CHECK(memchr(p->items[i].text, '\0', sizeof(p->items[i].text)) &&
                           p->items[i].text[0]);
        FUZZ_CHECK(fuzz_errstr_ok(err, errsize) && err[0]);
}

/* Formats ms as UTC with milliseconds, by its own arithmetic. @returns 0,
 * or -1 when the UTC year is outside 0000-9999 (a local time near either
 * end with an offset: valid, but not writable in UTC). */
static int format_utc(int64_t ms, char *buf, size_t size)
{
        int64_t secs = ms >= 0 ? ms / 1000 : -((-ms + 999) / 1000);
        int frac = (int)(ms - secs * 1000);
        time_t t = (time_t)secs;
        struct tm tm;

        FUZZ_CHECK(gmtime_r(&t, &tm) != NULL);
        if (tm.tm_year + 1900 < 0 || tm.tm_year + 1900 > 9999)
                return -1;
        snprintf(buf, size, "%04d-%02d-%02dT%02d:%02d:%02d.%03dZ", tm.tm_year + 1900,
                 tm.tm_mon + 1, tm.tm_mday, tm.tm_hour, tm.tm_min, tm.tm_sec, frac);
        return 0;
}

static void check_time(const uint8_t *data, size_t size)
{
        const char *why = NULL;
        char buf[64];
        int64_t ms, again;

        if (cxw_schedule_parse_time((const char *)data, size, &ms, &why) != 0) {
                FUZZ_CHECK(why && why[0]);
                return;
        }
        if (format_utc(ms, buf, sizeof(buf)) != 0)
                return;
        FUZZ_CHECK(cxw_schedule_parse_time(buf, strlen(buf), &again, NULL) == 0);
        FUZZ_CHECK(again == ms);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        static cxw_schedule_problems_t problems;
        cxw_schedule_limits_t lim;
        cxw_schedule_import_t imp;
        char err[CXW_SCHED_ERRSTR_SIZE];
        char key[CXW_SCHED_IDEMKEY_SIZE];
        const uint8_t *hdr;
        size_t vlen, hdrlen;
        int rc;

        fuzz_split(data, size, 0, &vlen, &hdr, &hdrlen);
        cxw_schedule_limits_default(&lim);
        /* bounds within reach of the fuzzer's lengths, so both sides run */
        lim.max_bytes = 6000;
        lim.max_entries = 24;
        lim.max_breaks = 4;
        lim.max_overrides = 4;
        lim.max_reason_len = 24;

        rc = cxw_schedule_decode(data, vlen, &lim, &imp, &problems, err, sizeof(err));
        FUZZ_CHECK(rc == 0 || rc == -1);
        if (rc == 0) {
                FUZZ_CHECK(problems.n == 0);
                check_accepted(&imp, data, vlen);
        } else {
                FUZZ_CHECK(imp.body == NULL);
                check_rejected(&problems, err, sizeof(err));
        }
        cxw_schedule_import_clear(&imp);
        /* without the problem list (decode allocates its own) */
        rc = cxw_schedule_decode(data, vlen, &lim, &imp, NULL, err, sizeof(err));
        cxw_schedule_import_clear(&imp);

        check_time(data, vlen);

        if (cxw_schedule_idempotency_key(hdr, hdrlen, "cxone.schedule-imports", 3,
                                         INT64_MAX, key, sizeof(key), err,
                                         sizeof(err)) == 0) {
                FUZZ_CHECK(strlen(key) < sizeof(key) && key[0]);
                for (const char *c = key; *c; c++)
                        FUZZ_CHECK(*c >= 0x21 && *c <= 0x7e);
        } else {
                FUZZ_CHECK(hdrlen > 0 && err[0]);
        }
        return 0;
}
