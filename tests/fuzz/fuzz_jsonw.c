/* fuzz_jsonw.c: any bytes written by the JSON writer, read back by jansson.
 *
 * The input is written as a string (cxw_jsonw_strn, NULs included), its
 * part before the first NUL as a member name and as a NUL-terminated
 * string (cxw_jsonw_key, cxw_jsonw_str), its first 8 bytes as an integer,
 * all inside [ ... ] nested 0..19 deep (the input's length decides).
 *
 * Beyond not crashing, and aborting on any mismatch: nesting past
 * CXW_JSONW_DEPTH fails the record; otherwise the output parses with
 * jansson, gives back every string with each byte that does not start or
 * continue a valid UTF-8 sequence as U+FFFD (computed here independently,
 * by decoding code points), the integer, and re-encodes with
 * json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) to the very same bytes. */
#include "fuzz_common.h"

#include "cxone/base/jsonw.h"

#include <jansson.h>

/* The input with every byte that is not part of a valid UTF-8 sequence
 * (RFC 3629: shortest form, no surrogates, at most U+10FFFF) replaced by
 * U+FFFD; *outlen its length. Decodes the code point and checks it, unlike
 * the writer, which checks byte ranges. */
static char *sanitized(const uint8_t *s, size_t n, size_t *outlen)
{
        char *out = malloc(3 * n + 1);
        size_t o = 0;

        FUZZ_CHECK(out);
        for (size_t i = 0; i < n;) {
                uint32_t cp;
                size_t len, k;

                if (s[i] < 0x80) {
                        out[o++] = (char)s[i++];
                        continue;
                }
                if ((s[i] & 0xE0) == 0xC0) {
                        len = 2;
                        cp = s[i] & 0x1F;
                } else if ((s[i] & 0xF0) == 0xE0) {
                        len = 3;
                        cp = s[i] & 0x0F;
                } else if ((s[i] & 0xF8) == 0xF0) {
                        len = 4;
                        cp = s[i] & 0x07;
                } else {
                        len = 0;
                        cp = 0;
                }
                for (k = 1; len && k < len; k++) {
                        if (i + k >= n || (s[i + k] & 0xC0) != 0x80)
                                break;
                        cp = cp << 6 | (s[i + k] & 0x3F);
                }
                if (len && k == len && !(len == 2 && cp < 0x80) &&
                    !(len == 3 && cp < 0x800) && !(len == 4 && cp < 0x10000) &&
                    !(cp >= 0xD800 && cp <= 0xDFFF) && cp <= 0x10FFFF) {
                        memcpy(out + o, s + i, len);
                        o += len;
                        i += len;
                } else {
                        memcpy(out + o, "\xEF\xBF\xBD", 3);
                        o += 3;
                        i++;
                }
        }
        out[o] = '\0';
        *outlen = o;
        return out;
}

static void check_string(json_t *v, const uint8_t *s, size_t n)
{
        size_t want_len;
        char *want = sanitized(s, n, &want_len);

        FUZZ_CHECK(json_is_string(v));
        FUZZ_CHECK(json_string_length(v) == want_len);
        FUZZ_CHECK(memcmp(json_string_value(v), want, want_len) == 0);
        free(want);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        cxw_jsonw_t w;
        size_t depth = size % 20, klen, restlen, outlen;
        const uint8_t *rest;
        long long num = 0;
        char *key, *out, *again;
        json_error_t jerr;
        json_t *root, *v, *obj;

        fuzz_split(data, size, 0, &klen, &rest, &restlen);
        key = fuzz_strndup(data, klen);
        memcpy(&num, data, size < sizeof(num) ? size : sizeof(num));

        cxw_jsonw_init(&w, size % 64);
        for (size_t d = 0; d < depth; d++)
                cxw_jsonw_arr_begin(&w);
        cxw_jsonw_arr_begin(&w);
        cxw_jsonw_strn(&w, (const char *)data, size);
        cxw_jsonw_obj_begin(&w);
        cxw_jsonw_kstr(&w, key, key);
        cxw_jsonw_obj_end(&w);
        cxw_jsonw_int(&w, num);
        cxw_jsonw_null(&w);
        cxw_jsonw_str(&w, NULL);
        cxw_jsonw_arr_end(&w);
        for (size_t d = 0; d < depth; d++)
                cxw_jsonw_arr_end(&w);
        out = cxw_jsonw_finish(&w, &outlen);
        if (depth + 2 > CXW_JSONW_DEPTH) {
                FUZZ_CHECK(out == NULL);
                free(key);
                return 0;
        }
        FUZZ_CHECK(out != NULL && strlen(out) == outlen);

        root = json_loadb(out, outlen, JSON_ALLOW_NUL | JSON_REJECT_DUPLICATES, &jerr);
        if (!root) {
                fprintf(stderr, "not JSON: %s: %s\n", jerr.text, out);
                abort();
        }
        v = root;
        for (size_t d = 0; d < depth; d++) {
                FUZZ_CHECK(json_is_array(v) && json_array_size(v) == 1);
                v = json_array_get(v, 0);
        }
        FUZZ_CHECK(json_is_array(v) && json_array_size(v) == 5);
        check_string(json_array_get(v, 0), data, size);
        obj = json_array_get(v, 1);
        FUZZ_CHECK(json_is_object(obj) && json_object_size(obj) == 1);
        {
                void *it = json_object_iter(obj);
                const char *k = json_object_iter_key(it);
                size_t want_len;
                char *want = sanitized((const uint8_t *)key, klen, &want_len);

                FUZZ_CHECK(strlen(k) == want_len && memcmp(k, want, want_len) == 0);
                free(want);
                check_string(json_object_iter_value(it), (const uint8_t *)key, klen);
        }
        FUZZ_CHECK(json_is_integer(json_array_get(v, 2)) &&
                   json_integer_value(json_array_get(v, 2)) == num);
        FUZZ_CHECK(json_is_null(json_array_get(v, 3)));
        FUZZ_CHECK(json_is_null(json_array_get(v, 4)));

        /* byte for byte what jansson writes for the same values */
        again = json_dumps(root, JSON_COMPACT | JSON_PRESERVE_ORDER);
        FUZZ_CHECK(again != NULL);
        if (strcmp(again, out) != 0) {
                fprintf(stderr, "jsonw:   %s\njansson: %s\n", out, again);
                abort();
        }
        free(again);
        json_decref(root);
        free(out);
        free(key);
        return 0;
}
