/* test_schedules.c: decoding and validating schedule imports, building the call. */
#include <stdarg.h>
#include <stddef.h>
#include <setjmp.h>
#include <stdint.h>
#include <cmocka.h>

#include "cxone/requests/schedules.h"
#include "cxone/base/util.h"

#include <jansson.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

/* Messages in the tables are written with ' for " (no apostrophes are
 * needed in them), which q() turns back. */
#define H                                                                                \
        "{'targetCalendarId':'cal-1','validationMode':'STRICT','conflictResolution':"    \
        "'OVERWRITE',"
#define D "2026-03-02T"
/* one entry, with extra members x (may be "") */
#define EX(ag, s, e, x)                                                                  \
        "{'agentId':'" ag "','startDateTime':'" s "','endDateTime':'" e "'" x "}"
#define E(ag, s, e)  EX(ag, s, e, "")
#define ENTRIES(...) H "'scheduleEntries':[" __VA_ARGS__ "]}"
/* one entry 08:00-12:00 Z (240 minutes) of a-1 with extra members x */
#define ONE(x) ENTRIES(EX("a-1", D "08:00:00Z", D "12:00:00Z", x))
#define REQ(n, ...)                                                                      \
        H "'requiredCapacityMinutes':" #n ",'scheduleEntries':[" __VA_ARGS__ "]}"

static char *q(const char *s)
{
        char *c = strdup(s);
        assert_non_null(c);
        for (char *p = c; *p; p++)
                if (*p == '\'')
                        *p = '"';
        return c;
}

static char *slurp(const char *path, size_t *len)
{
        FILE *f = fopen(path, "rb");
        char *buf;
        long n;

        if (!f)
                fail_msg("cannot open %s (tests run in tests/unit)", path);
        fseek(f, 0, SEEK_END);
        n = ftell(f);
        fseek(f, 0, SEEK_SET);
        buf = malloc((size_t)n + 1);
        assert_non_null(buf);
        assert_int_equal(fread(buf, 1, (size_t)n, f), (size_t)n);
        buf[n] = '\0';
        fclose(f);
        *len = (size_t)n;
        return buf;
}

struct result {
        int rc;
        cxw_schedule_import_t imp;
        cxw_schedule_problems_t probs;
        char err[CXW_SCHED_ERRSTR_SIZE];
};

static void run(const char *msg, size_t len, const cxw_schedule_limits_t *lim,
                struct result *r)
{
        memset(r->err, 'X', sizeof(r->err));
        r->rc = cxw_schedule_decode(msg, len, lim, &r->imp, &r->probs, r->err,
                                    sizeof(r->err));
        assert_non_null(memchr(r->err, '\0', sizeof(r->err)));
        if (r->rc != 0) {
                /* nothing left allocated, every problem listed or counted */
                assert_null(r->imp.body);
                assert_true(r->probs.total >= 1);
                assert_true(r->probs.n >= 1 && r->probs.n <= r->probs.total);
                assert_true(strlen(r->err) > 0);
        } else {
                assert_int_equal(r->probs.total, 0);
                assert_non_null(r->imp.body);
        }
}

static void run_q(const char *tmpl, const cxw_schedule_limits_t *lim, struct result *r)
{
        char *m = q(tmpl);
        run(m, strlen(m), lim, r);
        free(m);
}

/* 1 if some kept problem contains want. */
static int has(const struct result *r, const char *want)
{
        for (size_t i = 0; i < r->probs.n; i++)
                if (strstr(r->probs.items[i].text, want))
                        return 1;
        return 0;
}

static void dump(const struct result *r)
{
        for (size_t i = 0; i < r->probs.n; i++)
                print_message("  problem: %s\n", r->probs.items[i].text);
}

/* ---- the table ------------------------------------------------------- */

struct tcase {
        const char *name;
        const char *msg;     /* ' for " */
        int ok;              /* 1: accepted */
        const char *want[4]; /* substrings of problems (rejected) */
        size_t total;        /* problems expected when rejected (0: not checked) */
        int64_t capacity;    /* accepted: expected capacity, -1 not checked */
};

static const struct tcase cases[] = {
    /* overlaps */
    {"overlapping shifts of one agent",
     ENTRIES(E("a-1", D "08:00:00Z", D "12:00:00Z") "," E("a-1", D "11:00:00Z",
                                                          D "15:00:00Z")),
     0,
     {"scheduleEntries[0] and scheduleEntries[1] (agent a-1): shifts overlap"},
     1,
     -1},
    {"touching shifts are not an overlap",
     ENTRIES(E("a-1", D "08:00:00Z", D "12:00:00Z") "," E("a-1", D "12:00:00Z",
                                                          D "16:00:00Z")),
     1,
     {NULL},
     0,
     480},
    {"same hours of different agents are fine",
     ENTRIES(E("a-1", D "08:00:00Z", D "12:00:00Z") "," E("a-2", D "08:00:00Z",
                                                          D "12:00:00Z")),
     1,
     {NULL},
     0,
     480},
    {"out-of-order entries: the overlap is still found",
     ENTRIES(E("a-1", D "14:00:00Z", D "18:00:00Z") "," E(
         "a-2", D "08:00:00Z", D "18:00:00Z") "," E("a-1", D "09:00:00Z", D "14:30:00Z")),
     0,
     {"scheduleEntries[0] and scheduleEntries[2] (agent a-1): shifts overlap"},
     1,
     -1},
    {"overlap across offsets (08:00+01:00 is 07:00Z)",
     ENTRIES(E("a-1", D "08:00:00+01:00", D "12:00:00+01:00") "," E("a-1", D "10:59:00Z",
                                                                    D "12:00:00Z")),
     0,
     {"scheduleEntries[0] and scheduleEntries[1]"},
     1,
     -1},
    {"nested: A [8-17], B [9-10], C [12-13] gives A-B and A-C, not B-C",
     ENTRIES(E("a-17", D "08:00:00Z", D "17:00:00Z") "," E(
         "a-17", D "09:00:00Z", D "10:00:00Z") "," E("a-17", D "12:00:00Z",
                                                     D "13:00:00Z")),
     0,
     {"scheduleEntries[0] and scheduleEntries[1]",
      "scheduleEntries[0] and scheduleEntries[2]"},
     2,
     -1},
    {"three mutually overlapping shifts give three pairs",
     ENTRIES(E("a-1", D "08:00:00Z", D "17:00:00Z") "," E(
         "a-1", D "09:00:00Z", D "16:00:00Z") "," E("a-1", D "12:00:00Z", D "13:00:00Z")),
     0,
     {"[0] and scheduleEntries[1]", "[0] and scheduleEntries[2]",
      "[1] and scheduleEntries[2]"},
     3,
     -1},
    {"identical shifts overlap",
     ENTRIES(E("a-1", D "08:00:00Z", D "12:00:00Z") "," E("a-1", D "08:00:00Z",
                                                          D "12:00:00Z")),
     0,
     {"scheduleEntries[0] and scheduleEntries[1]"},
     1,
     -1},

    /* breaks */
    {"break ending after the shift",
     ONE(",'breaks':[{'startOffsetMinutes':60,'durationMinutes':15},"
         "{'startOffsetMinutes':230,'durationMinutes':15}]"),
     0,
     {"scheduleEntries[0] (agent a-1): breaks[1] ends after the shift (offset 230 + "
      "duration 15 > 240 minutes)"},
     1,
     -1},
    {"break starting after the shift",
     ONE(",'breaks':[{'startOffsetMinutes':300,'durationMinutes':15}]"),
     0,
     {"breaks[0] ends after the shift"},
     1,
     -1},
    {"break ending exactly at the shift end is fine",
     ONE(",'breaks':[{'startOffsetMinutes':225,'durationMinutes':15}]"),
     1,
     {NULL},
     0,
     225},
    {"negative break offset",
     ONE(",'breaks':[{'startOffsetMinutes':-5,'durationMinutes':15}]"),
     0,
     {"breaks[0]: startOffsetMinutes must be an integer >= 0"},
     1,
     -1},
    {"zero break duration",
     ONE(",'breaks':[{'startOffsetMinutes':5,'durationMinutes':0}]"),
     0,
     {"breaks[0]: durationMinutes must be an integer >= 1"},
     1,
     -1},
    {"fractional and string break figures",
     ONE(",'breaks':[{'startOffsetMinutes':5.5,'durationMinutes':'15'}]"),
     0,
     {"startOffsetMinutes must be an integer", "durationMinutes must be an integer"},
     2,
     -1},
    {"huge break figures do not overflow",
     ONE(",'breaks':[{'startOffsetMinutes':9223372036854775807,"
         "'durationMinutes':9223372036854775807}]"),
     0,
     {"breaks[0] ends after the shift"},
     1,
     -1},
    {"overlapping breaks, listed out of order",
     ONE(",'breaks':[{'startOffsetMinutes':120,'durationMinutes':30},"
         "{'startOffsetMinutes':60,'durationMinutes':15},"
         "{'startOffsetMinutes':100,'durationMinutes':30}]"),
     0,
     {"breaks[0] and breaks[2] overlap"},
     1,
     -1},
    {"touching breaks are fine",
     ONE(",'breaks':[{'startOffsetMinutes':60,'durationMinutes':15},"
         "{'startOffsetMinutes':75,'durationMinutes':15}]"),
     1,
     {NULL},
     0,
     210},
    {"breaks that are not an array, a break that is not an object",
     ENTRIES(EX("a-1", D "08:00:00Z", D "12:00:00Z", ",'breaks':{}") "," EX(
         "a-2", D "08:00:00Z", D "12:00:00Z", ",'breaks':[3]")),
     0,
     {"scheduleEntries[0] (agent a-1): breaks must be an array",
      "scheduleEntries[1] (agent a-2): breaks[0] must be an object"},
     2,
     -1},

    /* dates */
    {"February 30",
     ENTRIES(E("a-1", "2026-02-30T08:00:00Z", "2026-03-02T12:00:00Z")),
     0,
     {"startDateTime '2026-02-30T08:00:00Z' is not a valid RFC 3339 date-time: day does "
      "not exist in that month"},
     1,
     -1},
    {"February 29 of a common year and of 2100",
     ENTRIES(E("a-1", "2026-02-29T08:00:00Z", "2100-02-29T12:00:00Z")),
     0,
     {"startDateTime '2026-02-29", "endDateTime '2100-02-29"},
     2,
     -1},
    {"February 29 of a leap year (2024, 2000) is fine",
     ENTRIES(E("a-1", "2024-02-29T08:00:00Z", "2024-02-29T12:00:00Z") "," E(
         "a-1", "2000-02-29T08:00:00Z", "2000-02-29T09:00:00Z")),
     1,
     {NULL},
     0,
     300},
    {"month 13",
     ENTRIES(E("a-1", "2026-13-01T08:00:00Z", D "12:00:00Z")),
     0,
     {"month out of range"},
     1,
     -1},
    {"24:00:01",
     ENTRIES(E("a-1", D "08:00:00Z", D "24:00:01Z")),
     0,
     {"endDateTime '2026-03-02T24:00:01Z'", "hour out of range"},
     1,
     -1},
    {"minute 60 and second 60",
     ENTRIES(E("a-1", D "08:60:00Z", D "12:00:60Z")),
     0,
     {"minute out of range", "second out of range"},
     2,
     -1},
    {"missing offset",
     ENTRIES(E("a-1", D "08:00:00", D "12:00:00.5")),
     0,
     {"startDateTime '2026-03-02T08:00:00' is not a valid RFC 3339 date-time: missing "
      "offset",
      "endDateTime '2026-03-02T12:00:00.5' is not a valid RFC 3339 date-time: missing "
      "offset"},
     2,
     -1},
    {"garbage, a number, a space for T, a bad offset",
     ENTRIES(E("a-1", "tomorrow", D "12:00:00+25:00") "," EX(
         "a-2", "2026-03-02 08:00:00Z", D "12:00:00+0100",
         "") ","
             "{'agentId':'a-3','startDateTime':1700000000,'endDateTime':null}"),
     0,
     {"startDateTime 'tomorrow' is not a valid", "offset out of range",
      "scheduleEntries[2] (agent a-3): startDateTime must be a string",
      "scheduleEntries[2] (agent a-3): endDateTime must be a string"},
     6,
     -1},
    {"trailing characters and empty fraction",
     ENTRIES(E("a-1", D "08:00:00Zx", D "12:00:00.Z")),
     0,
     {"characters after the offset", "no digits after the decimal point"},
     2,
     -1},
    {"end equal to start",
     ENTRIES(E("a-1", D "08:00:00Z", D "08:00:00Z")),
     0,
     {"scheduleEntries[0] (agent a-1): endDateTime is not after startDateTime"},
     1,
     -1},
    {"end before start (once offsets are applied)",
     ENTRIES(E("a-1", D "08:00:00Z", D "08:30:00+01:00")),
     0,
     {"endDateTime is not after startDateTime"},
     1,
     -1},
    {"a 17-hour shift is too long",
     ENTRIES(E("a-1", D "00:00:00Z", D "17:00:00Z")),
     0,
     {"shift is 1020 minutes, over the limit of 960"},
     1,
     -1},
    {"a 16-hour shift is fine, fractions and lowercase t/z accepted",
     ENTRIES(E("a-1", "2026-03-02t00:00:00.250z", "2026-03-02T16:00:00.250000Z")),
     1,
     {NULL},
     0,
     960},

    /* enums and ids */
    {"bad enums",
     "{'targetCalendarId':'cal-1','validationMode':'strict','conflictResolution':'MERGE',"
     "'scheduleEntries':[" E("a-1", D "08:00:00Z", D "12:00:00Z") "]}",
     0,
     {"validationMode 'strict' is not one of STRICT, LENIENT",
      "conflictResolution 'MERGE' is not one of AUTO_RESOLVE, OVERWRITE, SKIP, FAIL"},
     2,
     -1},
    {"the seed's import (STRICT, AUTO_RESOLVE) is accepted",
     "{'targetCalendarId':'c','validationMode':'STRICT','conflictResolution':"
     "'AUTO_RESOLVE','scheduleEntries':[" E("a-1", D "08:00:00Z", D "12:00:00Z") "]}",
     1,
     {NULL},
     0,
     240},
    {"validationMode and conflictResolution are required",
     "{'targetCalendarId':'c','scheduleEntries':[" E("a-1", D "08:00:00Z",
                                                     D "12:00:00Z") "]}",
     0,
     {"validationMode is missing", "conflictResolution is missing"},
     2,
     -1},
    {"LENIENT and SKIP are accepted",
     "{'targetCalendarId':'c','validationMode':'LENIENT','conflictResolution':'SKIP',"
     "'scheduleEntries':[" E("a-1", D "08:00:00Z", D "12:00:00Z") "]}",
     1,
     {NULL},
     0,
     240},
    {"bad override type",
     ONE(",'availabilityOverrides':[{'type':'SICK'},{'type':'unavailable'}]"),
     0,
     {"scheduleEntries[0] (agent a-1): availabilityOverrides[0]: type 'SICK' is not one "
      "of UNAVAILABLE, AVAILABLE, PARTIAL",
      "availabilityOverrides[1]: type 'unavailable'"},
     2,
     -1},
    {"override partly outside the shift",
     ONE(",'availabilityOverrides':[{'type':'UNAVAILABLE','start':'" D
         "07:00:00Z','end':'" D "09:00:00Z'}]"),
     0,
     {"availabilityOverrides[0]: window is not inside the shift"},
     1,
     -1},
    {"override ending before it starts, override with a bad date and a bad reason",
     ONE(",'availabilityOverrides':[{'type':'PARTIAL','start':'" D "10:00:00Z','end':'" D
         "09:00:00Z'},{'type':'AVAILABLE','end':'2026-03-02T25:00:00Z','reason':[]}]"),
     0,
     {"availabilityOverrides[0]: end is not after start",
      "availabilityOverrides[1]: end '2026-03-02T25:00:00Z' is not a valid",
      "availabilityOverrides[1]: reason must be a string"},
     3,
     -1},
    {"override that starts at the shift's end is empty",
     ONE(",'availabilityOverrides':[{'type':'UNAVAILABLE','start':'" D "12:00:00Z'}]"),
     0,
     {"window is not inside the shift"},
     1,
     -1},
    {"bad calendar and agent ids",
     "{'targetCalendarId':'cal 1','validationMode':'STRICT','conflictResolution':'FAIL',"
     "'scheduleEntries':[" E("a/1", D "08:00:00Z",
                             D "12:00:00Z") ",{'agentId':7,"
                                            "'startDateTime':'" D
                                            "08:00:00Z','endDateTime':'" D
                                            "12:00:00Z'}]}",
     0,
     {"targetCalendarId 'cal 1' must be 1-128 characters",
      "scheduleEntries[0]: agentId 'a/1' must be 1-128 characters",
      "scheduleEntries[1]: agentId must be a string"},
     3,
     -1},

    /* capacity */
    {"capacity exactly equal to the requirement passes",
     REQ(480, E("a-1", D "08:00:00Z", D "12:00:00Z") "," E("a-2", D "08:00:00Z",
                                                           D "12:00:00Z")),
     1,
     {NULL},
     0,
     480},
    {"capacity one minute short is rejected, naming both figures",
     REQ(480, E("a-1", D "08:00:00Z", D "12:00:00Z") "," E("a-2", D "08:00:00Z",
                                                           D "11:59:00Z")),
     0,
     {"capacity 479 minutes is below requiredCapacityMinutes 480"},
     1,
     -1},
    {"overlapping UNAVAILABLE windows count once; AVAILABLE and PARTIAL are not "
     "subtracted",
     REQ(150, EX("a-1", D "08:00:00Z", D "12:00:00Z",
                 ",'availabilityOverrides':[{'type':'UNAVAILABLE','start':'" D
                 "09:00:00Z','end':'" D "10:00:00Z'},{'type':'UNAVAILABLE','start':'" D
                 "09:30:00Z','end':'" D "10:30:00Z'},{'type':'AVAILABLE','start':'" D
                 "10:30:00Z','end':'" D "11:00:00Z'},{'type':'PARTIAL'}]")),
     1,
     {NULL},
     0,
     150},
    {"the same, one minute more required",
     REQ(151, EX("a-1", D "08:00:00Z", D "12:00:00Z",
                 ",'availabilityOverrides':[{'type':'UNAVAILABLE','start':'" D
                 "09:00:00Z','end':'" D "10:00:00Z'},{'type':'UNAVAILABLE','start':'" D
                 "09:30:00Z','end':'" D "10:30:00Z'}]")),
     0,
     {"capacity 150 minutes is below requiredCapacityMinutes 151"},
     1,
     -1},
    {"a break inside an UNAVAILABLE window counts once",
     REQ(180, EX("a-1", D "08:00:00Z", D "12:00:00Z",
                 ",'breaks':[{'startOffsetMinutes':60,'durationMinutes':30}],"
                 "'availabilityOverrides':[{'type':'UNAVAILABLE','start':'" D
                 "09:00:00Z','end':'" D "10:00:00Z'}]")),
     1,
     {NULL},
     0,
     180},
    {"an UNAVAILABLE override without start and end covers the shift",
     REQ(0, EX("a-1", D "08:00:00Z", D "12:00:00Z",
               ",'availabilityOverrides':[{'type':'UNAVAILABLE','reason':'sick'}]")),
     1,
     {NULL},
     0,
     0},
    {"requiredCapacityMinutes: negative, fractional, string",
     "{'targetCalendarId':'c','validationMode':'STRICT','conflictResolution':'FAIL',"
     "'requiredCapacityMinutes':-1,'scheduleEntries':[" E("a-1", D "08:00:00Z",
                                                          D "12:00:00Z") "]}",
     0,
     {"requiredCapacityMinutes must be an integer >= 0"},
     1,
     -1},
    {"requiredCapacityMinutes null is absent",
     "{'targetCalendarId':'c','validationMode':'STRICT','conflictResolution':'FAIL',"
     "'requiredCapacityMinutes':null,'scheduleEntries':[" E("a-1", D "08:00:00Z",
                                                            D "12:00:00Z") "]}",
     1,
     {NULL},
     0,
     240},
    {"capacity is not judged when an entry is invalid",
     REQ(100000, E("a-1", D "08:00:00Z",
                   D "12:00:00Z") "," E("a-2", "2026-02-30T08:00:00Z", D "12:00:00Z")),
     0,
     {"day does not exist"},
     1,
     -1},

    /* shape */
    {"not JSON", "{'targetCalendarId':", 0, {"invalid JSON at line 1"}, 1, -1},
    {"not an object", "[1,2]", 0, {"message is not a JSON object"}, 1, -1},
    {"duplicate key",
     "{'targetCalendarId':'a','targetCalendarId':'b'}",
     0,
     {"invalid JSON", "duplicate"},
     1,
     -1},
    {"every top-level member missing",
     "{}",
     0,
     {"targetCalendarId is missing", "validationMode is missing",
      "conflictResolution is missing", "scheduleEntries is missing"},
     4,
     -1},
    {"every top-level member of the wrong type",
     "{'targetCalendarId':5,'validationMode':[],'conflictResolution':{},"
     "'requiredCapacityMinutes':'480','scheduleEntries':'x'}",
     0,
     {"targetCalendarId must be a string", "validationMode must be a string",
      "requiredCapacityMinutes must be an integer", "scheduleEntries must be an array"},
     5,
     -1},
    {"no entries", ENTRIES(""), 0, {"scheduleEntries is empty"}, 1, -1},
    {"an entry that is not an object",
     ENTRIES("5,null"),
     0,
     {"scheduleEntries[0] must be an object", "scheduleEntries[1] must be an object"},
     2,
     -1},
    {"an entry missing every member",
     ENTRIES("{}"),
     0,
     {"scheduleEntries[0]: agentId is missing", "startDateTime is missing",
      "endDateTime is missing"},
     3,
     -1},
    {"unknown members are named at every level",
     H "'priority':1,'scheduleEntries':[" EX(
         "a-1", D "08:00:00Z", D "12:00:00Z",
         ",'color':'red','breaks':[{'startOffsetMinutes':5,'durationMinutes':5,'paid':"
         "true}],'availabilityOverrides':[{'type':'AVAILABLE','note':'x'}]") "]}",
     0,
     {"unknown member 'priority' (allowed: targetCalendarId, validationMode, "
      "conflictResolution, requiredCapacityMinutes, scheduleEntries)",
      "scheduleEntries[0] (agent a-1): unknown member 'color'",
      "scheduleEntries[0] (agent a-1): breaks[0]: unknown member 'paid'",
      "availabilityOverrides[0]: unknown member 'note'"},
     4,
     -1},
};

static void each_case_of_the_table_is_decided_as_expected(void **state)
{
        (void)state;
        for (size_t i = 0; i < sizeof(cases) / sizeof(cases[0]); i++) {
                const struct tcase *c = &cases[i];
                struct result r;

                run_q(c->msg, NULL, &r);
                if (c->ok && r.rc != 0) {
                        dump(&r);
                        fail_msg("case '%s' rejected: %s", c->name, r.err);
                }
                if (!c->ok && r.rc != -1)
                        fail_msg("case '%s' accepted (rc %d)", c->name, r.rc);
                if (c->ok) {
                        if (c->capacity >= 0 && r.imp.capacity_minutes != c->capacity)
                                fail_msg("case '%s': capacity %lld, want %lld", c->name,
                                         (long long)r.imp.capacity_minutes,
                                         (long long)c->capacity);
                        cxw_schedule_import_clear(&r.imp);
                        continue;
                }
                for (size_t k = 0; k < 4 && c->want[k]; k++) {
                        if (!has(&r, c->want[k])) {
                                dump(&r);
                                fail_msg("case '%s': no problem contains '%s'", c->name,
                                         c->want[k]);
                        }
                        /* the joined message carries them too (all fit here) */
                        if (!strstr(r.err, c->want[k]))
                                fail_msg("case '%s': message '%s' lacks '%s'", c->name,
                                         r.err, c->want[k]);
                }
                if (c->total && r.probs.total != c->total) {
                        dump(&r);
                        fail_msg("case '%s': %zu problems, want %zu", c->name,
                                 r.probs.total, c->total);
                }
        }
}

/* ---- fixtures -------------------------------------------------------- */

static void seed_example_passes_with_its_figures_and_compact_body(void **state)
{
        struct result r;
        size_t len;
        char *msg = slurp("data/schedules/valid.json", &len);
        json_t *j;
        char *want;
        (void)state;

        run(msg, len, NULL, &r);
        if (r.rc != 0) {
                dump(&r);
                fail_msg("rejected: %s", r.err);
        }
        assert_string_equal(r.imp.calendar_id, "cal-2026-03.frontline");
        assert_string_equal(r.imp.validation_mode, "STRICT");
        assert_string_equal(r.imp.conflict_resolution, "OVERWRITE");
        assert_int_equal(r.imp.nentries, 6);
        assert_int_equal(r.imp.nagents, 3);
        /* 465 + 420 + 450 + 450 + 405 + 225: breaks and the 1-hour UNAVAILABLE
         * training subtracted, AVAILABLE and PARTIAL not */
        assert_int_equal(r.imp.capacity_minutes, 2415);
        assert_int_equal(r.imp.required_capacity_minutes, 2400);
        assert_true(r.imp.validate_us >= 0);

        /* the body is the message, compact, in its own key order */
        j = json_loadb(msg, len, 0, NULL);
        assert_non_null(j);
        want = json_dumps(j, JSON_COMPACT | JSON_PRESERVE_ORDER);
        assert_string_equal(r.imp.body, want);
        assert_int_equal(r.imp.body_len, strlen(want));
        assert_null(strchr(r.imp.body, '\n'));
        assert_memory_equal(r.imp.body,
                            "{\"targetCalendarId\":\"cal-2026-03.frontline\",", 44);
        free(want);
        json_decref(j);
        cxw_schedule_import_clear(&r.imp);
        assert_null(r.imp.body);
        cxw_schedule_import_clear(&r.imp); /* twice is fine */
        cxw_schedule_import_clear(NULL);

        /* one minute more than its capacity is required: rejected */
        char *p = strstr(msg, "2400");
        assert_non_null(p);
        memcpy(p, "2416", 4);
        run(msg, len, NULL, &r);
        assert_int_equal(r.rc, -1);
        assert_int_equal(r.probs.total, 1);
        assert_string_equal(
            r.err, "capacity 2415 minutes is below requiredCapacityMinutes 2416");
        assert_int_equal(r.probs.items[0].entry, -1);
        free(msg);
}

static void nested_shifts_report_both_pairs_with_both_indexes(void **state)
{
        struct result r;
        size_t len;
        char *msg = slurp("data/schedules/nested_overlap.json", &len);
        int ab = 0, ac = 0;
        (void)state;

        run(msg, len, NULL, &r);
        assert_int_equal(r.rc, -1);
        assert_int_equal(r.probs.total, 2);
        for (size_t i = 0; i < r.probs.n; i++) {
                const cxw_schedule_problem_t *it = &r.probs.items[i];
                assert_int_equal(it->entry, 0);
                ab += it->other == 1;
                ac += it->other == 2;
        }
        assert_int_equal(ab, 1);
        assert_int_equal(ac, 1);
        assert_string_equal(r.err,
                            "2 problems: scheduleEntries[0] and scheduleEntries[1] "
                            "(agent a-17): shifts overlap; scheduleEntries[0] and "
                            "scheduleEntries[2] (agent a-17): shifts overlap");
        free(msg);
}

static void every_problem_is_collected_with_its_entry(void **state)
{
        struct result r;
        size_t len;
        char *msg = slurp("data/schedules/many_problems.json", &len);
        static const struct {
                long entry;
                const char *text;
        } want[] = {
            {-1, "targetCalendarId 'cal 1' must be"},
            {-1, "validationMode 'strict'"},
            {-1, "conflictResolution 'MERGE'"},
            {-1, "requiredCapacityMinutes must be an integer >= 0"},
            {0, "scheduleEntries[0] (agent a-1): startDateTime '2026-02-30T08:00:00Z'"},
            {1, "scheduleEntries[1] (agent a-2): breaks[0] ends after the shift"},
            {1, "scheduleEntries[1] (agent a-2): breaks[1]: startOffsetMinutes"},
            {1, "scheduleEntries[1] (agent a-2): breaks[1]: durationMinutes"},
            {2, "scheduleEntries[2] (agent a-3): endDateTime is not after startDateTime"},
            {3, "scheduleEntries[3] (agent a-4): unknown member 'shiftColor'"},
            {3, "scheduleEntries[3] (agent a-4): availabilityOverrides[0]: type 'SICK'"},
            {3,
             "scheduleEntries[3] (agent a-4): availabilityOverrides[0]: reason must be"},
        };
        (void)state;

        run(msg, len, NULL, &r);
        assert_int_equal(r.rc, -1);
        if (r.probs.total != sizeof(want) / sizeof(want[0]))
                dump(&r);
        assert_int_equal(r.probs.total, sizeof(want) / sizeof(want[0]));
        for (size_t i = 0; i < sizeof(want) / sizeof(want[0]); i++) {
                if (!strstr(r.probs.items[i].text, want[i].text))
                        fail_msg("problem %zu is '%s', want '%s'", i,
                                 r.probs.items[i].text, want[i].text);
                assert_int_equal(r.probs.items[i].entry, want[i].entry);
                assert_int_equal(r.probs.items[i].other, -1);
        }
        assert_memory_equal(r.err, "12 problems: targetCalendarId", 29);
        free(msg);
}

/* config/samples/schedules.json (what `cxonectl schedules import` is shown
 * with) ends each way it says: this keeps the samples honest. */
static void samples_file_imports_end_as_documented(void **state)
{
        static const char *const want[] = {
            NULL, /* the seed example: 3 agents, 2 days */
            NULL, /* two agents back to back, LENIENT / SKIP */
            NULL, /* night shifts across midnight, a meeting UNAVAILABLE */
            "scheduleEntries[0] and scheduleEntries[1] (agent a-301): shifts overlap",
            "scheduleEntries[0] (agent a-302): breaks[1] ends after the shift",
            "capacity 330 minutes is below requiredCapacityMinutes 480",
            "startDateTime '2026-02-30T08:00:00Z' is not a valid RFC 3339 date-time",
        };
        json_error_t jerr;
        json_t *all = json_load_file("../../config/samples/schedules.json", 0, &jerr);
        (void)state;

        if (!all)
                fail_msg("samples: %s at line %d", jerr.text, jerr.line);
        assert_true(json_is_array(all));
        assert_int_equal(json_array_size(all), sizeof(want) / sizeof(want[0]));
        for (size_t i = 0; i < json_array_size(all); i++) {
                char *m = json_dumps(json_array_get(all, i),
                                     JSON_COMPACT | JSON_PRESERVE_ORDER);
                struct result r;

                assert_non_null(m);
                run(m, strlen(m), NULL, &r);
                free(m);
                if (!want[i] && r.rc != 0)
                        fail_msg("sample %zu rejected: %s", i, r.err);
                if (want[i] &&
                    (r.rc != -1 || r.probs.total != 1 || !strstr(r.err, want[i])))
                        fail_msg("sample %zu: rc %d, '%s', want only '%s'", i, r.rc,
                                 r.err, want[i]);
                cxw_schedule_import_clear(&r.imp);
        }
        json_decref(all);
}

/* ---- pure pieces ----------------------------------------------------- */

static void rfc3339_times_parse_to_the_right_instant(void **state)
{
        static const struct {
                const char *s;
                int64_t ms;
        } good[] = {
            {"1970-01-01T00:00:00Z", 0},
            {"1970-01-01T00:00:00.5Z", 500},
            {"1970-01-01T00:00:00.123999+00:00", 123},
            {"1970-01-01T01:00:00+01:00", 0},
            {"1969-12-31T23:30:00-00:30", 0},
            {"2026-03-02T08:00:00+01:00", 1772434800000LL},
            {"2000-02-29T12:00:00Z", 951825600000LL},
            {"1960-01-01T00:00:00Z", -315619200000LL},
            {"9999-12-31T23:59:59.999Z", 253402300799999LL},
        };
        static const char *const bad[] = {
            "",
            "2026-03-02",
            "2026-03-02T08:00Z",
            "2026-03-02T08:00:00",
            "2026-03-02T08:00:00+01",
            "2026-03-02T08:00:00+0100",
            "2026-03-02T08:00:00+01:00 ",
            "2026-3-02T08:00:00Z",
            "2026-00-10T08:00:00Z",
            "2026-04-31T08:00:00Z",
            "2026-03-00T08:00:00Z",
            "2026-03-02T24:00:00Z",
            "+2026-03-02T08:00:00Z",
            "2026-03-02T08:00:00.Z",
            "2026-03-02T08:00:00ZZ",
        };
        const char *why;
        int64_t ms;
        (void)state;

        for (size_t i = 0; i < sizeof(good) / sizeof(good[0]); i++) {
                why = NULL;
                if (cxw_schedule_parse_time(good[i].s, strlen(good[i].s), &ms, &why))
                        fail_msg("'%s' rejected: %s", good[i].s, why);
                if (ms != good[i].ms)
                        fail_msg("'%s' is %lld, want %lld", good[i].s, (long long)ms,
                                 (long long)good[i].ms);
        }
        for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
                why = NULL;
                if (cxw_schedule_parse_time(bad[i], strlen(bad[i]), &ms, &why) == 0)
                        fail_msg("'%s' accepted", bad[i]);
                assert_non_null(why);
        }
        /* an embedded NUL, and text longer than any date-time */
        assert_int_equal(
            cxw_schedule_parse_time("2026-03-02T08:00:00Z\0x", 22, &ms, NULL), -1);
        char longer[200];
        memset(longer, '1', sizeof(longer));
        assert_int_equal(cxw_schedule_parse_time(longer, sizeof(longer), &ms, &why), -1);
        assert_int_equal(cxw_schedule_parse_time(NULL, 0, &ms, &why), -1);
}

#define MIN 60000LL

static void available_time_merges_windows_and_clips_them_to_the_shift(void **state)
{
        (void)state;
        /* shift [0, 240 min) */
        cxw_schedule_window_t w1[] = {
            {-60 * MIN, 30 * MIN},  /* partly before: 30 */
            {200 * MIN, 300 * MIN}, /* partly after: 40 */
            {20 * MIN, 50 * MIN},   /* overlaps the first: +20 */
            {100 * MIN, 110 * MIN}, /* +10 */
            {105 * MIN, 108 * MIN}, /* inside the previous: 0 */
            {110 * MIN, 120 * MIN}, /* touching: +10 */
            {400 * MIN, 500 * MIN}, /* wholly outside: 0 */
        };
        assert_int_equal(cxw_schedule_available_ms(0, 240 * MIN, w1, 7),
                         (240 - 30 - 40 - 20 - 10 - 10) * MIN);
        assert_int_equal(cxw_schedule_available_ms(0, 240 * MIN, NULL, 0), 240 * MIN);
        cxw_schedule_window_t w2[] = {{-MIN, 500 * MIN}};
        assert_int_equal(cxw_schedule_available_ms(0, 240 * MIN, w2, 1), 0);
        assert_int_equal(cxw_schedule_available_ms(10, 10, w2, 1), 0);
        assert_int_equal(cxw_schedule_available_ms(10, 5, NULL, 0), 0);
}

static void idempotency_key_is_the_header_or_the_source_position(void **state)
{
        char key[CXW_SCHED_IDEMKEY_SIZE], err[128], hdr[300];
        (void)state;

        assert_int_equal(cxw_schedule_idempotency_key("imp-42", 6,
                                                      "cxone.schedule-imports", 3, 1234,
                                                      key, sizeof(key), err, sizeof(err)),
                         0);
        assert_string_equal(key, "imp-42");
        assert_int_equal(cxw_schedule_idempotency_key(NULL, 0, "cxone.schedule-imports",
                                                      3, 1234, key, sizeof(key), err,
                                                      sizeof(err)),
                         0);
        assert_string_equal(key, "cxone.schedule-imports/3/1234");
        /* an empty header is absent */
        assert_int_equal(cxw_schedule_idempotency_key("", 0, "t", 0,
                                                      9223372036854775807LL, key,
                                                      sizeof(key), err, sizeof(err)),
                         0);
        assert_string_equal(key, "t/0/9223372036854775807");

        memset(hdr, 'k', sizeof(hdr));
        assert_int_equal(cxw_schedule_idempotency_key(hdr, CXW_SCHED_IDEMKEY_MAX, "t", 0,
                                                      0, key, sizeof(key), err,
                                                      sizeof(err)),
                         0);
        assert_int_equal(strlen(key), CXW_SCHED_IDEMKEY_MAX);
        assert_int_equal(cxw_schedule_idempotency_key(hdr, CXW_SCHED_IDEMKEY_MAX + 1, "t",
                                                      0, 0, key, sizeof(key), err,
                                                      sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "over the limit of 255"));
        assert_int_equal(cxw_schedule_idempotency_key("a b", 3, "t", 0, 0, key,
                                                      sizeof(key), err, sizeof(err)),
                         -1);
        assert_non_null(strstr(err, "printable"));
        assert_int_equal(cxw_schedule_idempotency_key("a\n", 2, "t", 0, 0, key,
                                                      sizeof(key), err, sizeof(err)),
                         -1);
        assert_int_equal(cxw_schedule_idempotency_key("\xc3\xa9", 2, "t", 0, 0, key,
                                                      sizeof(key), err, sizeof(err)),
                         -1);
        /* too small a buffer is an error, not a truncated key */
        assert_int_equal(cxw_schedule_idempotency_key(NULL, 0, "topic", 1, 12345, key, 8,
                                                      err, sizeof(err)),
                         -1);
        assert_int_equal(cxw_schedule_idempotency_key("abcdefgh", 8, "t", 0, 0, key, 8,
                                                      err, sizeof(err)),
                         -1);
}

/* ---- bounds ---------------------------------------------------------- */

static void allowed_values_come_from_the_limits(void **state)
{
        static const char *const modes[] = {"STRICT"};
        static const char *const res[] = {"MERGE", "AUTO_RESOLVE"};
        cxw_schedule_limits_t lim;
        struct result r;
        (void)state;

        cxw_schedule_limits_default(&lim);
        assert_int_equal(lim.nvalidation_modes, 2);
        assert_string_equal(lim.validation_modes[0], "STRICT");
        assert_string_equal(lim.validation_modes[1], "LENIENT");
        assert_int_equal(lim.nconflict_resolutions, 4);
        assert_string_equal(lim.conflict_resolutions[0], "AUTO_RESOLVE");
        assert_string_equal(lim.conflict_resolutions[1], "OVERWRITE");
        assert_string_equal(lim.conflict_resolutions[2], "SKIP");
        assert_string_equal(lim.conflict_resolutions[3], "FAIL");

        lim.validation_modes = modes;
        lim.nvalidation_modes = 1;
        lim.conflict_resolutions = res;
        lim.nconflict_resolutions = 2;
        run_q("{'targetCalendarId':'c','validationMode':'STRICT','conflictResolution':"
              "'MERGE','scheduleEntries':[" E("a-1", D "08:00:00Z", D "12:00:00Z") "]}",
              &lim, &r);
        assert_int_equal(r.rc, 0);
        assert_string_equal(r.imp.validation_mode, "STRICT");
        assert_string_equal(r.imp.conflict_resolution, "MERGE");
        cxw_schedule_import_clear(&r.imp);

        run_q(
            "{'targetCalendarId':'c','validationMode':'LENIENT','conflictResolution':"
            "'OVERWRITE','scheduleEntries':[" E("a-1", D "08:00:00Z", D "12:00:00Z") "]}",
            &lim, &r);
        assert_int_equal(r.rc, -1);
        assert_non_null(strstr(r.err, "validationMode 'LENIENT' is not one of STRICT"));
        assert_non_null(strstr(
            r.err, "conflictResolution 'OVERWRITE' is not one of MERGE, AUTO_RESOLVE"));
}

static void limits_are_enforced_and_named(void **state)
{
        cxw_schedule_limits_t lim;
        struct result r;
        char big[600], *m;
        (void)state;

        cxw_schedule_limits_default(&lim);
        assert_int_equal(lim.max_bytes, 1024 * 1024);
        assert_int_equal(lim.max_entries, 5000);
        assert_int_equal(lim.max_breaks, 16);
        assert_int_equal(lim.max_overrides, 16);
        assert_int_equal(lim.max_reason_len, 256);
        assert_int_equal(lim.max_shift_minutes, 960);

        m = q(ENTRIES(E("a-1", D "08:00:00Z", D "12:00:00Z")));
        lim.max_bytes = strlen(m) - 1;
        run(m, strlen(m), &lim, &r);
        assert_int_equal(r.rc, -1);
        assert_non_null(strstr(r.err, "over the limit of"));
        assert_non_null(strstr(r.err, "message is"));
        lim.max_bytes = strlen(m);
        run(m, strlen(m), &lim, &r);
        assert_int_equal(r.rc, 0);
        cxw_schedule_import_clear(&r.imp);
        free(m);

        cxw_schedule_limits_default(&lim);
        lim.max_entries = 2;
        run_q(ENTRIES(E("a-1", D "08:00:00Z", D "09:00:00Z") "," E(
                  "a-1", D "09:00:00Z", D "10:00:00Z") "," E("a-1", D "10:00:00Z",
                                                             D "11:00:00Z")),
              &lim, &r);
        assert_int_equal(r.rc, -1);
        assert_string_equal(r.err, "scheduleEntries has 3 entries, over the limit of 2");

        cxw_schedule_limits_default(&lim);
        lim.max_breaks = 1;
        lim.max_overrides = 1;
        lim.max_shift_minutes = 60;
        run_q(ONE(",'breaks':[{'startOffsetMinutes':0,'durationMinutes':5},"
                  "{'startOffsetMinutes':10,'durationMinutes':5}],"
                  "'availabilityOverrides':[{'type':'PARTIAL'},{'type':'PARTIAL'}]"),
              &lim, &r);
        assert_int_equal(r.rc, -1);
        assert_int_equal(r.probs.total, 3);
        assert_true(has(&r, "shift is 240 minutes, over the limit of 60"));
        assert_true(has(&r, "has 2 breaks, over the limit of 1"));
        assert_true(has(&r, "has 2 availabilityOverrides, over the limit of 1"));

        /* reason: 256 bytes fine, 257 over */
        for (int n = 256; n <= 257; n++) {
                int k =
                    snprintf(big, sizeof(big),
                             ONE(",'availabilityOverrides':[{'type':'PARTIAL','reason'"
                                 ":'%0*d'}]"),
                             n, 0);
                assert_true(k > 0 && (size_t)k < sizeof(big));
                run_q(big, NULL, &r);
                if (n == 256) {
                        assert_int_equal(r.rc, 0);
                        cxw_schedule_import_clear(&r.imp);
                } else {
                        assert_int_equal(r.rc, -1);
                        assert_true(
                            has(&r, "reason is 257 bytes, over the limit of 256"));
                }
        }

        /* ids: 128 characters fine, 129 over */
        char id[130];
        memset(id, 'c', sizeof(id));
        id[128] = '\0';
        snprintf(
            big, sizeof(big),
            "{'targetCalendarId':'%s','validationMode':'STRICT','conflictResolution':"
            "'FAIL','scheduleEntries':[" E("%s", D "08:00:00Z", D "12:00:00Z") "]}",
            id, id);
        run_q(big, NULL, &r);
        assert_int_equal(r.rc, 0);
        assert_string_equal(r.imp.calendar_id, id);
        cxw_schedule_import_clear(&r.imp);
        id[128] = 'c';
        id[129] = '\0';
        snprintf(
            big, sizeof(big),
            "{'targetCalendarId':'%s','validationMode':'STRICT','conflictResolution':"
            "'FAIL','scheduleEntries':[" E("%s", D "08:00:00Z", D "12:00:00Z") "]}",
            id, id);
        run_q(big, NULL, &r);
        assert_int_equal(r.rc, -1);
        assert_int_equal(r.probs.total, 2);

        /* empty and NULL messages */
        run("", 0, NULL, &r);
        assert_string_equal(r.err, "message is empty");
        run(NULL, 0, NULL, &r);
        assert_string_equal(r.err, "message is empty");
}

/* CPU seconds of this process since t0 (taken with cpu_now()): a bound on
 * work done, which a loaded machine's waiting does not inflate as it does
 * wall time. The bounds (5 s) are far above the work's own cost (under 0.5 s
 * under ASan) and far below what quadratic work would take. */
static void cpu_now(struct timespec *t)
{
        clock_gettime(CLOCK_PROCESS_CPUTIME_ID, t);
}

static double seconds_since(const struct timespec *t0)
{
        struct timespec t1;
        cpu_now(&t1);
        return (double)(t1.tv_sec - t0->tv_sec) +
               (double)(t1.tv_nsec - t0->tv_nsec) / 1e9;
}

static void huge_entries_count_is_rejected_before_any_entry_work(void **state)
{
        const size_t n = 300000; /* "{}," each: about 900 KB, under 1 MiB */
        static const char head[] =
            "{\"targetCalendarId\":\"c\",\"validationMode\":\"STRICT\","
            "\"conflictResolution\":\"FAIL\",\"scheduleEntries\":[";
        size_t cap = sizeof(head) + 3 * n + 8, off;
        char *m = malloc(cap);
        struct timespec t0;
        struct result r;
        (void)state;

        assert_non_null(m);
        memcpy(m, head, sizeof(head) - 1);
        off = sizeof(head) - 1;
        for (size_t i = 0; i < n; i++) {
                memcpy(m + off, i ? ",{}" : "{}", i ? 3 : 2);
                off += i ? 3 : 2;
        }
        memcpy(m + off, "]}", 2);
        off += 2;
        assert_true(off < 1024 * 1024);
        cpu_now(&t0);
        run(m, off, NULL, &r);
        assert_int_equal(r.rc, -1);
        assert_int_equal(r.probs.total, 1);
        assert_string_equal(r.err,
                            "scheduleEntries has 300000 entries, over the limit of 5000");
        assert_true(seconds_since(&t0) < 5.0);
        free(m);
}

/* n entries of one agent, each [i*step, i*step + len) minutes from a base. */
static char *one_agent_entries(size_t n, int step, int len)
{
        static const char head[] =
            "{\"targetCalendarId\":\"c\",\"validationMode\":\"STRICT\","
            "\"conflictResolution\":\"FAIL\",\"scheduleEntries\":[";
        size_t cap = sizeof(head) + n * 120 + 8, off = sizeof(head) - 1;
        char *m = malloc(cap), s[40], e[40];
        assert_non_null(m);
        memcpy(m, head, off);
        for (size_t i = 0; i < n; i++) {
                int64_t base = 1772434800000LL; /* 2026-03-02T07:00:00Z */
                cxw_rfc3339(base + (int64_t)i * step * MIN, s, sizeof(s));
                cxw_rfc3339(base + ((int64_t)i * step + len) * MIN, e, sizeof(e));
                off += (size_t)snprintf(m + off, cap - off,
                                        "%s{\"agentId\":\"a-1\",\"startDateTime\":\"%s\","
                                        "\"endDateTime\":\"%s\"}",
                                        i ? "," : "", s, e);
        }
        memcpy(m + off, "]}", 3);
        return m;
}

static void five_thousand_entries_are_checked_quickly(void **state)
{
        struct timespec t0;
        struct result r;
        char *m;
        (void)state;

        /* back to back (touching): valid */
        m = one_agent_entries(5000, 60, 60);
        cpu_now(&t0);
        run(m, strlen(m), NULL, &r);
        if (r.rc != 0)
                fail_msg("rejected: %s", r.err);
        assert_int_equal(r.imp.capacity_minutes, 5000 * 60);
        assert_int_equal(r.imp.nagents, 1);
        assert_true(seconds_since(&t0) < 5.0);
        cxw_schedule_import_clear(&r.imp);
        free(m);

        /* all on top of each other: n(n-1)/2 pairs counted, 50 kept, the
         * message bounded, and no quadratic work beyond the kept ones */
        m = one_agent_entries(5000, 0, 60);
        cpu_now(&t0);
        run(m, strlen(m), NULL, &r);
        assert_int_equal(r.rc, -1);
        assert_int_equal(r.probs.total, 5000 * 4999 / 2);
        assert_int_equal(r.probs.n, CXW_SCHED_PROBLEMS_MAX);
        assert_true(strlen(r.err) < sizeof(r.err));
        assert_memory_equal(r.err, "12497500 problems: ", 19);
        assert_non_null(strstr(r.err, " more"));
        assert_true(seconds_since(&t0) < 5.0);
        free(m);
}

static void joined_message_fits_any_buffer(void **state)
{
        cxw_schedule_import_t imp;
        size_t len;
        char *msg = slurp("data/schedules/many_problems.json", &len);
        char buf[300];
        (void)state;

        for (size_t size = 1; size < 260; size += 7) {
                memset(buf, 'Z', sizeof(buf));
                assert_int_equal(
                    cxw_schedule_decode(msg, len, NULL, &imp, NULL, buf, size), -1);
                assert_true(strlen(buf) < size);
                for (size_t k = size; k < sizeof(buf); k++)
                        assert_int_equal(buf[k], 'Z');
        }
        /* a small buffer still says how many problems there are */
        assert_int_equal(cxw_schedule_decode(msg, len, NULL, &imp, NULL, buf, 120), -1);
        assert_memory_equal(buf, "12 problems: ", 13);
        assert_non_null(strstr(buf, "more"));
        /* no errstr at all is fine */
        assert_int_equal(cxw_schedule_decode(msg, len, NULL, &imp, NULL, NULL, 0), -1);
        free(msg);
}

static void untrusted_text_is_echoed_printable_and_bounded(void **state)
{
        struct result r;
        char *m;
        (void)state;

        m = q(ENTRIES(E("a-1", "\\u0001\\u001b[31m2026", D "12:00:00Z")));
        run(m, strlen(m), NULL, &r);
        free(m);
        assert_int_equal(r.rc, -1);
        assert_non_null(strstr(r.err, "startDateTime '??[31m2026'"));

        char big[400];
        memset(big, 0, sizeof(big));
        snprintf(big, sizeof(big), ENTRIES(E("a-1", "%0200d", D "12:00:00Z")), 7);
        run_q(big, NULL, &r);
        assert_int_equal(r.rc, -1);
        assert_non_null(
            strstr(r.err, "...' is not a valid RFC 3339 date-time: too long"));
        assert_true(strlen(r.err) < 200);
}

/* ---- robustness ------------------------------------------------------ */

static void random_mutations_of_the_seed_never_crash(void **state)
{
        static const char junk[] = "{}[],:\"\\0-+.eZT9 \x01\xff\xc3";
        size_t len;
        char *seed = slurp("data/schedules/valid.json", &len);
        char *m = malloc(len + 64);
        uint64_t rng = 0x5eedf00dULL;
        int accepted = 0;
        (void)state;

        assert_non_null(m);
        for (int iter = 0; iter < 1000; iter++) {
                cxw_schedule_import_t imp;
                cxw_schedule_problems_t probs;
                char err[CXW_SCHED_ERRSTR_SIZE];
                size_t n = len;
                int edits = 1 + (int)(cxw_rand64(&rng) % 8);

                memcpy(m, seed, len);
                for (int k = 0; k < edits && n > 1; k++) {
                        size_t at = (size_t)(cxw_rand64(&rng) % n);
                        char c = junk[cxw_rand64(&rng) % (sizeof(junk) - 1)];
                        switch (cxw_rand64(&rng) % 5) {
                        case 0: /* replace a byte */
                                m[at] = c;
                                break;
                        case 1: /* replace a digit by another one */
                                if (m[at] >= '0' && m[at] <= '9')
                                        m[at] = (char)('0' + cxw_rand64(&rng) % 10);
                                else
                                        m[at] = c;
                                break;
                        case 2: /* delete a byte */
                                memmove(m + at, m + at + 1, n - at - 1);
                                n--;
                                break;
                        case 3: /* insert a byte */
                                if (n < len + 60) {
                                        memmove(m + at + 1, m + at, n - at);
                                        m[at] = c;
                                        n++;
                                }
                                break;
                        default: /* truncate */
                                n = at + 1;
                                break;
                        }
                }
                int rc = cxw_schedule_decode(m, n, NULL, &imp, &probs, err, sizeof(err));
                assert_true(rc == 0 || rc == -1);
                assert_non_null(memchr(err, '\0', sizeof(err)));
                if (rc == 0) {
                        accepted++;
                        assert_non_null(imp.body);
                        cxw_schedule_import_clear(&imp);
                } else {
                        assert_null(imp.body);
                        assert_true(strlen(err) > 0);
                }
        }
        print_message("  %d of 1000 mutations still valid\n", accepted);
        free(m);
        free(seed);
}

/* ---- the job-status answer ---------------------------------------------- */

static void job_answer(const char *body, cxw_schedule_job_answer_t *a, int rc)
{
        assert_int_equal(cxw_schedule_job_answer_parse(body, body ? strlen(body) : 0, a),
                         rc);
}

static void job_answer_says_status_and_ending(void **state)
{
        cxw_schedule_job_answer_t a;
        (void)state;
        job_answer("{\"jobId\":\"job-1\",\"status\":\"IN_PROGRESS\","
                   "\"createdAt\":\"2026-01-01T00:00:00Z\"}",
                   &a, 0);
        assert_true(a.has_status);
        assert_false(a.ended);
        assert_string_equal(a.status, "IN_PROGRESS");
        assert_string_equal(a.detail, "");
        job_answer("{\"jobId\":\"job-1\",\"status\":\"COMPLETED\",\"entriesImported\":1}",
                   &a, 0);
        assert_true(a.ended);
        assert_string_equal(a.status, "COMPLETED");
        assert_string_equal(a.detail, "");
        /* docs/cxone-sim.md's failed job */
        job_answer("{\"jobId\":\"job-1\",\"status\":\"FAILED\",\"error\":{\"code\":"
                   "\"SCHEDULE_CONFLICT\",\"message\":\"agent a-1 overlaps\"}}",
                   &a, 0);
        assert_true(a.ended);
        assert_string_equal(a.status, "FAILED");
        assert_string_equal(a.detail, "agent a-1 overlaps");
        /* the error as a plain string */
        job_answer("{\"status\":\"FAILED\",\"error\":\"no capacity\"}", &a, 0);
        assert_string_equal(a.detail, "no capacity");
        /* an error text is kept only for an ended job */
        job_answer("{\"status\":\"RUNNING\",\"error\":\"transient\"}", &a, 0);
        assert_false(a.ended);
        assert_string_equal(a.status, "RUNNING");
        assert_string_equal(a.detail, "");
        /* matched exactly: case and spaces matter */
        job_answer("{\"status\":\"completed\"}", &a, 0);
        assert_false(a.ended);
        job_answer("{\"status\":\"COMPLETED \"}", &a, 0);
        assert_false(a.ended);
        /* an empty status is a status */
        job_answer("{\"status\":\"\"}", &a, 0);
        assert_true(a.has_status);
        assert_string_equal(a.status, "");
}

static void job_answer_of_wrong_types_or_no_json_has_no_status(void **state)
{
        static const char *const bodies[] = {
            "", "not json", "[\"status\",\"COMPLETED\"]", "\"COMPLETED\"", "null", "{",
            "{\"status\":\"COMPLETED\"", "{\"status\":\"COMPLETED\"}trailing",
            /* \u0000 is refused by the JSON reader */
            "{\"status\":\"COMPLETED\\u0000x\"}"};
        cxw_schedule_job_answer_t a;
        (void)state;
        for (size_t i = 0; i < sizeof(bodies) / sizeof(bodies[0]); i++) {
                job_answer(bodies[i], &a, -1);
                assert_false(a.has_status);
                assert_false(a.ended);
                assert_string_equal(a.status, "");
        }
        job_answer(NULL, &a, -1);
        assert_false(a.has_status);
        /* a JSON object whose status is not a string */
        job_answer("{\"status\":1}", &a, 0);
        assert_false(a.has_status);
        job_answer("{\"status\":null}", &a, 0);
        assert_false(a.has_status);
        job_answer("{\"status\":[\"COMPLETED\"]}", &a, 0);
        assert_false(a.has_status);
        job_answer("{\"status\":{\"value\":\"COMPLETED\"}}", &a, 0);
        assert_false(a.ended);
        /* an error of the wrong type: no detail */
        job_answer("{\"status\":\"FAILED\",\"error\":{\"message\":42}}", &a, 0);
        assert_true(a.ended);
        assert_string_equal(a.detail, "");
        job_answer("{\"status\":\"FAILED\",\"error\":[\"x\"]}", &a, 0);
        assert_string_equal(a.detail, "");
        job_answer("{\"status\":\"FAILED\",\"error\":{\"msg\":\"x\"}}", &a, 0);
        assert_string_equal(a.detail, "");
}

static int all_printable(const char *s)
{
        for (; *s; s++)
                if ((unsigned char)*s < 0x20 || (unsigned char)*s > 0x7e)
                        return 0;
        return 1;
}

/* Security finding 6: CXone's error text and an unknown status reach the
 * outcome, the dlq-reason header and `cxonectl results`: no control
 * character (terminal escapes) may survive. */
static void job_answer_text_is_printable_and_bounded(void **state)
{
        cxw_schedule_job_answer_t a;
        char body[4096], big[2000];
        (void)state;
        job_answer("{\"status\":\"FAILED\",\"error\":{\"message\":"
                   "\"\\u001b[2J\\u001b]0;pwned\\u0007bad\\r\\nline\\u007f\\u00e9\"}}",
                   &a, 0);
        assert_true(a.ended);
        assert_string_equal(a.detail, "?[2J?]0;pwned?bad??line???");
        job_answer("{\"status\":\"FAILED\",\"error\":\"tab\\there\\u009bx\"}", &a, 0);
        assert_string_equal(a.detail, "tab?here??x");
        /* an unknown status: filtered, kept whole up to 15 bytes */
        job_answer("{\"status\":\"\\u001b[31mRED\\n\"}", &a, 0);
        assert_true(a.has_status);
        assert_false(a.ended);
        assert_string_equal(a.status, "?[31mRED?");
        job_answer("{\"status\":\"FIFTEEN_BYTES_X\"}", &a, 0);
        assert_string_equal(a.status, "FIFTEEN_BYTES_X");
        job_answer("{\"status\":\"SIXTEEN_BYTES_XY\"}", &a, 0);
        assert_string_equal(a.status, "SIXTEEN_BYTE...");
        memset(big, 'S', sizeof(big) - 1);
        big[sizeof(big) - 1] = '\0';
        big[3] = '\x1b'; /* raw in the JSON text: refused by the reader */
        snprintf(body, sizeof(body), "{\"status\":\"%s\"}", big);
        job_answer(body, &a, -1);
        big[3] = 'S';
        snprintf(body, sizeof(body), "{\"status\":\"%s\"}", big);
        job_answer(body, &a, 0);
        assert_int_equal(strlen(a.status), CXW_SCHED_JOB_STATUS_SIZE - 1);
        /* an over-long error message: CXW_SCHED_JOB_DETAIL_MAX bytes + "..." */
        snprintf(body, sizeof(body),
                 "{\"status\":\"FAILED\",\"error\":{\"message\":\"%s\"}}", big);
        job_answer(body, &a, 0);
        assert_int_equal(strlen(a.detail), CXW_SCHED_JOB_DETAIL_MAX + 3);
        assert_string_equal(a.detail + CXW_SCHED_JOB_DETAIL_MAX, "...");
        assert_true(all_printable(a.detail));
        /* exactly the maximum: whole */
        big[CXW_SCHED_JOB_DETAIL_MAX] = '\0';
        snprintf(body, sizeof(body), "{\"status\":\"FAILED\",\"error\":\"%s\"}", big);
        job_answer(body, &a, 0);
        assert_string_equal(a.detail, big);
}

static void job_ids_are_bounded_safe_text(void **state)
{
        char id[CXW_SCHED_JOB_ID_MAX + 2];
        (void)state;
        assert_true(cxw_schedule_job_id_ok("job-0123456789abcdef"));
        assert_true(cxw_schedule_job_id_ok("A.b_c-9"));
        assert_false(cxw_schedule_job_id_ok(NULL));
        assert_false(cxw_schedule_job_id_ok(""));
        assert_false(cxw_schedule_job_id_ok("job 1"));
        assert_false(cxw_schedule_job_id_ok("job/../1"));
        assert_false(cxw_schedule_job_id_ok("."));  /* dot segments: */
        assert_false(cxw_schedule_job_id_ok("..")); /* another URL */
        assert_false(cxw_schedule_job_id_ok("..."));
        assert_true(cxw_schedule_job_id_ok(".a."));
        assert_false(cxw_schedule_job_id_ok("job\x1b[0m"));
        assert_false(cxw_schedule_job_id_ok("job\xc3\xa9"));
        assert_false(cxw_schedule_job_id_ok("job?x=1"));
        memset(id, 'j', CXW_SCHED_JOB_ID_MAX);
        id[CXW_SCHED_JOB_ID_MAX] = '\0';
        assert_true(cxw_schedule_job_id_ok(id));
        id[CXW_SCHED_JOB_ID_MAX] = 'j';
        id[CXW_SCHED_JOB_ID_MAX + 1] = '\0';
        assert_false(cxw_schedule_job_id_ok(id));
}

int main(void)
{
        const struct CMUnitTest tests[] = {
            cmocka_unit_test(each_case_of_the_table_is_decided_as_expected),
            cmocka_unit_test(seed_example_passes_with_its_figures_and_compact_body),
            cmocka_unit_test(nested_shifts_report_both_pairs_with_both_indexes),
            cmocka_unit_test(every_problem_is_collected_with_its_entry),
            cmocka_unit_test(samples_file_imports_end_as_documented),
            cmocka_unit_test(rfc3339_times_parse_to_the_right_instant),
            cmocka_unit_test(available_time_merges_windows_and_clips_them_to_the_shift),
            cmocka_unit_test(idempotency_key_is_the_header_or_the_source_position),
            cmocka_unit_test(allowed_values_come_from_the_limits),
            cmocka_unit_test(limits_are_enforced_and_named),
            cmocka_unit_test(huge_entries_count_is_rejected_before_any_entry_work),
            cmocka_unit_test(five_thousand_entries_are_checked_quickly),
            cmocka_unit_test(joined_message_fits_any_buffer),
            cmocka_unit_test(untrusted_text_is_echoed_printable_and_bounded),
            cmocka_unit_test(random_mutations_of_the_seed_never_crash),
            cmocka_unit_test(job_answer_says_status_and_ending),
            cmocka_unit_test(job_answer_of_wrong_types_or_no_json_has_no_status),
            cmocka_unit_test(job_answer_text_is_printable_and_bounded),
            cmocka_unit_test(job_ids_are_bounded_safe_text),
        };
        return cmocka_run_group_tests(tests, NULL, NULL);
}
