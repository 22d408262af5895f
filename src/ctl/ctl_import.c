/* ctl_import.c: `cxonectl contacts import FILE.csv`: one contact-update
 * request per CSV row to the contact-updates topic. Producing, delivery
 * tracking and --wait are ctl_batch.c's; here the CSV header and rows. */
#include "ctl.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "cxone/requests/csvin.h"

#define MAX_CONTACT_ID  128
#define MAX_COLUMN_NAME 256

typedef struct {
        ctl_batch_t b; /* arguments, producer, requests, outcomes */
        const char *path;

        /* CSV columns: the JSON field name of each, or NULL for contactId. */
        char **columns;
        size_t ncols;
        size_t id_col;
} import_t;

static const ctl_batch_kind_t contacts_kind = {
    .cmd = "contacts import",
    .file_arg = "FILE.csv",
    .noun = "contact",
    .outcome_type = "contact-update",
    .pos_kind = CTL_POS_LINE,
    .idempotency_key = false,
};

/* ---- CSV header and rows ------------------------------------------------ */

/* The header alias table: a normalised column name and the field it maps to. */
static const struct {
        const char *alias;
        const char *field;
} aliases[] = {
    {"contactid", "contactId"}, {"id", "contactId"},    {"contact", "contactId"},
    {"firstname", "firstName"}, {"first", "firstName"}, {"givenname", "firstName"},
    {"lastname", "lastName"},   {"last", "lastName"},   {"surname", "lastName"},
    {"familyname", "lastName"}, {"email", "email"},     {"emailaddress", "email"},
    {"mail", "email"},
};

/* Lower-case ASCII, without ' ', '_' and '-'. */
static void normalise(const char *s, char *out, size_t size)
{
        size_t n = 0;

        for (; *s && n + 1 < size; s++) {
                char c = *s;
                if (c == ' ' || c == '_' || c == '-')
                        continue;
                out[n++] = (c >= 'A' && c <= 'Z') ? (char)(c - 'A' + 'a') : c;
        }
        out[n] = '\0';
}

static const char *map_column(const char *name)
{
        char norm[MAX_COLUMN_NAME + 1];

        normalise(name, norm, sizeof(norm));
        for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
                if (!strcmp(norm, aliases[i].alias))
                        return aliases[i].field;
        }
        return NULL;
}

static int read_header(import_t *im, const cxw_csv_record_t *rec)
{
        const char *name = im->path;
        bool have_id = false;

        im->columns = calloc(rec->count, sizeof(*im->columns));
        if (!im->columns)
                return -1;
        im->ncols = rec->count;
        for (size_t i = 0; i < rec->count; i++) {
                const char *col = rec->fields[i];
                const char *field = map_column(col);
                json_t *probe;

                if (rec->lens[i] == 0 || rec->lens[i] > MAX_COLUMN_NAME ||
                    strlen(col) != rec->lens[i]) {
                        fprintf(stderr,
                                "%s:%lu: column %zu: a name of 1-%d bytes is needed\n",
                                name, rec->line, i + 1, MAX_COLUMN_NAME);
                        return -1;
                }
                probe = json_string(col);
                if (!probe) {
                        fprintf(stderr, "%s:%lu: column %zu: name is not valid UTF-8\n",
                                name, rec->line, i + 1);
                        return -1;
                }
                json_decref(probe);
                if (!field)
                        field = col; /* passed through; the worker judges it */
                for (size_t j = 0; j < i; j++) {
                        const char *other = im->columns[j] ? im->columns[j] : "contactId";
                        if (!strcmp(other, field)) {
                                fprintf(stderr,
                                        "%s:%lu: columns %zu and %zu both give %s\n",
                                        name, rec->line, j + 1, i + 1, field);
                                return -1;
                        }
                }
                if (!strcmp(field, "contactId")) {
                        have_id = true;
                        im->id_col = i;
                        continue; /* columns[i] stays NULL */
                }
                im->columns[i] = strdup(field);
                if (!im->columns[i])
                        return -1;
        }
        if (!have_id) {
                fprintf(stderr,
                        "%s:%lu: no contactId column (contactId, id or contact)\n", name,
                        rec->line);
                return -1;
        }
        return 0;
}

static bool contact_id_ok(const char *s, size_t len)
{
        if (len == 0 || len > MAX_CONTACT_ID)
                return false;
        for (size_t i = 0; i < len; i++) {
                char c = s[i];
                if (!((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
                      (c >= '0' && c <= '9') || c == '.' || c == '_' || c == '-'))
                        return false;
        }
        return true;
}

/* The request value of one row, or NULL after reporting why on stderr. */
static char *row_value(import_t *im, const cxw_csv_record_t *rec)
{
        json_t *obj = NULL;
        char *out = NULL;

        if (rec->count != im->ncols) {
                fprintf(stderr, "%s:%lu: expected %zu fields, found %zu; row skipped\n",
                        im->path, rec->line, im->ncols, rec->count);
                return NULL;
        }
        if (rec->lens[im->id_col] == 0) {
                fprintf(stderr, "%s:%lu: no contactId; row skipped\n", im->path,
                        rec->line);
                return NULL;
        }
        if (!contact_id_ok(rec->fields[im->id_col], rec->lens[im->id_col])) {
                fprintf(stderr,
                        "%s:%lu: contactId '%.64s' is not 1-%d of A-Z a-z 0-9 . _ -; row "
                        "skipped\n",
                        im->path, rec->line, rec->fields[im->id_col], MAX_CONTACT_ID);
                return NULL;
        }
        obj = json_object();
        if (!obj || json_object_set_new(obj, "contactId",
                                        json_string(rec->fields[im->id_col])) != 0)
                goto oom;
        for (size_t i = 0; i < im->ncols; i++) {
                json_t *v;

                if (!im->columns[i])
                        continue;
                v = json_stringn(rec->fields[i], rec->lens[i]);
                if (!v) {
                        fprintf(
                            stderr,
                            "%s:%lu: %s is not valid UTF-8 (save the file as UTF-8); row "
                            "skipped\n",
                            im->path, rec->line, im->columns[i]);
                        json_decref(obj);
                        return NULL;
                }
                if (json_object_set_new(obj, im->columns[i], v) != 0)
                        goto oom;
        }
        out = json_dumps(obj, JSON_COMPACT);
        if (!out)
                goto oom;
        json_decref(obj);
        return out;
oom:
        fprintf(stderr, "%s:%lu: out of memory; row skipped\n", im->path, rec->line);
        json_decref(obj);
        return NULL;
}

/* ---- producing ---------------------------------------------------------- */

/* Opens the CSV and reads its header. Returns the reader, or NULL after
 * reporting why (nothing has been sent then). */
static cxw_csvin_t *open_csv(import_t *im)
{
        char errstr[512];
        cxw_csv_record_t *rec;
        cxw_csvin_t *in = cxw_csvin_open(im->path, errstr, sizeof(errstr));
        int rc;

        if (!in) {
                fprintf(stderr, "cxonectl: %s\n", errstr);
                return NULL;
        }
        rc = cxw_csvin_next(in, &rec, errstr, sizeof(errstr));
        if (rc == 0)
                fprintf(stderr, "%s: empty file: a header line is needed\n", im->path);
        else if (rc < 0)
                fprintf(stderr, "%s (the header)\n", errstr);
        if (rc <= 0 || read_header(im, rec) != 0) {
                cxw_csvin_close(in);
                return NULL;
        }
        return in;
}

/* Produces the good rows after the header. Returns 0, or -1 on a fatal
 * problem (read error, Kafka refusing messages, interrupted). */
static int produce_rows(import_t *im, cxw_csvin_t *in)
{
        char errstr[512];
        cxw_csv_record_t *rec;
        int rc;

        while (!ctl_stop) {
                char *value;

                rc = cxw_csvin_next(in, &rec, errstr, sizeof(errstr));
                if (rc == 0)
                        break;
                if (rc == -2) {
                        fprintf(stderr, "%s\n", errstr);
                        return -1;
                }
                if (rc == -1) {
                        fprintf(stderr, "%s; row skipped\n", errstr);
                        im->b.skipped++;
                        continue;
                }
                value = row_value(im, rec);
                if (!value) {
                        im->b.skipped++;
                        continue;
                }
                rc = ctl_batch_produce(&im->b, rec->line, rec->fields[im->id_col],
                                       rec->lens[im->id_col], value, strlen(value));
                free(value);
                if (rc < 0)
                        return -1;
        }
        return ctl_stop ? -1 : 0;
}

int ctl_import_main(const cxw_config_t *cfg, int argc, char **argv)
{
        import_t im;
        cxw_csvin_t *in = NULL;
        int rc = CTL_EXIT_ERROR, prc;

        memset(&im, 0, sizeof(im));
        prc = ctl_batch_init(&im.b, cfg, &contacts_kind, cfg->topic_contacts, argc, argv);
        if (prc != 0)
                return prc > 0 ? CTL_EXIT_OK : CTL_EXIT_ERROR;
        im.path = im.b.path;

        in = open_csv(&im);
        if (!in)
                goto out;
        if (ctl_batch_start(&im.b) != 0)
                goto out;
        prc = produce_rows(&im, in);
        rc = ctl_batch_finish(&im.b, prc);
out:
        fflush(stdout);
        cxw_csvin_close(in);
        for (size_t i = 0; im.columns && i < im.ncols; i++)
                free(im.columns[i]);
        free(im.columns);
        ctl_batch_clear(&im.b);
        return rc;
}
