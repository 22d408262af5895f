/**
 * @file csvin.h
 * @brief A streaming RFC 4180 CSV reader (over libcsv) that yields one record
 *        at a time together with the line it starts on.
 *
 * The field separator is ',' unless cxw_csvin_set_delimiter() sets another
 * (';' and tab are common in exports from spreadsheets in many locales).
 *
 * What it accepts: quoted fields, doubled quotes inside them, embedded commas
 * and newlines (a record spanning lines reports its first line), CRLF, LF or
 * CR line ends, a UTF-8 byte order mark at the very start (skipped), empty
 * lines (skipped), a last line with or without a newline. Spaces are part of a
 * field, as RFC 4180 says; bytes are passed through as they are (no encoding
 * check).
 *
 * What it refuses, one record at a time: a field longer than
 * CXW_CSVIN_MAX_FIELD bytes, a record of more than CXW_CSVIN_MAX_FIELDS
 * fields, a malformed quote (a quote inside an unquoted field, text after a
 * closing quote), an unterminated quoted field at the end of the input. The
 * bad record is reported (cxw_csvin_next() returns -1 with a message naming
 * the line) and reading continues with the next record, so one bad row never
 * hides the rest of the file. Memory stays bounded by those limits whatever
 * the input.
 */
#ifndef CXONE_CSVIN_H
#define CXONE_CSVIN_H

#include <stddef.h>

/** Longest field accepted, in bytes (after unquoting). */
#define CXW_CSVIN_MAX_FIELD (64 * 1024)
/** Most fields accepted in one record. */
#define CXW_CSVIN_MAX_FIELDS 256

/** One record. Owned by the reader; valid until the next call on it. */
typedef struct cxw_csv_record_s {
        char **fields;      /**< count fields, each NUL-terminated (may hold NULs) */
        size_t *lens;       /**< the length of each field in bytes */
        size_t count;       /**< number of fields, 1..CXW_CSVIN_MAX_FIELDS */
        unsigned long line; /**< 1-based line the record starts on */
} cxw_csv_record_t;

/** A reader; opaque. */
typedef struct cxw_csvin_s cxw_csvin_t;

/**
 * @brief Opens a CSV file for reading.
 * @param path the file; also used as the name in messages ("path:line: ...").
 * @param errstr receives the reason on failure.
 * @returns a reader, or NULL (errstr says why: cannot open, out of memory).
 * @remark the caller owns the reader: cxw_csvin_close().
 */
cxw_csvin_t *cxw_csvin_open(const char *path, char *errstr, size_t errstr_size);

/**
 * @brief Opens a reader over a memory buffer (for tests and small inputs).
 * @param buf the bytes; not copied: they must outlive the reader.
 * @param name used in messages in place of a path.
 * @returns a reader, or NULL on out of memory (errstr says so).
 * @remark the caller owns the reader: cxw_csvin_close().
 */
cxw_csvin_t *cxw_csvin_open_mem(const void *buf, size_t len, const char *name,
                                char *errstr, size_t errstr_size);

/**
 * @brief Sets the field separator (default ',').
 * @param delim any byte but '"', CR, LF and NUL: ';' and '\t' are the usual.
 * @returns 0, or -1 when delim is not allowed or reading has started.
 */
int cxw_csvin_set_delimiter(cxw_csvin_t *r, char delim);

/**
 * @brief Guesses the separator of a file read with another one, from its
 *        header record: a header read as one field that holds ';' or tabs
 *        was most likely separated by them.
 * @returns ';' or '\t' (the more frequent in the field), or '\0' when the
 *          header has more than one field or holds neither.
 */
char cxw_csvin_guess_delimiter(const cxw_csv_record_t *header);

/**
 * @brief Reads the next record.
 * @param rec receives the record on 1 (owned by the reader, valid until the
 *        next call); set to NULL otherwise.
 * @param errstr on -1 and -2 receives "name:line: reason".
 * @returns 1 a record; 0 end of input; -1 a bad record was skipped (errstr
 *          names its line, cxw_csvin_line() gives it; call again for the
 *          next); -2 an I/O error or out of memory (stop reading).
 */
int cxw_csvin_next(cxw_csvin_t *r, cxw_csv_record_t **rec, char *errstr,
                   size_t errstr_size);

/**
 * @brief The start line of the record last returned or rejected by
 *        cxw_csvin_next() (0 before the first).
 */
unsigned long cxw_csvin_line(const cxw_csvin_t *r);

/** @brief The name used in messages (the path, or the name given). */
const char *cxw_csvin_name(const cxw_csvin_t *r);

/** @brief Closes the reader and frees everything; NULL-safe. */
void cxw_csvin_close(cxw_csvin_t *r);

#endif
