/**
 * @file jsonw.h
 * @brief A small JSON writer (RFC 8259) for the records the worker writes
 *        once per request: outcomes, audit events, PATCH bodies.
 *
 * One growing buffer, no tree: a record costs one allocation instead of
 * one per value (jansson's json_object + json_dumps). Output is compact,
 * in the order written, and byte-for-byte what jansson's
 * json_dumps(JSON_COMPACT | JSON_PRESERVE_ORDER) writes for the same
 * values: '"' and '\\' escaped, \\b \\f \\n \\r \\t, other control
 * characters as \\u00XX, everything else (UTF-8, DEL) as is.
 *
 * Strings are taken as UTF-8; a byte that does not start or continue a
 * valid sequence (overlong forms, surrogates and code points above
 * U+10FFFF included) is written as U+FFFD, so the output is always valid
 * JSON in valid UTF-8 whatever the input.
 *
 * Errors (out of memory, nesting deeper than CXW_JSONW_DEPTH) are sticky:
 * later calls do nothing and cxw_jsonw_finish() returns NULL.
 *
 * @locality any thread; one writer is not shared between threads.
 */
#ifndef CXONE_JSONW_H
#define CXONE_JSONW_H

#include <stddef.h>
#include <stdint.h>

#define CXW_JSONW_DEPTH 16 /**< deepest nesting of objects and arrays */

typedef struct cxw_jsonw_s {
        char *buf; /**< malloc'd, NUL-terminated after every call */
        size_t len;
        size_t cap;
        int failed;
        int depth;
        uint32_t has_item; /**< bit d: the container at depth d has an item */
        int after_key;     /**< a key was written: the next value needs no comma */
} cxw_jsonw_t;

/**
 * @brief Starts a writer with room for hint bytes (it grows as needed).
 * @remark free with cxw_jsonw_finish() (keeping the text) or
 *         cxw_jsonw_free() (dropping it).
 */
void cxw_jsonw_init(cxw_jsonw_t *w, size_t hint);

/** @brief Frees the text; the writer may be initialised again. NULL-safe. */
void cxw_jsonw_free(cxw_jsonw_t *w);

/**
 * @brief Ends writing.
 * @param len set to the text's length when not NULL.
 * @returns the NUL-terminated text, malloc'd and now the caller's, or NULL
 *          after an error (everything is freed then).
 */
char *cxw_jsonw_finish(cxw_jsonw_t *w, size_t *len);

/** @brief '{' / '[' (as a value: after a key, or as an array item). */
void cxw_jsonw_obj_begin(cxw_jsonw_t *w);
void cxw_jsonw_obj_end(cxw_jsonw_t *w);
void cxw_jsonw_arr_begin(cxw_jsonw_t *w);
void cxw_jsonw_arr_end(cxw_jsonw_t *w);

/** @brief An object member's name (escaped like any string). */
void cxw_jsonw_key(cxw_jsonw_t *w, const char *name);

/** @brief A string value, NUL-terminated; NULL writes null. */
void cxw_jsonw_str(cxw_jsonw_t *w, const char *s);

/** @brief A string value of n bytes (may hold NUL, written as \\u0000). */
void cxw_jsonw_strn(cxw_jsonw_t *w, const char *s, size_t n);

/** @brief An integer value. */
void cxw_jsonw_int(cxw_jsonw_t *w, long long v);

/** @brief null. */
void cxw_jsonw_null(cxw_jsonw_t *w);

/** @brief Shorthands: key then value. */
void cxw_jsonw_kstr(cxw_jsonw_t *w, const char *name, const char *s);
void cxw_jsonw_kint(cxw_jsonw_t *w, const char *name, long long v);

#endif
