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
        ctl_batch_t b; /* first: arguments, producer, requests, outcomes */
        const char *path;

        /* Options of this command. */
        char delim;          /* --delimiter, '\0' = not given (',') */
        const char *map;     /* --map 'Column=field,...', or NULL */
        bool strict;         /* --strict: unknown columns stop the import */
        bool warned_charset; /* the hint about the file's encoding was given */

        /* CSV columns: the JSON field name of each, or NULL for contactId
         * and for ignored columns (skip[i]). */
        char **columns;
        bool *skip;
        size_t ncols;
        size_t id_col;
} import_t;

static int import_option(ctl_batch_t *b, const char *a, const char *v);

static const ctl_batch_kind_t contacts_kind = {
    .cmd = "contacts import",
    .file_arg = "FILE.csv",
    .noun = "contact",
    .outcome_type = "contact-update",
    .pos_kind = CTL_POS_LINE,
    .idempotency_key = false,
    .option = import_option,
    .option_usage = " [--delimiter C] [--map 'COLUMN=field,...'] [--strict]",
};

/* The hint for a file that is not UTF-8: what it most likely is, and how to
 * convert it. */
#define CHARSET_HINT                                                                     \
        "the file is not UTF-8; it is probably Latin-1 or Windows-1252 (a "              \
        "spreadsheet's "                                                                 \
        "plain \"CSV\"): save it as \"CSV UTF-8\", or convert it with "                  \
        "`iconv -f WINDOWS-1252 -t UTF-8 %s > utf8.csv`"

/* ---- options ------------------------------------------------------------ */

static int import_option(ctl_batch_t *b, const char *a, const char *v)
{
        import_t *im = (import_t *)b; /* b is its first member */

        if (!strcmp(a, "--strict")) {
                im->strict = true;
                return 1;
        }
        if (!strcmp(a, "--map")) {
                if (!v || !*v) {
                        fprintf(stderr, "cxonectl: --map: 'COLUMN=field,...' expected\n");
                        return -1;
                }
                im->map = v;
                return 2;
        }
        if (!strcmp(a, "--delimiter")) {
                if (v && (!strcmp(v, "\\t") || !strcmp(v, "tab")))
                        v = "\t";
                if (!v || strlen(v) != 1 || strchr("\"\r\n", v[0])) {
                        fprintf(stderr, "cxonectl: --delimiter: one character, e.g. ';' "
                                        "or tab (\\t)\n");
                        return -1;
                }
                im->delim = v[0];
                return 2;
        }
        return 0;
}

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

/* The field of cxone.contacts.fields (or contactId) that name gives,
 * compared ignoring case, spaces, '_' and '-', or NULL. */
static const char *known_field(const cxw_config_t *cfg, const char *name)
{
        char norm[MAX_COLUMN_NAME + 1], fnorm[MAX_COLUMN_NAME + 1];

        normalise(name, norm, sizeof(norm));
        if (!strcmp(norm, "contactid"))
                return "contactId";
        for (size_t i = 0; i < cfg->contact_fields.cnt; i++) {
                normalise(cfg->contact_fields.v[i], fnorm, sizeof(fnorm));
                if (!strcmp(norm, fnorm))
                        return cfg->contact_fields.v[i];
        }
        return NULL;
}

/* The field a header column gives: the alias table, then the updatable
 * fields by name; NULL for a column to ignore. */
static const char *map_column(const cxw_config_t *cfg, const char *name)
{
        char norm[MAX_COLUMN_NAME + 1];

        normalise(name, norm, sizeof(norm));
        for (size_t i = 0; i < sizeof(aliases) / sizeof(aliases[0]); i++) {
                if (!strcmp(norm, aliases[i].alias))
                        return known_field(cfg, aliases[i].field);
        }
        return known_field(cfg, name);
}

/* "firstName, lastName, email": the updatable fields, for messages. */
static void fields_list(const cxw_config_t *cfg, char *buf, size_t size)
{
        size_t off = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < cfg->contact_fields.cnt && off < size; i++) {
                int n = snprintf(buf + off, size - off, "%s%s", i ? ", " : "",
                                 cfg->contact_fields.v[i]);
                if (n < 0)
                        break;
                off += (size_t)n;
        }
}

/* Applies --map 'Column=field,...' to the header: field_of[i] is set for
 * every column a rule names. Returns 0, or -1 after reporting a rule that
 * names no column or a field that is not updatable. */
static int apply_map(import_t *im, const cxw_csv_record_t *rec, const char **field_of)
{
        const cxw_config_t *cfg = im->b.cfg;
        char *copy = strdup(im->map), *save = NULL, list[512];
        int rc = -1;

        if (!copy) {
                fprintf(stderr, "cxonectl: out of memory\n");
                return -1;
        }
        for (char *rule = strtok_r(copy, ",", &save); rule;
             rule = strtok_r(NULL, ",", &save)) {
                char *eq = strchr(rule, '='), from[MAX_COLUMN_NAME + 1],
                     cnorm[MAX_COLUMN_NAME + 1];
                const char *field;
                bool found = false;

                if (!eq || eq == rule || !eq[1]) {
                        fprintf(stderr, "cxonectl: --map: '%.256s' is not COLUMN=field\n",
                                rule);
                        goto out;
                }
                *eq = '\0';
                field = known_field(cfg, eq + 1);
                if (!field) {
                        fields_list(cfg, list, sizeof(list));
                        fprintf(
                            stderr,
                            "cxonectl: --map %.256s=%.256s: '%.256s' is not contactId "
                            "or an updatable field (cxone.contacts.fields: %s; give "
                            "the worker's configuration with -c if it has more)\n",
                            rule, eq + 1, eq + 1, list);
                        goto out;
                }
                normalise(rule, from, sizeof(from));
                for (size_t i = 0; i < rec->count; i++) {
                        normalise(rec->fields[i], cnorm, sizeof(cnorm));
                        if (!strcmp(cnorm, from)) {
                                field_of[i] = field;
                                found = true;
                        }
                }
                if (!found) {
                        fprintf(stderr,
                                "%s:%lu: --map %.256s=%.256s: no column '%.256s'\n",
                                im->path, rec->line, rule, eq + 1, rule);
                        goto out;
                }
        }
        rc = 0;
out:
        free(copy);
        return rc;
}

/* Lists the ignored columns ("Company, Notes, Phone") into buf. */
static void ignored_list(const import_t *im, const cxw_csv_record_t *rec, char *buf,
                         size_t size)
{
        size_t off = 0;

        buf[0] = '\0';
        for (size_t i = 0; i < im->ncols && off < size; i++) {
                int n;

                if (!im->skip[i])
                        continue;
                n = snprintf(buf + off, size - off, "%s%.64s", off ? ", " : "",
                             rec->fields[i]);
                if (n < 0)
                        break;
                off += (size_t)n;
        }
}

static int read_header(import_t *im, const cxw_csv_record_t *rec)
{
        const cxw_config_t *cfg = im->b.cfg;
        const char *name = im->path;
        const char **field_of = NULL;
        size_t nskip = 0;
        bool have_id = false;
        char guess = cxw_csvin_guess_delimiter(rec);
        char list[1024], fields[512];
        int rc = -1;

        if (guess && !im->delim) {
                fprintf(stderr,
                        "%s:%lu: the header is one column holding %s: the file looks "
                        "%s-separated; import it with --delimiter %s\n",
                        name, rec->line, guess == ';' ? "';'" : "tabs",
                        guess == ';' ? "semicolon" : "tab", guess == ';' ? "';'" : "tab");
                return -1;
        }
        im->columns = calloc(rec->count, sizeof(*im->columns));
        im->skip = calloc(rec->count, sizeof(*im->skip));
        field_of = calloc(rec->count, sizeof(*field_of));
        if (!im->columns || !im->skip || !field_of)
                goto oom;
        im->ncols = rec->count;
        for (size_t i = 0; i < rec->count; i++) {
                const char *col = rec->fields[i];
                json_t *probe;

                if (rec->lens[i] == 0 || rec->lens[i] > MAX_COLUMN_NAME ||
                    strlen(col) != rec->lens[i]) {
                        fprintf(stderr,
                                "%s:%lu: column %zu: a name of 1-%d bytes is needed\n",
                                name, rec->line, i + 1, MAX_COLUMN_NAME);
                        goto out;
                }
                probe = json_string(col);
                if (!probe) {
                        fprintf(
                            stderr,
                            "%s:%lu: column %zu: name is not valid UTF-8: " CHARSET_HINT
                            "\n",
                            name, rec->line, i + 1, name);
                        goto out;
                }
                json_decref(probe);
        }
        if (im->map && apply_map(im, rec, field_of) != 0)
                goto out;
        for (size_t i = 0; i < rec->count; i++) {
                const char *field =
                    field_of[i] ? field_of[i] : map_column(cfg, rec->fields[i]);

                if (!field) {
                        im->skip[i] = true; /* not contactId, not updatable */
                        nskip++;
                        continue;
                }
                for (size_t j = 0; j < i; j++) {
                        const char *other = im->columns[j] ? im->columns[j]
                                            : im->skip[j]  ? NULL
                                                           : "contactId";
                        if (other && !strcmp(other, field)) {
                                fprintf(stderr,
                                        "%s:%lu: columns %zu and %zu both give %s\n",
                                        name, rec->line, j + 1, i + 1, field);
                                goto out;
                        }
                }
                if (!strcmp(field, "contactId")) {
                        have_id = true;
                        im->id_col = i;
                        continue; /* columns[i] stays NULL */
                }
                im->columns[i] = strdup(field);
                if (!im->columns[i])
                        goto oom;
        }
        if (!have_id) {
                fprintf(stderr,
                        "%s:%lu: no contactId column (contactId, id or contact; or "
                        "--map COLUMN=contactId)\n",
                        name, rec->line);
                goto out;
        }
        if (nskip) {
                ignored_list(im, rec, list, sizeof(list));
                fields_list(cfg, fields, sizeof(fields));
                if (im->strict) {
                        fprintf(
                            stderr,
                            "%s:%lu: unknown columns: %s (neither contactId nor a field "
                            "of cxone.contacts.fields: %s); rename them with --map "
                            "COLUMN=field, or leave out --strict to ignore them\n",
                            name, rec->line, list, fields);
                        goto out;
                }
                fprintf(stderr,
                        "%s: ignoring columns: %s (neither contactId nor a field of "
                        "cxone.contacts.fields: %s)\n",
                        name, list, fields);
        }
        rc = 0;
        goto out;
oom:
        fprintf(stderr, "cxonectl: out of memory\n");
out:
        free(field_of);
        return rc;
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
                        /* The first such row says what the file likely is. */
                        if (!im->warned_charset)
                                fprintf(stderr,
                                        "%s:%lu: %s is not valid UTF-8; row "
                                        "skipped: " CHARSET_HINT "\n",
                                        im->path, rec->line, im->columns[i], im->path);
                        else
                                fprintf(stderr,
                                        "%s:%lu: %s is not valid UTF-8; row skipped\n",
                                        im->path, rec->line, im->columns[i]);
                        im->warned_charset = true;
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
        if (im->delim && cxw_csvin_set_delimiter(in, im->delim) != 0) {
                fprintf(stderr, "cxonectl: --delimiter: not usable\n");
                cxw_csvin_close(in);
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
        free(im.skip);
        ctl_batch_clear(&im.b);
        return rc;
}
