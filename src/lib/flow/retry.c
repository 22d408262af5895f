/* retry.c: classify HTTP answers, parse Retry-After, backoff with full jitter. */
#include "cxone/flow/retry.h"

#include "cxone/base/util.h"

#include <stddef.h>
#include <string.h>

cxw_result_class_t cxw_result_classify(long http_status, int transport_error)
{
        if (transport_error)
                return CXW_RESULT_NETWORK;
        if (http_status >= 200 && http_status <= 299)
                return CXW_RESULT_OK;
        if (http_status == 429)
                return CXW_RESULT_RATE_LIMITED;
        if (http_status == 401)
                return CXW_RESULT_UNAUTHORIZED;
        if (http_status == 408 || (http_status >= 500 && http_status <= 599))
                return CXW_RESULT_SERVER;
        return CXW_RESULT_FINAL;
}

const char *cxw_result_class_str(cxw_result_class_t c)
{
        switch (c) {
        case CXW_RESULT_OK:
                return "ok";
        case CXW_RESULT_RATE_LIMITED:
                return "rate_limited";
        case CXW_RESULT_SERVER:
                return "server_error";
        case CXW_RESULT_NETWORK:
                return "network";
        case CXW_RESULT_UNAUTHORIZED:
                return "unauthorized";
        case CXW_RESULT_FINAL:
                return "final";
        }
        return "unknown";
}

/* ---- Retry-After ------------------------------------------------------- */

static const char *const wkday[7] = {"Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"};
static const char *const weekday[7] = {"Monday", "Tuesday",  "Wednesday", "Thursday",
                                       "Friday", "Saturday", "Sunday"};
static const char *const month[12] = {"Jan", "Feb", "Mar", "Apr", "May", "Jun",
                                      "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"};

static int is_blank(char c)
{
        return c == ' ' || c == '\t';
}

static int is_digit(char c)
{
        return c >= '0' && c <= '9';
}

/* A simple cursor over the (trimmed) value: every helper advances on success
 * and fails without reading past end. */
typedef struct {
        const char *p;
        const char *end;
} cursor_t;

static int eat_char(cursor_t *c, char ch)
{
        if (c->p < c->end && *c->p == ch) {
                c->p++;
                return 1;
        }
        return 0;
}

static int eat_word(cursor_t *c, const char *w)
{
        size_t n = strlen(w);

        if ((size_t)(c->end - c->p) >= n && memcmp(c->p, w, n) == 0) {
                c->p += n;
                return 1;
        }
        return 0;
}

/* Exactly ndigits digits (ndigits <= 4). */
static int eat_digits(cursor_t *c, int ndigits, int *out)
{
        int v = 0;

        if (c->end - c->p < ndigits)
                return 0;
        for (int i = 0; i < ndigits; i++) {
                if (!is_digit(c->p[i]))
                        return 0;
                v = v * 10 + (c->p[i] - '0');
        }
        c->p += ndigits;
        *out = v;
        return 1;
}

/* A name from a table of n; returns its index or -1. The caller checks what
 * follows, so "Sun" matching the start of "Sunday" is resolved by trying the
 * long weekday names first. */
static int eat_name(cursor_t *c, const char *const *names, int n)
{
        for (int i = 0; i < n; i++)
                if (eat_word(c, names[i]))
                        return i;
        return -1;
}

/* "HH:MM:SS" */
static int eat_time(cursor_t *c, int *h, int *m, int *s)
{
        return eat_digits(c, 2, h) && eat_char(c, ':') && eat_digits(c, 2, m) &&
               eat_char(c, ':') && eat_digits(c, 2, s);
}

/* Days since 1970-01-01 of a proleptic Gregorian date (H. Hinnant). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m + (m > 2 ? -3 : 9)) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;

        return era * 146097 + doe - 719468;
}

/* The civil year of a wall-clock time in ms. */
static int64_t year_of(int64_t wall_ms)
{
        int64_t days = wall_ms / 86400000;
        /* Inverse of days_from_civil, year part only. */
        int64_t z = days + 719468;
        int64_t era = (z >= 0 ? z : z - 146096) / 146097;
        int64_t doe = z - era * 146097;
        int64_t yoe = (doe - doe / 1460 + doe / 36524 - doe / 146096) / 365;
        int64_t doy = doe - (365 * yoe + yoe / 4 - yoe / 100);
        int64_t mp = (5 * doy + 2) / 153;
        int64_t m = mp < 10 ? mp + 3 : mp - 9;

        return yoe + era * 400 + (m <= 2);
}

/*
 * HTTP-date (RFC 7231 7.1.1.1), GMT only:
 *   IMF-fixdate: Sun, 06 Nov 1994 08:49:37 GMT
 *   RFC 850:     Sunday, 06-Nov-94 08:49:37 GMT
 *   asctime:     Sun Nov  6 08:49:37 1994
 * Returns 0 and the time in ms since the epoch, or -1.
 */
static int parse_http_date(cursor_t c, int64_t now_wall_ms, int64_t *out_ms)
{
        int year = 0, mon = -1, day = 0, h = 0, mi = 0, s = 0;

        if (eat_name(&c, weekday, 7) >= 0) {
                /* RFC 850: ", DD-Mon-YY HH:MM:SS GMT" */
                int yy;
                if (!eat_char(&c, ',') || !eat_char(&c, ' ') ||
                    !eat_digits(&c, 2, &day) || !eat_char(&c, '-') ||
                    (mon = eat_name(&c, month, 12)) < 0 || !eat_char(&c, '-') ||
                    !eat_digits(&c, 2, &yy) || !eat_char(&c, ' ') ||
                    !eat_time(&c, &h, &mi, &s) || !eat_word(&c, " GMT"))
                        return -1;
                /* A two-digit year more than 50 years in the future is the most
                 * recent past year with those digits (RFC 7231). */
                int64_t now_year = year_of(now_wall_ms);
                int64_t y = now_year - now_year % 100 + yy;
                if (y > now_year + 50)
                        y -= 100;
                year = (int)y;
        } else if (eat_name(&c, wkday, 7) >= 0) {
                if (eat_char(&c, ',')) {
                        /* IMF-fixdate: " DD Mon YYYY HH:MM:SS GMT" */
                        if (!eat_char(&c, ' ') || !eat_digits(&c, 2, &day) ||
                            !eat_char(&c, ' ') || (mon = eat_name(&c, month, 12)) < 0 ||
                            !eat_char(&c, ' ') || !eat_digits(&c, 4, &year) ||
                            !eat_char(&c, ' ') || !eat_time(&c, &h, &mi, &s) ||
                            !eat_word(&c, " GMT"))
                                return -1;
                } else {
                        /* asctime: " Mon DD HH:MM:SS YYYY", DD is "_6" or "06"/"16" */
                        if (!eat_char(&c, ' ') || (mon = eat_name(&c, month, 12)) < 0 ||
                            !eat_char(&c, ' '))
                                return -1;
                        if (eat_char(&c, ' ')) {
                                if (!eat_digits(&c, 1, &day))
                                        return -1;
                        } else if (!eat_digits(&c, 2, &day)) {
                                return -1;
                        }
                        if (!eat_char(&c, ' ') || !eat_time(&c, &h, &mi, &s) ||
                            !eat_char(&c, ' ') || !eat_digits(&c, 4, &year))
                                return -1;
                }
        } else {
                return -1;
        }
        if (c.p != c.end)
                return -1;
        mon += 1;
        if (day < 1 || day > cxw_days_in_month(year, mon) || h > 23 || mi > 59 || s > 60)
                return -1;
        int64_t days = days_from_civil(year, mon, day);
        *out_ms = ((days * 24 + h) * 60 + mi) * 60000 + (int64_t)s * 1000;
        return 0;
}

int64_t cxw_retry_after_ms(const char *value, int64_t now_wall_ms, int64_t max_ms)
{
        cursor_t c;
        int64_t ms;

        if (max_ms < 0)
                max_ms = 0;
        if (!value)
                return -1;
        c.p = value;
        c.end = value + strnlen(value, 256);
        if (*c.end != '\0')
                return -1; /* far longer than any valid value */
        while (c.p < c.end && is_blank(*c.p))
                c.p++;
        while (c.end > c.p && is_blank(c.end[-1]))
                c.end--;
        if (c.p == c.end)
                return -1;

        if (is_digit(*c.p)) {
                /* delta-seconds: saturate instead of overflowing */
                int64_t secs = 0;
                int64_t limit = max_ms / 1000 + 1;
                for (const char *p = c.p; p < c.end; p++) {
                        if (!is_digit(*p))
                                return -1;
                        if (secs <= limit)
                                secs = secs * 10 + (*p - '0');
                }
                if (secs > limit || secs > INT64_MAX / 1000)
                        return max_ms;
                ms = secs * 1000;
                return ms > max_ms ? max_ms : ms;
        }

        int64_t when;
        if (parse_http_date(c, now_wall_ms, &when) != 0)
                return -1;
        if (when <= now_wall_ms)
                return 0;
        ms = when - now_wall_ms;
        return ms > max_ms ? max_ms : ms;
}

/* ---- backoff ------------------------------------------------------------ */

int64_t cxw_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms, uint64_t *rng)
{
        uint64_t local;
        int64_t ceiling;

        if (base_ms <= 0 || cap_ms <= 0)
                return 0;
        if (attempt < 1)
                attempt = 1;
        /* ceiling = min(cap, base * 2^(attempt-1)); doubling stops at the cap,
         * so this loop runs at most ~63 times whatever attempt is. */
        ceiling = base_ms < cap_ms ? base_ms : cap_ms;
        for (int i = 1; i < attempt && ceiling < cap_ms; i++)
                ceiling = ceiling > cap_ms / 2 ? cap_ms : ceiling * 2;

        if (!rng) {
                local = cxw_rand_seed();
                rng = &local;
        }
        if (*rng == 0)
                *rng = 0x9E3779B97F4A7C15ULL;
        /* Uniform in [0, ceiling] by multiply-high (Lemire): the bias is below
         * ceiling/2^64, nothing for millisecond delays. */
        uint64_t r = cxw_rand64(rng);
        unsigned __int128 prod = (unsigned __int128)r * ((uint64_t)ceiling + 1);
        return (int64_t)(prod >> 64);
}
