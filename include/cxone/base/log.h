/**
 * @file log.h
 * @brief One JSON object per line on stderr: time, level, component, message.
 *
 * The level is checked before anything is formatted (CXW_LOG), so a debug
 * line costs one comparison when debug is off. Never pass secrets (client
 * secret, access token, Authorization header) to the logger.
 */
#ifndef CXONE_LOG_H
#define CXONE_LOG_H

typedef enum {
        CXW_LOG_ERROR = 0,
        CXW_LOG_WARN,
        CXW_LOG_INFO,
        CXW_LOG_DEBUG,
} cxw_log_level_t;

/** @brief The current threshold; lines above it are not formatted. */
extern cxw_log_level_t cxw_log_threshold;

/**
 * @brief Sets the threshold from a name: error, warn, info, debug.
 * @returns 0, or -1 for an unknown name (threshold unchanged).
 */
int cxw_log_set_level(const char *name);

/** @brief The level's name ("error", ...). */
const char *cxw_log_level_str(cxw_log_level_t level);

/**
 * @brief Writes one line. component is a short module name ("kafka",
 *        "http", ...). Use CXW_LOG() instead, which checks the level first.
 * @locality any thread (librdkafka's log callback calls it from its own).
 */
void cxw_log_write(cxw_log_level_t level, const char *component, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/**
 * @brief Like cxw_log_write(), with fields: kv is a NULL-terminated list of
 *        name, value pairs written as members of the line's object after
 *        "msg" (a value of digits, optionally signed, as a JSON number; a
 *        NULL value is left out). Use CXW_LOG_KV().
 */
void cxw_log_kv(cxw_log_level_t level, const char *component, const char *const *kv,
                const char *fmt, ...) __attribute__((format(printf, 4, 5)));

#define CXW_LOG_KV(level, component, kv, ...)                                            \
        do {                                                                             \
                if ((level) <= cxw_log_threshold)                                        \
                        cxw_log_kv((level), (component), (kv), __VA_ARGS__);             \
        } while (0)

#define CXW_LOG(level, component, ...)                                                   \
        do {                                                                             \
                if ((level) <= cxw_log_threshold)                                        \
                        cxw_log_write((level), (component), __VA_ARGS__);                \
        } while (0)

#define CXW_ERROR(comp, ...) CXW_LOG(CXW_LOG_ERROR, comp, __VA_ARGS__)
#define CXW_WARN(comp, ...)  CXW_LOG(CXW_LOG_WARN, comp, __VA_ARGS__)
#define CXW_INFO(comp, ...)  CXW_LOG(CXW_LOG_INFO, comp, __VA_ARGS__)
#define CXW_DEBUG(comp, ...) CXW_LOG(CXW_LOG_DEBUG, comp, __VA_ARGS__)

#endif
