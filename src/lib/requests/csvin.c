/* csvin.c: a streaming RFC 4180 reader over libcsv with line numbers.
 *
 * libcsv does the parsing (quotes, doubled quotes, embedded separators), but
 * says nothing about lines and cannot resume after an error. So the input is
 * fed to it one byte at a time while a small shadow state machine follows the
 * same grammar: it knows the line each record starts on, how long the current
 * field is (to refuse an oversized one before libcsv buffers it), and, after
 * an error, where the broken record ends so that reading resumes with the
 * next one. Byte-at-a-time costs a function call per byte, which is cheap
 * next to what is done with each record (a Kafka message). */
#include "cxone/requests/csvin.h"

#include <csv.h>
#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHUNK_SIZE (64 * 1024)

/* The shadow grammar's states (RFC 4180). */
enum {
        S_FIELD_START = 0, /* at the start of a field */
        S_UNQUOTED,        /* inside an unquoted field */
        S_QUOTED,          /* inside a quoted field */
        S_QUOTE_SEEN,      /* a quote inside a quoted field: end or escape */
};

struct cxw_csvin_s {
        char *name;
        FILE *fp;                 /* NULL for a memory reader */
        const unsigned char *mem; /* the memory reader's input */
        size_t mem_len;
        unsigned char *chunk;    /* the file reader's buffer */
        const unsigned char *in; /* current input window */
        size_t in_len, in_pos;
        int input_done; /* no more bytes to come */
        int finished;   /* csv_fini done, 0 from now on */
        int bom_checked;
        int started;         /* cxw_csvin_next() was called */
        unsigned char delim; /* the field separator, ',' unless set */

        struct csv_parser parser;
        int parser_live;

        /* Position. */
        unsigned long line; /* line of the next byte */
        int prev_cr;

        /* Shadow grammar. */
        int state;
        int in_record;
        unsigned long quote_line; /* where the current quoted field opened */
        size_t field_len;         /* content bytes of the current field */
        int skipping;             /* after an error: discard to record end */

        /* The record being built. */
        cxw_csv_record_t rec;
        size_t nfields; /* fields seen (may exceed what is kept) */
        int rec_done;   /* libcsv or the skipper ended a record */
        int rec_bad;
        char rec_err[200];
        int want_skip; /* a callback asks to skip the rest */
        int oom;
        unsigned long last_line; /* start line of the record last given */
};

static int never_space(unsigned char c)
{
        (void)c;
        return 0; /* RFC 4180: spaces are part of the field */
}

static int parser_init(cxw_csvin_t *r)
{
        if (csv_init(&r->parser, CSV_STRICT | CSV_STRICT_FINI | CSV_APPEND_NULL) != 0)
                return -1;
        csv_set_space_func(&r->parser, never_space);
        csv_set_delim(&r->parser, r->delim);
        r->parser_live = 1;
        return 0;
}

static void parser_reset(cxw_csvin_t *r)
{
        if (r->parser_live)
                csv_free(&r->parser);
        r->parser_live = 0;
        if (parser_init(r) != 0)
                r->oom = 1;
}

static void rec_clear(cxw_csvin_t *r)
{
        for (size_t i = 0; i < r->rec.count; i++)
                free(r->rec.fields[i]);
        r->rec.count = 0;
        r->nfields = 0;
        r->rec_done = 0;
        r->rec_bad = 0;
        r->rec_err[0] = '\0';
        r->want_skip = 0;
}

__attribute__((format(printf, 2, 3))) static void rec_fail(cxw_csvin_t *r,
                                                           const char *fmt, ...)
{
        va_list ap;

        if (r->rec_bad)
                return; /* the first problem is the one reported */
        r->rec_bad = 1;
        va_start(ap, fmt);
        vsnprintf(r->rec_err, sizeof(r->rec_err), fmt, ap);
        va_end(ap);
}

/* libcsv: a field ended. */
static void on_field(void *s, size_t len, void *data)
{
        cxw_csvin_t *r = data;
        char *copy;

        r->field_len = 0;
        r->nfields++;
        if (r->rec_bad)
                return;
        if (r->nfields > CXW_CSVIN_MAX_FIELDS) {
                rec_fail(r, "more than %d fields", CXW_CSVIN_MAX_FIELDS);
                r->want_skip = 1;
                return;
        }
        copy = malloc(len + 1);
        if (!copy) {
                r->oom = 1;
                return;
        }
        if (len > 0 && s)
                memcpy(copy, s, len);
        copy[len] = '\0';
        r->rec.fields[r->rec.count] = copy;
        r->rec.lens[r->rec.count] = len;
        r->rec.count++;
}

/* libcsv: a record ended. */
static void on_record(int c, void *data)
{
        cxw_csvin_t *r = data;

        (void)c;
        r->rec_done = 1;
}

/* The shadow grammar. Returns 1 when c ends the record. Counts content
 * bytes of the current field in field_len. */
static int shadow_step(cxw_csvin_t *r, unsigned char c)
{
        int term = (c == '\r' || c == '\n');

        switch (r->state) {
        case S_FIELD_START:
                r->field_len = 0;
                if (c == '"') {
                        r->state = S_QUOTED;
                        r->quote_line = r->line;
                } else if (c == r->delim) {
                        r->state = S_FIELD_START;
                } else if (term) {
                        return 1;
                } else {
                        r->state = S_UNQUOTED;
                        r->field_len = 1;
                }
                return 0;
        case S_UNQUOTED:
                if (c == r->delim)
                        r->state = S_FIELD_START;
                else if (term)
                        return 1;
                else
                        r->field_len++;
                return 0;
        case S_QUOTED:
                if (c == '"')
                        r->state = S_QUOTE_SEEN;
                else
                        r->field_len++;
                return 0;
        default: /* S_QUOTE_SEEN */
                if (c == '"') {
                        r->state = S_QUOTED;
                        r->field_len++;
                } else if (c == r->delim) {
                        r->state = S_FIELD_START;
                } else if (term) {
                        return 1;
                } else {
                        r->state = S_UNQUOTED; /* malformed; libcsv says so */
                }
                return 0;
        }
}

static void count_line(cxw_csvin_t *r, unsigned char c)
{
        if (c == '\n') {
                if (!r->prev_cr)
                        r->line++;
                r->prev_cr = 0;
        } else if (c == '\r') {
                r->line++;
                r->prev_cr = 1;
        } else {
                r->prev_cr = 0;
        }
}

/* Feeds one byte. Afterwards r->rec_done says whether a record (good or bad)
 * is complete. */
static void feed(cxw_csvin_t *r, unsigned char c)
{
        int ends;

        if (!r->in_record) {
                if (c == '\r' || c == '\n') {
                        count_line(r, c); /* an empty line, or CRLF's LF */
                        return;
                }
                r->in_record = 1;
                r->rec.line = r->line;
                r->state = S_FIELD_START;
        }
        ends = shadow_step(r, c);
        if (r->skipping) {
                if (ends) {
                        r->skipping = 0;
                        r->in_record = 0;
                        r->rec_done = 1;
                }
                count_line(r, c);
                return;
        }
        if (r->field_len > CXW_CSVIN_MAX_FIELD) {
                if (r->state == S_QUOTED)
                        rec_fail(r,
                                 "field %zu longer than %d bytes (quoted field opened "
                                 "on line %lu: a missing closing quote?)",
                                 r->nfields + 1, CXW_CSVIN_MAX_FIELD, r->quote_line);
                else
                        rec_fail(r, "field %zu longer than %d bytes", r->nfields + 1,
                                 CXW_CSVIN_MAX_FIELD);
                r->want_skip = 1;
        } else if (csv_parse(&r->parser, &c, 1, on_field, on_record, r) != 1) {
                if (csv_error(&r->parser) == CSV_EPARSE)
                        rec_fail(r,
                                 "malformed quote in field %zu (a quote inside an "
                                 "unquoted field, or text after a closing quote)",
                                 r->nfields + 1);
                else
                        r->oom = 1;
                r->want_skip = 1;
        }
        if (ends) {
                /* libcsv has ended the record too (on_record) unless a
                 * problem stopped it; either way the record is over. */
                r->in_record = 0;
                r->rec_done = 1;
                if (r->want_skip)
                        parser_reset(r);
                r->want_skip = 0;
        } else if (r->want_skip) {
                parser_reset(r);
                r->want_skip = 0;
                r->skipping = 1;
        }
        count_line(r, c);
}

/* Makes input available; returns 0 ok, -1 I/O error. */
static int refill(cxw_csvin_t *r)
{
        size_t n;

        if (r->in_pos < r->in_len || r->input_done)
                return 0;
        if (!r->fp) {
                r->input_done = 1;
                return 0;
        }
        n = fread(r->chunk, 1, CHUNK_SIZE, r->fp);
        if (n == 0) {
                if (ferror(r->fp))
                        return -1;
                r->input_done = 1;
        }
        r->in = r->chunk;
        r->in_len = n;
        r->in_pos = 0;
        return 0;
}

static cxw_csvin_t *reader_new(const char *name, char *errstr, size_t errstr_size)
{
        cxw_csvin_t *r = calloc(1, sizeof(*r));

        if (!r)
                goto fail;
        r->delim = ',';
        r->name = strdup(name ? name : "(csv)");
        r->rec.fields = calloc(CXW_CSVIN_MAX_FIELDS, sizeof(*r->rec.fields));
        r->rec.lens = calloc(CXW_CSVIN_MAX_FIELDS, sizeof(*r->rec.lens));
        if (!r->name || !r->rec.fields || !r->rec.lens || parser_init(r) != 0)
                goto fail;
        r->line = 1;
        return r;
fail:
        snprintf(errstr, errstr_size, "%s: out of memory", name ? name : "(csv)");
        cxw_csvin_close(r);
        return NULL;
}

cxw_csvin_t *cxw_csvin_open(const char *path, char *errstr, size_t errstr_size)
{
        cxw_csvin_t *r = reader_new(path, errstr, errstr_size);

        if (!r)
                return NULL;
        r->chunk = malloc(CHUNK_SIZE);
        if (!r->chunk) {
                snprintf(errstr, errstr_size, "%s: out of memory", path);
                goto fail;
        }
        r->fp = fopen(path, "rb");
        if (!r->fp) {
                snprintf(errstr, errstr_size, "%s: %s", path, strerror(errno));
                goto fail;
        }
        return r;
fail:
        cxw_csvin_close(r);
        return NULL;
}

cxw_csvin_t *cxw_csvin_open_mem(const void *buf, size_t len, const char *name,
                                char *errstr, size_t errstr_size)
{
        cxw_csvin_t *r = reader_new(name, errstr, errstr_size);

        if (!r)
                return NULL;
        r->mem = buf;
        r->mem_len = len;
        r->in = buf;
        r->in_len = buf ? len : 0;
        return r;
}

/* Skips a UTF-8 BOM at the very start of the input. */
static int skip_bom(cxw_csvin_t *r)
{
        static const unsigned char bom[3] = {0xEF, 0xBB, 0xBF};

        r->bom_checked = 1;
        if (r->fp) {
                /* The first chunk may be short only at EOF, so one read
                 * settles it. */
                if (refill(r) != 0)
                        return -1;
        }
        if (r->in_len - r->in_pos >= 3 && memcmp(r->in + r->in_pos, bom, 3) == 0)
                r->in_pos += 3;
        return 0;
}

static int give(cxw_csvin_t *r, cxw_csv_record_t **rec, char *errstr, size_t errstr_size)
{
        r->last_line = r->rec.line;
        if (r->oom) {
                snprintf(errstr, errstr_size, "%s:%lu: out of memory", r->name,
                         r->rec.line);
                return -2;
        }
        if (r->rec_bad) {
                snprintf(errstr, errstr_size, "%s:%lu: %s", r->name, r->rec.line,
                         r->rec_err);
                return -1;
        }
        *rec = &r->rec;
        return 1;
}

int cxw_csvin_next(cxw_csvin_t *r, cxw_csv_record_t **rec, char *errstr,
                   size_t errstr_size)
{
        *rec = NULL;
        if (errstr_size > 0)
                errstr[0] = '\0';
        r->started = 1;
        if (r->finished)
                return 0;
        rec_clear(r);
        if (!r->bom_checked && skip_bom(r) != 0)
                goto io_error;

        for (;;) {
                if (refill(r) != 0)
                        goto io_error;
                if (r->in_pos >= r->in_len)
                        break; /* end of input */
                while (r->in_pos < r->in_len) {
                        feed(r, r->in[r->in_pos++]);
                        if (r->oom)
                                return give(r, rec, errstr, errstr_size);
                        if (r->rec_done)
                                return give(r, rec, errstr, errstr_size);
                }
        }

        /* End of input: finish a last record without a line end. */
        r->finished = 1;
        if (!r->in_record)
                return 0;
        r->in_record = 0;
        if (!r->skipping && csv_fini(&r->parser, on_field, on_record, r) != 0) {
                if (csv_error(&r->parser) == CSV_EPARSE)
                        rec_fail(r, "unterminated quoted field (opened on line %lu)",
                                 r->quote_line);
                else
                        r->oom = 1;
        }
        r->skipping = 0;
        return give(r, rec, errstr, errstr_size);

io_error:
        r->finished = 1;
        snprintf(errstr, errstr_size, "%s: read error: %s", r->name, strerror(errno));
        return -2;
}

int cxw_csvin_set_delimiter(cxw_csvin_t *r, char delim)
{
        if (!r || r->started || delim == '"' || delim == '\r' || delim == '\n' ||
            delim == '\0')
                return -1;
        r->delim = (unsigned char)delim;
        csv_set_delim(&r->parser, r->delim);
        return 0;
}

char cxw_csvin_guess_delimiter(const cxw_csv_record_t *header)
{
        size_t semi = 0, tab = 0;

        if (!header || header->count != 1)
                return '\0';
        for (size_t i = 0; i < header->lens[0]; i++) {
                semi += header->fields[0][i] == ';';
                tab += header->fields[0][i] == '\t';
        }
        if (semi == 0 && tab == 0)
                return '\0';
        return tab > semi ? '\t' : ';';
}

unsigned long cxw_csvin_line(const cxw_csvin_t *r)
{
        return r ? r->last_line : 0;
}

const char *cxw_csvin_name(const cxw_csvin_t *r)
{
        return r ? r->name : "";
}

void cxw_csvin_close(cxw_csvin_t *r)
{
        if (!r)
                return;
        if (r->rec.fields) {
                for (size_t i = 0; i < r->rec.count; i++)
                        free(r->rec.fields[i]);
        }
        free(r->rec.fields);
        free(r->rec.lens);
        if (r->parser_live)
                csv_free(&r->parser);
        if (r->fp)
                fclose(r->fp);
        free(r->chunk);
        free(r->name);
        free(r);
}
