/* log.c: JSON-lines logger on stderr. */
#include "cxone/log.h"
#include "cxone/util.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/* The one mutable global besides the signal flag: the threshold is set once
 * at start-up, before any thread exists, and only read afterwards. */
cxw_log_level_t cxw_log_threshold = CXW_LOG_INFO;

static const char *const level_names[] = {"error", "warn", "info", "debug"};

int cxw_log_set_level(const char *name)
{
        for (size_t i = 0; i < sizeof(level_names) / sizeof(level_names[0]); i++) {
                if (strcmp(name, level_names[i]) == 0) {
                        cxw_log_threshold = (cxw_log_level_t)i;
                        return 0;
                }
        }
        return -1;
}

const char *cxw_log_level_str(cxw_log_level_t level)
{
        if ((unsigned)level >= sizeof(level_names) / sizeof(level_names[0]))
                return "unknown";
        return level_names[level];
}

/* Appends s to out as the inside of a JSON string, escaping as needed. */
static size_t json_escape(char *out, size_t size, size_t pos, const char *s)
{
        for (; *s && pos + 7 < size; s++) {
                unsigned char c = (unsigned char)*s;
                if (c == '"' || c == '\\') {
                        out[pos++] = '\\';
                        out[pos++] = (char)c;
                } else if (c == '\n') {
                        out[pos++] = '\\';
                        out[pos++] = 'n';
                } else if (c < 0x20) {
                        pos += (size_t)snprintf(out + pos, size - pos, "\\u%04x", c);
                } else {
                        out[pos++] = (char)c;
                }
        }
        return pos;
}

void cxw_log_write(cxw_log_level_t level, const char *component, const char *fmt, ...)
{
        char msg[2048];
        char line[4608];
        char ts[40];
        size_t pos;
        va_list ap;

        va_start(ap, fmt);
        vsnprintf(msg, sizeof(msg), fmt, ap);
        va_end(ap);

        cxw_rfc3339(cxw_wall_ms(), ts, sizeof(ts));
        pos = (size_t)snprintf(line, sizeof(line),
                               "{\"time\":\"%s\",\"level\":\"%s\",\"component\":\"", ts,
                               cxw_log_level_str(level));
        pos = json_escape(line, sizeof(line), pos, component ? component : "");
        memcpy(line + pos, "\",\"msg\":\"", 9);
        pos += 9;
        pos = json_escape(line, sizeof(line), pos, msg);
        memcpy(line + pos, "\"}\n", 3);
        pos += 3;
        /* One write per line keeps lines whole when threads log at once. */
        fwrite(line, 1, pos, stderr);
        fflush(stderr);
}
