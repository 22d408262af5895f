/* kafka_conf.c: one librdkafka configuration from the config file (kafka.h),
 * for the worker's clients and cxonectl's. Apart from the files of the
 * worker's clients (kafka.c, kafka_consumer.c, ...), so that the worker's
 * unit-test fake of those need not define it. */
#include "cxone/io/kafka.h"

#include <stdio.h>
#include <stdlib.h>

static int set_prop(rd_kafka_conf_t *conf, const char *prop, const char *origin,
                    char *errstr, size_t errstr_size)
{
        char *name = NULL, *value = NULL;
        char err[512];

        if (cxw_config_split_prop(prop, &name, &value) == -1) {
                snprintf(errstr, errstr_size, "%s: \"%s\" is not name=value", origin,
                         prop);
                return -1;
        }
        if (rd_kafka_conf_set(conf, name, value, err, sizeof(err)) != RD_KAFKA_CONF_OK) {
                snprintf(errstr, errstr_size, "%s: %s", origin, err);
                free(name);
                return -1;
        }
        free(name); /* value points into the same allocation */
        return 0;
}

static int set_list(rd_kafka_conf_t *conf, const cxw_strlist_t *l, const char *origin,
                    char *errstr, size_t errstr_size)
{
        for (size_t i = 0; i < l->cnt; i++)
                if (set_prop(conf, l->v[i], origin, errstr, errstr_size) == -1)
                        return -1;
        return 0;
}

rd_kafka_conf_t *cxw_kafka_conf_new(const cxw_config_t *cfg, cxw_kafka_conf_role_t role,
                                    const char *client_id, const char *const *defaults,
                                    cxw_kafka_log_cb_t *log_cb, char *errstr,
                                    size_t errstr_size)
{
        rd_kafka_conf_t *conf = rd_kafka_conf_new();
        char err[512];

        if (rd_kafka_conf_set(conf, "bootstrap.servers", cfg->bootstrap_servers, err,
                              sizeof(err)) != RD_KAFKA_CONF_OK ||
            rd_kafka_conf_set(conf, "client.id", client_id, err, sizeof(err)) !=
                RD_KAFKA_CONF_OK) {
                snprintf(errstr, errstr_size, "kafka: %s", err);
                goto fail;
        }
        for (size_t i = 0; defaults && defaults[i]; i++)
                if (set_prop(conf, defaults[i], "built-in default", errstr, errstr_size))
                        goto fail;
        if (set_list(conf, &cfg->kafka_props, "kafka.properties", errstr, errstr_size))
                goto fail;
        if (role == CXW_KAFKA_CONF_CONSUMER &&
            set_list(conf, &cfg->consumer_props, "kafka.consumer_properties", errstr,
                     errstr_size))
                goto fail;
        if (role == CXW_KAFKA_CONF_PRODUCER &&
            set_list(conf, &cfg->producer_props, "kafka.producer_properties", errstr,
                     errstr_size))
                goto fail;
        if (log_cb)
                rd_kafka_conf_set_log_cb(conf, log_cb);
        return conf;
fail:
        rd_kafka_conf_destroy(conf);
        return NULL;
}
