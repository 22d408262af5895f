/* test_csvin.c: the streaming CSV reader (RFC 4180 over libcsv). */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "cxone/requests/csvin.h"

/* What one cxw_csvin_next() call gave, flattened for comparisons. */
typedef struct {
        int rc;
        unsigned long line;
        size_t count;
        char text[512]; /* fields joined by '|', or the error message */
} item_t;

#define MAX_ITEMS 64

/* Reads everything (bounded: at most MAX_ITEMS calls) from a reader. */
static size_t read_all(cxw_csvin_t *r, item_t *items)
{
        size_t n = 0;

        while (n < MAX_ITEMS) {
                cxw_csv_record_t *rec = NULL;
                char err[256];
                item_t *it = &items[n];
                int rc = cxw_csvin_next(r, &rec, err, sizeof(err));

                if (rc == 0)
                        break;
                memset(it, 0, sizeof(*it));
                it->rc = rc;
                it->line = cxw_csvin_line(r);
                if (rc == 1) {
                        assert_non_null(rec);
                        assert_int_equal(rec->line, it->line);
                        it->count = rec->count;
                        for (size_t i = 0; i < rec->count; i++) {
                                assert_int_equal(strlen(rec->fields[i]), rec->lens[i]);
                                if (i > 0)
                                        strncat(it->text, "|",
                                                sizeof(it->text) - strlen(it->text) - 1);
                                strncat(it->text, rec->fields[i],
                                        sizeof(it->text) - strlen(it->text) - 1);
                        }
                } else {
                        assert_null(rec);
                        snprintf(it->text, sizeof(it->text), "%s", err);
                }
                n++;
                if (rc == -2)
                        break;
        }
        assert_true(n < MAX_ITEMS);
        return n;
}

static size_t parse_mem(const char *csv, size_t len, item_t *items)
{
        char err[256];
        cxw_csvin_t *r = cxw_csvin_open_mem(csv, len, "t.csv", err, sizeof(err));
        size_t n;

        assert_non_null(r);
        n = read_all(r, items);
        /* After the end it stays at the end. */
        {
                cxw_csv_record_t *rec = (void *)1;
                assert_int_equal(cxw_csvin_next(r, &rec, err, sizeof(err)), 0);
                assert_null(rec);
        }
        cxw_csvin_close(r);
        return n;
}

static size_t parse_str(const char *csv, item_t *items)
{
        return parse_mem(csv, strlen(csv), items);
}

static void assert_record(const item_t *it, unsigned long line, size_t count,
                          const char *text)
{
        assert_int_equal(it->rc, 1);
        assert_int_equal(it->line, line);
        assert_int_equal(it->count, count);
        assert_string_equal(it->text, text);
}

static void assert_bad(const item_t *it, unsigned long line, const char *needle)
{
        char prefix[32];

        assert_int_equal(it->rc, -1);
        assert_int_equal(it->line, line);
        snprintf(prefix, sizeof(prefix), "t.csv:%lu: ", line);
        assert_true(strncmp(it->text, prefix, strlen(prefix)) == 0);
        if (!strstr(it->text, needle))
                fail_msg("'%s' not in '%s'", needle, it->text);
}

static void test_plain_records_with_line_numbers(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("a,b,c\n1,2,3\n", it), 2);
        assert_record(&it[0], 1, 3, "a|b|c");
        assert_record(&it[1], 2, 3, "1|2|3");
}

static void test_quotes_are_removed_and_doubled_quotes_unescaped(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("\"a\",\"say \"\"hi\"\"\",\"\"\n", it), 1);
        assert_record(&it[0], 1, 3, "a|say \"hi\"|");
}

static void test_embedded_comma_stays_in_the_field(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("c1,\"Smith, Bob\",x\n", it), 1);
        assert_record(&it[0], 1, 3, "c1|Smith, Bob|x");
}

static void
test_embedded_newline_reports_first_line_and_later_lines_stay_right(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(
            parse_str("h1,h2\nc1,\"two\nlines\"\nc2,\"three\n\nlines\"\nc3,x\n", it), 4);
        assert_record(&it[0], 1, 2, "h1|h2");
        assert_record(&it[1], 2, 2, "c1|two\nlines");
        assert_record(&it[2], 4, 2, "c2|three\n\nlines");
        assert_record(&it[3], 7, 2, "c3|x");
}

static void test_crlf_line_ends_are_not_part_of_fields(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("a,b\r\nc,\"d\r\ne\"\r\nf,g\r\n", it), 3);
        assert_record(&it[0], 1, 2, "a|b");
        assert_record(&it[1], 2, 2, "c|d\r\ne");
        assert_record(&it[2], 4, 2, "f|g");
}

static void test_bare_cr_line_ends_count_as_lines(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("a,b\rc,d\r", it), 2);
        assert_record(&it[0], 1, 2, "a|b");
        assert_record(&it[1], 2, 2, "c|d");
}

static void test_utf8_bom_at_start_is_skipped(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("\xEF\xBB\xBFid,name\nc1,x\n", it), 2);
        assert_record(&it[0], 1, 2, "id|name");
        assert_record(&it[1], 2, 2, "c1|x");
}

static void test_bom_not_at_start_is_data(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("id\n\xEF\xBB\xBFx\n", it), 2);
        assert_record(&it[1], 2, 1, "\xEF\xBB\xBFx");
}

static void test_empty_lines_are_skipped_but_counted(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("\n\na,b\n\n\r\n\nc,d\n\n", it), 2);
        assert_record(&it[0], 3, 2, "a|b");
        assert_record(&it[1], 7, 2, "c|d");
}

static void test_last_line_without_newline_is_a_record(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("a,b\nc,d", it), 2);
        assert_record(&it[1], 2, 2, "c|d");
        assert_int_equal(parse_str("a,b\n\"c\",\"d\"", it), 2);
        assert_record(&it[1], 2, 2, "c|d");
        assert_int_equal(parse_str("a,b\nc,", it), 2);
        assert_record(&it[1], 2, 2, "c|");
}

static void test_trailing_newline_adds_no_record(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("a,b\n", it), 1);
        assert_int_equal(parse_str("a,b\r\n", it), 1);
}

static void test_empty_fields_and_spaces_are_kept(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str(",, x ,\n", it), 1);
        assert_record(&it[0], 1, 4, "|| x |");
}

static void test_empty_input_gives_no_records(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("", it), 0);
        assert_int_equal(parse_str("\xEF\xBB\xBF", it), 0);
        assert_int_equal(parse_mem(NULL, 0, it), 0);
}

static void test_header_only_file_gives_one_record(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("contactId,firstName,lastName,email\n", it), 1);
        assert_record(&it[0], 1, 4, "contactId|firstName|lastName|email");
}

static void test_non_utf8_bytes_pass_through(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("c1,Z\xE9lie,\xFF\xFE\n", it), 1);
        assert_record(&it[0], 1, 3, "c1|Z\xE9lie|\xFF\xFE");
}

static void test_embedded_nul_is_kept_with_its_length(void **state)
{
        static const char csv[] = "a,b\0c\n";
        char err[128];
        cxw_csv_record_t *rec;
        cxw_csvin_t *r =
            cxw_csvin_open_mem(csv, sizeof(csv) - 1, "t.csv", err, sizeof(err));
        (void)state;

        assert_non_null(r);
        assert_int_equal(cxw_csvin_next(r, &rec, err, sizeof(err)), 1);
        assert_int_equal(rec->count, 2);
        assert_int_equal(rec->lens[1], 3);
        assert_memory_equal(rec->fields[1], "b\0c", 4);
        cxw_csvin_close(r);
}

static void test_too_many_fields_rejects_that_record_only(void **state)
{
        item_t it[MAX_ITEMS];
        char *csv = malloc(4096);
        size_t pos = 0;
        (void)state;

        assert_non_null(csv);
        pos += (size_t)sprintf(csv + pos, "a,b\n");
        for (int i = 0; i < CXW_CSVIN_MAX_FIELDS + 1; i++)
                pos += (size_t)sprintf(csv + pos, i ? ",%d" : "%d", i % 10);
        pos += (size_t)sprintf(csv + pos, ",\"q\nq\"\nc,d\n");
        /* Exactly the maximum is fine. */
        for (int i = 0; i < CXW_CSVIN_MAX_FIELDS; i++)
                pos += (size_t)sprintf(csv + pos, i ? ",x" : "x");
        pos += (size_t)sprintf(csv + pos, "\n");

        assert_int_equal(parse_mem(csv, pos, it), 4);
        assert_record(&it[0], 1, 2, "a|b");
        assert_bad(&it[1], 2, "more than 256 fields");
        assert_record(&it[2], 4, 2, "c|d");
        assert_int_equal(it[3].rc, 1);
        assert_int_equal(it[3].count, CXW_CSVIN_MAX_FIELDS);
        assert_int_equal(it[3].line, 5);
        free(csv);
}

static void test_oversized_field_rejects_that_record_only(void **state)
{
        item_t it[MAX_ITEMS];
        size_t big = CXW_CSVIN_MAX_FIELD + 1;
        char *csv = malloc(2 * big + 100);
        size_t pos = 0;
        (void)state;

        assert_non_null(csv);
        /* unquoted, too big */
        pos += (size_t)sprintf(csv + pos, "a,");
        memset(csv + pos, 'x', big);
        pos += big;
        pos += (size_t)sprintf(csv + pos, ",z\nb,ok\n\"");
        /* quoted with an embedded newline and a doubled quote, too big */
        memset(csv + pos, 'y', big - 10);
        pos += big - 10;
        pos += (size_t)sprintf(csv + pos, "\n,\"\"yyyyyyyyyyyy\"\nc,ok\n");

        assert_int_equal(parse_mem(csv, pos, it), 4);
        assert_bad(&it[0], 1, "field 2 longer than 65536 bytes");
        assert_record(&it[1], 2, 2, "b|ok");
        assert_bad(&it[2], 3, "field 1 longer than 65536 bytes");
        assert_record(&it[3], 5, 2, "c|ok");
        free(csv);
}

static void test_field_of_exactly_the_maximum_is_accepted(void **state)
{
        cxw_csv_record_t *rec;
        char err[256];
        size_t max = CXW_CSVIN_MAX_FIELD;
        char *csv = malloc(max + 8);
        cxw_csvin_t *r;
        (void)state;

        assert_non_null(csv);
        csv[0] = '"';
        memset(csv + 1, 'q', max);
        memcpy(csv + 1 + max, "\"\n", 2);
        r = cxw_csvin_open_mem(csv, max + 3, "t.csv", err, sizeof(err));
        assert_non_null(r);
        assert_int_equal(cxw_csvin_next(r, &rec, err, sizeof(err)), 1);
        assert_int_equal(rec->lens[0], max);
        cxw_csvin_close(r);
        free(csv);
}

static void test_malformed_quotes_are_reported_and_reading_continues(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("a,b\nc,\"d\"e,f\ng,h\"i\nj,k\n", it), 4);
        assert_record(&it[0], 1, 2, "a|b");
        assert_bad(&it[1], 2, "malformed quote in field 2");
        assert_bad(&it[2], 3, "malformed quote in field 2");
        assert_record(&it[3], 4, 2, "j|k");
}

static void test_unterminated_quote_at_end_is_reported_with_its_line(void **state)
{
        item_t it[MAX_ITEMS];
        (void)state;

        assert_int_equal(parse_str("a,b\nc,\"open\nd,e\n", it), 2);
        assert_record(&it[0], 1, 2, "a|b");
        assert_bad(&it[1], 2, "unterminated quoted field (opened on line 2)");
}

static void test_file_with_bom_crlf_and_multiline_field(void **state)
{
        item_t it[MAX_ITEMS];
        char err[256];
        cxw_csvin_t *r = cxw_csvin_open("data/csv/bom_crlf.csv", err, sizeof(err));
        (void)state;

        if (!r)
                fail_msg("%s", err);
        assert_int_equal(read_all(r, it), 4);
        assert_record(&it[0], 1, 3, "contactId|firstName|note");
        assert_record(&it[1], 2, 3, "c1|Ann|multi\r\nline");
        assert_record(&it[2], 5, 3, "c2|Smith, Bob|say \"hi\"");
        assert_record(&it[3], 6, 3, "c3|Z\xE9lie|plain");
        assert_string_equal(cxw_csvin_name(r), "data/csv/bom_crlf.csv");
        cxw_csvin_close(r);
}

static void test_missing_file_fails_naming_it(void **state)
{
        char err[256];
        (void)state;

        assert_null(cxw_csvin_open("data/csv/no-such-file.csv", err, sizeof(err)));
        assert_non_null(strstr(err, "no-such-file.csv"));
        cxw_csvin_close(NULL);
}

/* A file larger than the reader's chunk, with records across chunk edges. */
static void test_large_file_across_chunks_keeps_every_record_and_line(void **state)
{
        char path[] = "/tmp/test_csvin_XXXXXX";
        int fd = mkstemp(path);
        FILE *fp;
        char err[256];
        cxw_csvin_t *r;
        cxw_csv_record_t *rec;
        const int rows = 20000;
        int n = 0, rc;
        (void)state;

        assert_true(fd >= 0);
        fp = fdopen(fd, "w");
        assert_non_null(fp);
        fprintf(fp, "\xEF\xBB\xBFid,text\n");
        for (int i = 0; i < rows; i++)
                fprintf(fp, i % 7 ? "c%d,plain %d\n" : "c%d,\"multi\nline, %d\"\n", i, i);
        fclose(fp);

        r = cxw_csvin_open(path, err, sizeof(err));
        assert_non_null(r);
        assert_int_equal(cxw_csvin_next(r, &rec, err, sizeof(err)), 1);
        assert_string_equal(rec->fields[0], "id");
        unsigned long line = 2;
        while ((rc = cxw_csvin_next(r, &rec, err, sizeof(err))) == 1 && n <= rows) {
                char want[32];
                snprintf(want, sizeof(want), "c%d", n);
                assert_string_equal(rec->fields[0], want);
                assert_int_equal(rec->line, line);
                line += (n % 7) ? 1 : 2;
                n++;
        }
        assert_int_equal(rc, 0);
        assert_int_equal(n, rows);
        cxw_csvin_close(r);
        unlink(path);
}

static size_t parse_delim(const char *csv, char delim, item_t *items)
{
        char err[256];
        cxw_csvin_t *r = cxw_csvin_open_mem(csv, strlen(csv), "t.csv", err, sizeof(err));
        size_t n;

        assert_non_null(r);
        assert_int_equal(cxw_csvin_set_delimiter(r, delim), 0);
        n = read_all(r, items);
        /* too late once reading has started */
        assert_int_equal(cxw_csvin_set_delimiter(r, ','), -1);
        cxw_csvin_close(r);
        return n;
}

static void test_semicolon_and_tab_delimiters_split_fields(void **state)
{
        item_t it[MAX_ITEMS];
        char err[256];
        cxw_csvin_t *r;
        (void)state;

        assert_int_equal(
            parse_delim("contactId;firstName\nc1;\"A;B\"\nc2;x,y\n", ';', it), 3);
        assert_record(&it[0], 1, 2, "contactId|firstName");
        assert_record(&it[1], 2, 2, "c1|A;B");
        assert_record(&it[2], 3, 2, "c2|x,y");
        assert_int_equal(parse_delim("id\tmail\r\nc1\t\"a\"\"b\"\r\n", '\t', it), 2);
        assert_record(&it[1], 2, 2, "c1|a\"b");
        /* a malformed quote is still found and skipped with its line */
        assert_int_equal(parse_delim("a;b\nx\"y;z\nc;d\n", ';', it), 3);
        assert_bad(&it[1], 2, "malformed quote");
        assert_record(&it[2], 3, 2, "c|d");

        r = cxw_csvin_open_mem("a", 1, "t.csv", err, sizeof(err));
        assert_non_null(r);
        assert_int_equal(cxw_csvin_set_delimiter(r, '"'), -1);
        assert_int_equal(cxw_csvin_set_delimiter(r, '\n'), -1);
        assert_int_equal(cxw_csvin_set_delimiter(r, '\r'), -1);
        assert_int_equal(cxw_csvin_set_delimiter(r, '\0'), -1);
        cxw_csvin_close(r);
}

static void test_a_one_column_header_tells_the_likely_delimiter(void **state)
{
        char err[256];
        const char *cases[][2] = {
            {"contactId;firstName;email\n", ";"},
            {"contactId\tfirstName\temail\n", "\t"},
            {"Name;Title\tid\tmail\n", "\t"}, /* the more frequent */
            {"contactId,firstName\n", ""},    /* comma-separated: fine */
            {"contactId\n", ""},              /* one column, no sign */
        };
        (void)state;

        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                cxw_csvin_t *r = cxw_csvin_open_mem(cases[i][0], strlen(cases[i][0]),
                                                    "t.csv", err, sizeof(err));
                cxw_csv_record_t *rec = NULL;

                assert_non_null(r);
                assert_int_equal(cxw_csvin_next(r, &rec, err, sizeof(err)), 1);
                assert_int_equal(cxw_csvin_guess_delimiter(rec), cases[i][1][0]);
                cxw_csvin_close(r);
        }
        assert_int_equal(cxw_csvin_guess_delimiter(NULL), '\0');
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(test_plain_records_with_line_numbers),
            cmocka_unit_test(test_semicolon_and_tab_delimiters_split_fields),
            cmocka_unit_test(test_a_one_column_header_tells_the_likely_delimiter),
            cmocka_unit_test(test_quotes_are_removed_and_doubled_quotes_unescaped),
            cmocka_unit_test(test_embedded_comma_stays_in_the_field),
            cmocka_unit_test(
                test_embedded_newline_reports_first_line_and_later_lines_stay_right),
            cmocka_unit_test(test_crlf_line_ends_are_not_part_of_fields),
            cmocka_unit_test(test_bare_cr_line_ends_count_as_lines),
            cmocka_unit_test(test_utf8_bom_at_start_is_skipped),
            cmocka_unit_test(test_bom_not_at_start_is_data),
            cmocka_unit_test(test_empty_lines_are_skipped_but_counted),
            cmocka_unit_test(test_last_line_without_newline_is_a_record),
            cmocka_unit_test(test_trailing_newline_adds_no_record),
            cmocka_unit_test(test_empty_fields_and_spaces_are_kept),
            cmocka_unit_test(test_empty_input_gives_no_records),
            cmocka_unit_test(test_header_only_file_gives_one_record),
            cmocka_unit_test(test_non_utf8_bytes_pass_through),
            cmocka_unit_test(test_embedded_nul_is_kept_with_its_length),
            cmocka_unit_test(test_too_many_fields_rejects_that_record_only),
            cmocka_unit_test(test_oversized_field_rejects_that_record_only),
            cmocka_unit_test(test_field_of_exactly_the_maximum_is_accepted),
            cmocka_unit_test(test_malformed_quotes_are_reported_and_reading_continues),
            cmocka_unit_test(test_unterminated_quote_at_end_is_reported_with_its_line),
            cmocka_unit_test(test_file_with_bom_crlf_and_multiline_field),
            cmocka_unit_test(test_missing_file_fails_naming_it),
            cmocka_unit_test(test_large_file_across_chunks_keeps_every_record_and_line),
        };

        return cmocka_run_group_tests(tests, NULL, NULL);
}
