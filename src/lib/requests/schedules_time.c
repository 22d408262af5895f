/* schedules_time.c: the date-times of a schedule import (RFC 3339 to epoch
 * ms) and the available time of an entry (its span less the windows). */
#include "cxone/requests/schedules.h"
#include "cxone/base/util.h"

#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#define TIME_TEXT_MAX 64 /* longest date-time text looked at */

/* ---- date-times ------------------------------------------------------- */

static int num(const char *s, int n, int *v)
{
        *v = 0;
        for (int i = 0; i < n; i++) {
                if (s[i] < '0' || s[i] > '9')
                        return -1;
                *v = *v * 10 + (s[i] - '0');
        }
        return 0;
}

/* Days from 1970-01-01 to y-m-d in the proleptic Gregorian calendar
 * (H. Hinnant's days_from_civil). */
static int64_t days_from_civil(int64_t y, int m, int d)
{
        y -= m <= 2;
        int64_t era = (y >= 0 ? y : y - 399) / 400;
        int64_t yoe = y - era * 400;
        int64_t doy = (153 * (m > 2 ? m - 3 : m + 9) + 2) / 5 + d - 1;
        int64_t doe = yoe * 365 + yoe / 4 - yoe / 100 + doy;
        return era * 146097 + doe - 719468;
}

int cxw_schedule_parse_time(const char *s, size_t len, int64_t *ms, const char **why)
{
        const char *w;
        int y, mo, d, h, mi, sec, oh, om, frac = 0, off = 0;
        size_t i;

        if (!s || !ms) {
                w = "missing";
                goto bad;
        }
        if (len > TIME_TEXT_MAX) {
                w = "too long";
                goto bad;
        }
        if (len < 19 || num(s, 4, &y) || s[4] != '-' || num(s + 5, 2, &mo) ||
            s[7] != '-' || num(s + 8, 2, &d) || (s[10] != 'T' && s[10] != 't') ||
            num(s + 11, 2, &h) || s[13] != ':' || num(s + 14, 2, &mi) || s[16] != ':' ||
            num(s + 17, 2, &sec)) {
                w = "not of the form YYYY-MM-DDTHH:MM:SS with an offset";
                goto bad;
        }
        if (mo < 1 || mo > 12) {
                w = "month out of range (01-12)";
                goto bad;
        }
        if (d < 1 || d > cxw_days_in_month(y, mo)) {
                w = "day does not exist in that month";
                goto bad;
        }
        if (h > 23) {
                w = "hour out of range (00-23)";
                goto bad;
        }
        if (mi > 59) {
                w = "minute out of range (00-59)";
                goto bad;
        }
        if (sec > 59) {
                w = "second out of range (00-59)";
                goto bad;
        }
        i = 19;
        if (i < len && s[i] == '.') {
                size_t nd = 0;
                for (i++; i < len && s[i] >= '0' && s[i] <= '9'; i++, nd++)
                        if (nd < 3)
                                frac = frac * 10 + (s[i] - '0');
                if (nd == 0) {
                        w = "no digits after the decimal point";
                        goto bad;
                }
                for (; nd < 3; nd++)
                        frac *= 10;
        }
        if (i == len) {
                w = "missing offset (Z, +hh:mm or -hh:mm)";
                goto bad;
        }
        if (s[i] == 'Z' || s[i] == 'z') {
                i++;
        } else if (s[i] == '+' || s[i] == '-') {
                if (len - i < 6 || num(s + i + 1, 2, &oh) || s[i + 3] != ':' ||
                    num(s + i + 4, 2, &om)) {
                        w = "offset not of the form +hh:mm or -hh:mm";
                        goto bad;
                }
                if (oh > 23 || om > 59) {
                        w = "offset out of range";
                        goto bad;
                }
                off = (s[i] == '-' ? -1 : 1) * (oh * 60 + om);
                i += 6;
        } else {
                w = "missing offset (Z, +hh:mm or -hh:mm)";
                goto bad;
        }
        if (i != len) {
                w = "characters after the offset";
                goto bad;
        }
        *ms = ((days_from_civil(y, mo, d) * 86400 + h * 3600 + mi * 60 + sec) -
               (int64_t)off * 60) *
                  1000 +
              frac;
        return 0;
bad:
        if (why)
                *why = w;
        return -1;
}

/* ---- available time ---------------------------------------------------- */

static int win_cmp(const void *a, const void *b)
{
        const cxw_schedule_window_t *x = a, *y = b;

        if (x->start_ms != y->start_ms)
                return x->start_ms < y->start_ms ? -1 : 1;
        if (x->end_ms != y->end_ms)
                return x->end_ms < y->end_ms ? -1 : 1;
        return 0;
}

int64_t cxw_schedule_available_ms(int64_t start_ms, int64_t end_ms,
                                  cxw_schedule_window_t *w, size_t n)
{
        int64_t covered = 0, cs = 0, ce = 0;
        int open = 0;

        if (end_ms <= start_ms)
                return 0;
        if (w && n > 1)
                qsort(w, n, sizeof(*w), win_cmp);
        /* Clipping keeps the starts in order, so one pass merges. */
        for (size_t i = 0; w && i < n; i++) {
                int64_t s = w[i].start_ms > start_ms ? w[i].start_ms : start_ms;
                int64_t e = w[i].end_ms < end_ms ? w[i].end_ms : end_ms;
                if (e <= s)
                        continue;
                if (open && s <= ce) {
                        if (e > ce)
                                ce = e;
                        continue;
                }
                if (open)
                        covered += ce - cs;
                cs = s;
                ce = e;
                open = 1;
        }
        if (open)
                covered += ce - cs;
        return end_ms - start_ms - covered;
}
