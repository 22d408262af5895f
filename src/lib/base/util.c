/* util.c: clocks, time formatting, bounded strings. */
#include "cxone/base/util.h"

#include <arpa/inet.h>
#include <errno.h>
#include <stdio.h>
#include <stdarg.h>
#include <string.h>
#include <strings.h>
#include <sys/prctl.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

int64_t cxw_now_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_MONOTONIC, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

int64_t cxw_wall_ms(void)
{
        struct timespec ts;

        clock_gettime(CLOCK_REALTIME, &ts);
        return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

char *cxw_rfc3339(int64_t wall_ms, char *buf, size_t size)
{
        time_t secs = (time_t)(wall_ms / 1000);
        struct tm tm;
        char base[32];

        gmtime_r(&secs, &tm);
        strftime(base, sizeof(base), "%Y-%m-%dT%H:%M:%S", &tm);
        snprintf(buf, size, "%s.%03dZ", base, (int)(wall_ms % 1000));
        return buf;
}

size_t cxw_strlcpy(char *dst, const char *src, size_t size)
{
        size_t len = strlen(src);

        if (size > 0) {
                size_t n = len < size - 1 ? len : size - 1;
                memcpy(dst, src, n);
                dst[n] = '\0';
        }
        return len;
}

void cxw_set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
{
        va_list ap;

        if (!errstr || errstr_size == 0)
                return;
        va_start(ap, fmt);
        vsnprintf(errstr, errstr_size, fmt, ap);
        va_end(ap);
}

const char *cxw_printable(const char *s, size_t len, size_t max, char *out)
{
        size_t n = len < max ? len : max;
        size_t i;

        for (i = 0; i < n; i++) {
                unsigned char c = (unsigned char)s[i];
                out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
        }
        if (len > max) {
                memcpy(out + i, "...", 3);
                i += 3;
        }
        out[i] = '\0';
        return out;
}

const char *cxw_echo(const char *s, size_t len, char *out)
{
        return cxw_printable(s, len, CXW_ECHO_MAX, out);
}

int cxw_days_in_month(int y, int m)
{
        static const int dm[12] = {31, 28, 31, 30, 31, 30, 31, 31, 30, 31, 30, 31};
        int leap = (y % 4 == 0 && y % 100 != 0) || y % 400 == 0;

        return m == 2 ? 28 + leap : dm[m - 1];
}

int cxw_hexval(char c)
{
        if (c >= '0' && c <= '9')
                return c - '0';
        if (c >= 'a' && c <= 'f')
                return c - 'a' + 10;
        if (c >= 'A' && c <= 'F')
                return c - 'A' + 10;
        return -1;
}

uint64_t cxw_rand64(uint64_t *state)
{
        uint64_t x = *state;

        x ^= x >> 12;
        x ^= x << 25;
        x ^= x >> 27;
        *state = x;
        return x * 0x2545F4914F6CDD1DULL;
}

uint64_t cxw_rand_seed(void)
{
        struct timespec ts;
        uint64_t seed;

        clock_gettime(CLOCK_REALTIME, &ts);
        seed = ((uint64_t)ts.tv_sec << 32) ^ (uint64_t)ts.tv_nsec ^
               ((uint64_t)getpid() << 16);
        return seed ? seed : 0x9E3779B97F4A7C15ULL;
}

const char *cxw_rate_str(double rps, char *buf, size_t size)
{
        if (rps <= 0)
                return "unlimited";
        snprintf(buf, size, "%.1f/s", rps);
        return buf;
}

bool cxw_host_is_loopback(const char *host)
{
        static const unsigned char loop6[16] = {[15] = 1};
        static const unsigned char v4mapped[12] = {[10] = 0xff, [11] = 0xff};
        unsigned char a[16];

        if (!host)
                return false;
        if (!strcasecmp(host, "localhost") || !strcasecmp(host, "localhost."))
                return true;
        if (inet_pton(AF_INET, host, a) == 1)
                return a[0] == 127;
        if (inet_pton(AF_INET6, host, a) == 1)
                return !memcmp(a, loop6, sizeof(loop6)) ||
                       (!memcmp(a, v4mapped, sizeof(v4mapped)) && a[12] == 127);
        return false;
}

int cxw_disable_core_dumps(char *errstr, size_t errstr_size)
{
        const struct rlimit none = {0, 0};

        if (setrlimit(RLIMIT_CORE, &none) != 0) {
                cxw_set_err(errstr, errstr_size, "setrlimit(RLIMIT_CORE, 0): %s",
                            strerror(errno));
                return -1;
        }
        if (prctl(PR_SET_DUMPABLE, 0L, 0L, 0L, 0L) != 0) {
                cxw_set_err(errstr, errstr_size, "prctl(PR_SET_DUMPABLE, 0): %s",
                            strerror(errno));
                return -1;
        }
        return 0;
}
