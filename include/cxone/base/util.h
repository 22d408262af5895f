/**
 * @file util.h
 * @brief Small shared helpers: clocks, time formatting, bounded strings.
 */
#ifndef CXONE_UTIL_H
#define CXONE_UTIL_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

/** @brief Monotonic clock in milliseconds (for timers and durations). */
int64_t cxw_now_ms(void);

/** @brief Wall clock in milliseconds since the Unix epoch. */
int64_t cxw_wall_ms(void);

/**
 * @brief Formats a wall-clock time as RFC 3339 UTC with milliseconds,
 *        e.g. "2026-11-21T07:09:01.123Z".
 * @returns buf.
 */
char *cxw_rfc3339(int64_t wall_ms, char *buf, size_t size);

/**
 * @brief Copies at most size-1 bytes of src into dst and NUL-terminates.
 * @returns the length of src (like strlcpy), so truncation is
 *          result >= size.
 */
size_t cxw_strlcpy(char *dst, const char *src, size_t size);

/**
 * @brief Formats into a caller's error buffer (errstr, errstr_size), the
 *        setup-error convention of librdkafka; NULL or 0-size is allowed.
 */
void cxw_set_err(char *errstr, size_t errstr_size, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * @brief A printable, bounded copy of untrusted bytes for an error message:
 *        bytes outside printable ASCII become '?', and more than max bytes
 *        end in "...".
 * @param out holds at least max + 4 bytes.
 * @returns out.
 */
const char *cxw_printable(const char *s, size_t len, size_t max, char *out);

/** The longest piece of untrusted text cxw_echo() copies. */
#define CXW_ECHO_MAX 64
/** The size of cxw_echo()'s buffer. */
#define CXW_ECHO_SIZE (CXW_ECHO_MAX + 4)

/**
 * @brief Untrusted text (a field name, a value, a parser's message quoting
 *        the input) for an error message: cxw_printable() bounded to
 *        CXW_ECHO_MAX bytes.
 * @param out holds CXW_ECHO_SIZE bytes.
 * @returns out.
 */
const char *cxw_echo(const char *s, size_t len, char *out);

/**
 * @brief The days of month m (1-12) of year y in the proleptic Gregorian
 *        calendar (28 to 31).
 */
int cxw_days_in_month(int y, int m);

/** @brief "unlimited" (rps <= 0) or "12.5/s", for logs. @returns buf or a literal. */
const char *cxw_rate_str(double rps, char *buf, size_t size);

/** @brief The value of hex digit c (either case), or -1. */
int cxw_hexval(char c);

/** @brief xorshift64* step; state must not be 0. Not for cryptography. */
uint64_t cxw_rand64(uint64_t *state);

/** @brief A seed for cxw_rand64 from the clock and the process id. */
uint64_t cxw_rand_seed(void);

/**
 * @brief Is host (a name or an address, without brackets or port) a
 *        loopback one: 127.0.0.0/8, ::1, ::ffff:127.x.x.x or localhost?
 *        Other names are not resolved and count as not loopback.
 */
bool cxw_host_is_loopback(const char *host);

/**
 * @brief Turns core dumps off for this process: RLIMIT_CORE 0 (soft and
 *        hard) and PR_SET_DUMPABLE 0 (no core, no ptrace by the same user,
 *        /proc/self owned by root), so the secrets in memory cannot be
 *        written to disk by a crash.
 * @returns 0, or -1 with errstr set.
 */
int cxw_disable_core_dumps(char *errstr, size_t errstr_size);

#endif
