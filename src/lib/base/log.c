/* log.c: JSON-lines logger on stderr. */
#include "cxone/base/log.h"
#include "cxone/base/util.h"

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

/* Appends s to out[pos..] as the inside of a JSON string, escaping as
 * needed, up to limit: a character goes in whole or not at all, so what
 * follows the string always has out[limit..] for itself. */
static size_t json_escape(char *out, size_t limit, size_t pos, const char *s)
{
        for (; *s; s++) {
                unsigned char c = (unsigned char)*s;
                char esc[8];
                size_t n;

                if (c == '"' || c == '\\') {
                        esc[0] = '\\';
                        esc[1] = (char)c;
                        n = 2;
                } else if (c == '\n') {
                        esc[0] = '\\';
                        esc[1] = 'n';
                        n = 2;
                } else if (c < 0x20) {
                        n = (size_t)snprintf(esc, sizeof(esc), "\\u%04x", c);
                } else {
                        esc[0] = (char)c;
                        n = 1;
                }
                if (pos + n > limit)
                        break;
                memcpy(out + pos, esc, n);
                pos += n;
        }
        return pos;
}

static int is_number(const char *v)
{
        const char *p = v + (*v == '-');

        if (!*p || (p[0] == '0' && p[1]) || strlen(p) > 18)
                return 0;
        for (; *p; p++)
                if (*p < '0' || *p > '9')
                        return 0;
        return 1;
}

static void vlog(cxw_log_level_t level, const char *component, const char *const *kv,
                 const char *fmt, va_list ap)
{
        char msg[2048];
        char line[6144];
        char ts[40];
        size_t pos;

        vsnprintf(msg, sizeof(msg), fmt, ap);
        cxw_rfc3339(cxw_wall_ms(), ts, sizeof(ts));
        pos = (size_t)snprintf(line, sizeof(line),
                               "{\"time\":\"%s\",\"level\":\"%s\",\"component\":\"", ts,
                               cxw_log_level_str(level));
        /* Each string leaves room for what must follow it: the msg member
         * (9), and the closing quote, '}' and newline (3). */
        pos = json_escape(line, sizeof(line) - 12, pos, component ? component : "");
        memcpy(line + pos, "\",\"msg\":\"", 9);
        pos += 9;
        pos = json_escape(line, sizeof(line) - 3, pos, msg);
        line[pos++] = '"';
        /* A field goes in only with 64 bytes to spare; its name and value
         * stop 32 bytes before the end, which leaves room for the quotes
         * and the colon after them and for the closing '}' and newline. */
        for (size_t i = 0; kv && kv[i] && pos + 64 < sizeof(line); i += 2) {
                const char *v = kv[i + 1];
                if (!v)
                        continue;
                line[pos++] = ',';
                line[pos++] = '"';
                pos = json_escape(line, sizeof(line) - 32, pos, kv[i]);
                line[pos++] = '"';
                line[pos++] = ':';
                if (is_number(v)) {
                        pos = json_escape(line, sizeof(line) - 32, pos, v);
                } else {
                        line[pos++] = '"';
                        pos = json_escape(line, sizeof(line) - 32, pos, v);
                        line[pos++] = '"';
                }
        }
        memcpy(line + pos, "}\n", 2);
        pos += 2;
        /* One write per line keeps lines whole when threads log at once. */
        fwrite(line, 1, pos, stderr);
        fflush(stderr);
}

void cxw_log_write(cxw_log_level_t level, const char *component, const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vlog(level, component, NULL, fmt, ap);
        va_end(ap);
}

void cxw_log_kv(cxw_log_level_t level, const char *component, const char *const *kv,
                const char *fmt, ...)
{
        va_list ap;

        va_start(ap, fmt);
        vlog(level, component, kv, fmt, ap);
        va_end(ap);
}
