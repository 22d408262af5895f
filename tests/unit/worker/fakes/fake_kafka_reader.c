/* fake_kafka_reader.c: the Kafka fake's reader of the budget topic
 * (kafka_reader.c's functions, fakes.h). */
#include "fake_kafka_int.h"

#include <stdlib.h>

/* The reader of the budget topic: reads nothing. */
cxw_kafka_reader_t *cxw_kafka_reader_new(const cxw_config_t *cfg, const char *topic,
                                         int wakeup_fd, char *errstr, size_t errstr_size)
{
        (void)cfg;
        (void)topic;
        (void)wakeup_fd;
        (void)errstr;
        (void)errstr_size;
        return calloc(1, sizeof(cxw_kafka_reader_t));
}

void cxw_kafka_reader_destroy(cxw_kafka_reader_t *r)
{
        free(r);
}

int cxw_kafka_reader_start(cxw_kafka_reader_t *r, int timeout_ms)
{
        (void)timeout_ms;
        r->started = 1;
        return 1;
}

void cxw_kafka_reader_poll(cxw_kafka_reader_t *r,
                           void (*cb)(void *opaque, const void *value, size_t len),
                           void *opaque)
{
        (void)r;
        (void)cb;
        (void)opaque;
}

int cxw_kafka_reader_more(const cxw_kafka_reader_t *r)
{
        (void)r;
        return 0;
}
