/* jsonw.c: a small JSON writer into one growing buffer (see jsonw.h). */
#include "cxone/base/jsonw.h"

#include <stdlib.h>
#include <string.h>

#define MIN_CAP 64

void cxw_jsonw_init(cxw_jsonw_t *w, size_t hint)
{
        memset(w, 0, sizeof(*w));
        w->cap = hint < MIN_CAP ? MIN_CAP : hint;
        w->buf = malloc(w->cap);
        if (!w->buf) {
                w->failed = 1;
                w->cap = 0;
                return;
        }
        w->buf[0] = '\0';
}

void cxw_jsonw_free(cxw_jsonw_t *w)
{
        if (!w)
                return;
        free(w->buf);
        memset(w, 0, sizeof(*w));
}

char *cxw_jsonw_finish(cxw_jsonw_t *w, size_t *len)
{
        char *out;

        if (w->failed || w->depth != 0) {
                cxw_jsonw_free(w);
                return NULL;
        }
        out = w->buf;
        if (len)
                *len = w->len;
        memset(w, 0, sizeof(*w));
        return out;
}

/* Room for n more bytes and the terminating NUL. */
static int reserve(cxw_jsonw_t *w, size_t n)
{
        size_t need, cap;
        char *b;

        if (w->failed)
                return -1;
        if (n < w->cap - w->len) /* the common case: room left */
                return 0;
        if (n > SIZE_MAX / 2 - w->len - 1)
                goto fail;
        need = w->len + n + 1;
        if (need <= w->cap)
                return 0;
        cap = w->cap ? w->cap : MIN_CAP;
        while (cap < need)
                cap *= 2;
        b = realloc(w->buf, cap);
        if (!b)
                goto fail;
        w->buf = b;
        w->cap = cap;
        return 0;
fail:
        w->failed = 1;
        return -1;
}

static void put(cxw_jsonw_t *w, const char *s, size_t n)
{
        if (reserve(w, n) == -1)
                return;
        memcpy(w->buf + w->len, s, n);
        w->len += n;
        w->buf[w->len] = '\0';
}

static void putc1(cxw_jsonw_t *w, char c)
{
        if (reserve(w, 1) == -1)
                return;
        w->buf[w->len++] = c;
        w->buf[w->len] = '\0';
}

/* Before a value or a key: a comma when its container already has one. */
static void sep(cxw_jsonw_t *w)
{
        if (w->after_key) {
                w->after_key = 0;
                return;
        }
        if (w->depth > 0) {
                uint32_t bit = 1u << (w->depth - 1);
                if (w->has_item & bit)
                        putc1(w, ',');
                w->has_item |= bit;
        }
}

/* Length of the valid UTF-8 sequence at s (n bytes left, s[0] >= 0x80), or
 * 0 if s[0] does not start one (RFC 3629: no overlong forms, no
 * surrogates, nothing above U+10FFFF). */
static size_t utf8_seq(const unsigned char *s, size_t n)
{
        unsigned char c = s[0];
        unsigned char lo = 0x80, hi = 0xBF;
        size_t len;

        if (c >= 0xC2 && c <= 0xDF)
                len = 2;
        else if (c >= 0xE0 && c <= 0xEF)
                len = 3;
        else if (c >= 0xF0 && c <= 0xF4)
                len = 4;
        else
                return 0;
        if (c == 0xE0)
                lo = 0xA0;
        else if (c == 0xED)
                hi = 0x9F;
        else if (c == 0xF0)
                lo = 0x90;
        else if (c == 0xF4)
                hi = 0x8F;
        if (n < len || s[1] < lo || s[1] > hi)
                return 0;
        for (size_t i = 2; i < len; i++)
                if (s[i] < 0x80 || s[i] > 0xBF)
                        return 0;
        return len;
}

/* Appends without the terminating NUL (callers end with put or term). */
static void raw(cxw_jsonw_t *w, const char *s, size_t n)
{
        if (reserve(w, n) == -1)
                return;
        memcpy(w->buf + w->len, s, n);
        w->len += n;
}

static void term(cxw_jsonw_t *w)
{
        if (!w->failed)
                w->buf[w->len] = '\0';
}

/* 1 for the bytes written as they are: ASCII from space to DEL, other than
 * '"' and '\\' (jansson writes DEL as it is too). */
static const unsigned char plain[256] = {
    [0x20] = 1,
    [0x21] = 1,
    [0x23 ... 0x5b] = 1,
    [0x5d ... 0x7f] = 1,
};

static void put_string(cxw_jsonw_t *w, const char *str, size_t n)
{
        static const char hex[] = "0123456789ABCDEF";
        const unsigned char *s = (const unsigned char *)str;
        size_t i = 0;

        /* room for the common case (nothing to escape) at once */
        if (reserve(w, n + 2) == -1)
                return;
        w->buf[w->len++] = '"';
        while (i < n && !w->failed) {
                size_t run = i;
                /* a run of printable ASCII is copied at once */
                while (run < n && plain[s[run]])
                        run++;
                if (run > i) {
                        raw(w, (const char *)s + i, run - i);
                        i = run;
                        continue;
                }
                unsigned char c = s[i];
                if (c >= 0x80) {
                        size_t len = utf8_seq(s + i, n - i);
                        if (len) {
                                raw(w, (const char *)s + i, len);
                                i += len;
                        } else {
                                raw(w, "\xEF\xBF\xBD", 3); /* U+FFFD */
                                i++;
                        }
                        continue;
                }
                switch (c) {
                case '"':
                        raw(w, "\\\"", 2);
                        break;
                case '\\':
                        raw(w, "\\\\", 2);
                        break;
                case '\b':
                        raw(w, "\\b", 2);
                        break;
                case '\f':
                        raw(w, "\\f", 2);
                        break;
                case '\n':
                        raw(w, "\\n", 2);
                        break;
                case '\r':
                        raw(w, "\\r", 2);
                        break;
                case '\t':
                        raw(w, "\\t", 2);
                        break;
                default: {
                        char u[6] = {'\\', 'u', '0', '0', hex[c >> 4], hex[c & 15]};
                        raw(w, u, sizeof(u));
                        break;
                }
                }
                i++;
        }
        raw(w, "\"", 1);
        term(w);
}

static void open_c(cxw_jsonw_t *w, char c)
{
        sep(w);
        if (w->failed)
                return;
        if (w->depth >= CXW_JSONW_DEPTH) {
                w->failed = 1;
                return;
        }
        putc1(w, c);
        w->depth++;
        w->has_item &= ~(1u << (w->depth - 1));
}

static void close_c(cxw_jsonw_t *w, char c)
{
        if (w->failed)
                return;
        if (w->depth == 0 || w->after_key) {
                w->failed = 1;
                return;
        }
        putc1(w, c);
        w->depth--;
}

void cxw_jsonw_obj_begin(cxw_jsonw_t *w)
{
        open_c(w, '{');
}

void cxw_jsonw_obj_end(cxw_jsonw_t *w)
{
        close_c(w, '}');
}

void cxw_jsonw_arr_begin(cxw_jsonw_t *w)
{
        open_c(w, '[');
}

void cxw_jsonw_arr_end(cxw_jsonw_t *w)
{
        close_c(w, ']');
}

void cxw_jsonw_key(cxw_jsonw_t *w, const char *name)
{
        if (w->after_key || w->depth == 0) {
                w->failed = 1; /* a key must follow a value or '{' */
                return;
        }
        sep(w);
        put_string(w, name ? name : "", name ? strlen(name) : 0);
        putc1(w, ':');
        w->after_key = 1;
}

void cxw_jsonw_strn(cxw_jsonw_t *w, const char *s, size_t n)
{
        sep(w);
        put_string(w, s, n);
}

void cxw_jsonw_str(cxw_jsonw_t *w, const char *s)
{
        if (!s) {
                cxw_jsonw_null(w);
                return;
        }
        cxw_jsonw_strn(w, s, strlen(s));
}

void cxw_jsonw_int(cxw_jsonw_t *w, long long v)
{
        char b[24];
        char *p = b + sizeof(b);
        /* digits from the end; through unsigned so LLONG_MIN has a value */
        unsigned long long u =
            v < 0 ? 0ULL - (unsigned long long)v : (unsigned long long)v;

        do {
                *--p = (char)('0' + u % 10);
                u /= 10;
        } while (u);
        if (v < 0)
                *--p = '-';
        sep(w);
        put(w, p, (size_t)(b + sizeof(b) - p));
}

void cxw_jsonw_null(cxw_jsonw_t *w)
{
        sep(w);
        put(w, "null", 4);
}

void cxw_jsonw_kstr(cxw_jsonw_t *w, const char *name, const char *s)
{
        cxw_jsonw_key(w, name);
        cxw_jsonw_str(w, s);
}

void cxw_jsonw_kint(cxw_jsonw_t *w, const char *name, long long v)
{
        cxw_jsonw_key(w, name);
        cxw_jsonw_int(w, v);
}
