/* fuzz_csvin.c: any bytes as a CSV file through cxw_csvin_next() until the
 * end of the input or an I/O error.
 *
 * Beyond not crashing: every record has 1..CXW_CSVIN_MAX_FIELDS fields of
 * at most CXW_CSVIN_MAX_FIELD bytes, each NUL-terminated at its length;
 * the start lines never go back; a bad record names its line; the reader
 * ends after at most one call per input byte (plus the end). */
#include "fuzz_common.h"

#include "cxone/requests/csvin.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
        char err[512];
        cxw_csvin_t *r = cxw_csvin_open_mem(data, size, "fuzz.csv", err, sizeof(err));
        unsigned long last = 0;
        size_t calls = 0;
        int rc;

        FUZZ_CHECK(r != NULL);
        FUZZ_CHECK(strcmp(cxw_csvin_name(r), "fuzz.csv") == 0);
        for (;;) {
                cxw_csv_record_t *rec = NULL;

                rc = cxw_csvin_next(r, &rec, err, sizeof(err));
                FUZZ_CHECK(++calls <= size + 2);
                if (rc == 1) {
                        FUZZ_CHECK(rec && rec->count >= 1 &&
                                   rec->count <= CXW_CSVIN_MAX_FIELDS);
                        for (size_t i = 0; i < rec->count; i++) {
                                FUZZ_CHECK(rec->lens[i] <= CXW_CSVIN_MAX_FIELD);
                                FUZZ_CHECK(rec->fields[i][rec->lens[i]] == '\0');
                        }
                        FUZZ_CHECK(rec->line >= 1 && rec->line >= last);
                        FUZZ_CHECK(rec->line == cxw_csvin_line(r));
                        last = rec->line;
                } else if (rc == -1) {
                        FUZZ_CHECK(rec == NULL);
                        FUZZ_CHECK(fuzz_errstr_ok(err, sizeof(err)));
                        FUZZ_CHECK(strncmp(err, "fuzz.csv:", 9) == 0);
                        FUZZ_CHECK(cxw_csvin_line(r) >= last);
                        last = cxw_csvin_line(r);
                } else {
                        FUZZ_CHECK(rc == 0 && rec == NULL);
                        break;
                }
        }
        /* at the end it stays at the end */
        if (rc == 0) {
                cxw_csv_record_t *rec = NULL;
                FUZZ_CHECK(cxw_csvin_next(r, &rec, err, sizeof(err)) == 0 && !rec);
        }
        cxw_csvin_close(r);
        return 0;
}
