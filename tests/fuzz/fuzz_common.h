/* fuzz_common.h: what the libFuzzer harnesses share. */
#ifndef CXW_FUZZ_COMMON_H
#define CXW_FUZZ_COMMON_H

#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* An invariant of the parser under test: abort (a crash libFuzzer saves
 * as an artifact) when it does not hold. */
#define FUZZ_CHECK(cond)                                                                 \
        do {                                                                             \
                if (!(cond)) {                                                           \
                        fprintf(stderr, "%s:%d: invariant failed: %s\n", __FILE__,       \
                                __LINE__, #cond);                                        \
                        abort();                                                         \
                }                                                                        \
        } while (0)

/* A NUL-terminated copy of n bytes (the parsers taking C strings). */
static inline char *fuzz_strndup(const uint8_t *data, size_t n)
{
        char *s = malloc(n + 1);

        if (!s)
                abort();
        memcpy(s, data, n);
        s[n] = '\0';
        return s;
}

/* Splits the input at the first occurrence of sep (a byte): *a is what
 * comes before it, the rest after it. @returns 1 if sep was found. */
static inline int fuzz_split(const uint8_t *data, size_t size, uint8_t sep, size_t *alen,
                             const uint8_t **rest, size_t *restlen)
{
        const uint8_t *p = memchr(data, sep, size);

        if (!p) {
                *alen = size;
                *rest = data + size;
                *restlen = 0;
                return 0;
        }
        *alen = (size_t)(p - data);
        *rest = p + 1;
        *restlen = size - *alen - 1;
        return 1;
}

/* 1 if the errstr a parser filled is a NUL-terminated text within its size. */
static inline int fuzz_errstr_ok(const char *err, size_t size)
{
        return memchr(err, '\0', size) != NULL;
}

#endif
