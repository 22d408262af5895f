/* fuzz_retry_after.c: a Retry-After header value through
 * cxw_retry_after_ms(). Input: the value (up to the first NUL, as a header
 * reaches it), optionally followed after the NUL by 16 bytes: the wall
 * clock in ms (kept to [0, 2^48), about year 10889: a clock, not input)
 * and the cap in ms (any int64, the extremes included).
 *
 * Beyond not crashing: the delay is -1 or within [0, cap]; delta-seconds
 * give min(seconds * 1000, cap); an IMF-fixdate that strptime() reads whole
 * gives the same delay. */
#define _XOPEN_SOURCE 700
#include "fuzz_common.h"

#include "cxone/flow/retry.h"

#include <ctype.h>
#include <time.h>

static int64_t get64(const uint8_t *p)
{
        uint64_t v = 0;

        for (int i = 0; i < 8; i++)
                v = v << 8 | p[i];
        return (int64_t)v;
}

static int64_t clamp(int64_t v, int64_t lo, int64_t hi)
{
        return v < lo ? lo : v > hi ? hi : v;
}

static void check_imf(const char *value, int64_t now, int64_t cap, int64_t got)
{
        struct tm tm = {0};
        const char *end;
        time_t t;

        while (*value == ' ' || *value == '\t')
                value++;
        end = strptime(value, "%a, %d %b %Y %H:%M:%S GMT", &tm);
        if (!end || strspn(end, " \t") != strlen(end))
                return;
        t = timegm(&tm);
        /* only what a 64-bit ms clock holds without overflow */
        if (t < 0 || t > (time_t)1e13)
                return;
        FUZZ_CHECK(got == clamp((int64_t)t * 1000 - now, 0, cap));
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        int64_t now = 1795000000000LL, cap = 3600 * 1000, got, cap0;
        const uint8_t *rest;
        size_t vlen, restlen;
        char *value;

        if (fuzz_split(data, size, 0, &vlen, &rest, &restlen) && restlen >= 16) {
                now = get64(rest) & (((int64_t)1 << 48) - 1);
                cap = get64(rest + 8);
        }
        value = fuzz_strndup(data, vlen);
        got = cxw_retry_after_ms(value, now, cap);
        cap0 = cap < 0 ? 0 : cap;
        FUZZ_CHECK(got == -1 || (got >= 0 && got <= cap0));
        if (got >= 0) {
                const char *p = value + strspn(value, " \t");
                if (isdigit((unsigned char)*p)) {
                        /* all digits: the seconds, saturated */
                        int64_t secs = 0;
                        for (; isdigit((unsigned char)*p); p++)
                                secs = secs > INT64_MAX / 100 ? INT64_MAX / 100
                                                              : secs * 10 + (*p - '0');
                        FUZZ_CHECK(got == (secs > cap0 / 1000 ? cap0 : secs * 1000));
                } else {
                        check_imf(value, now, cap0, got);
                }
        }
        free(value);
        return 0;
}
