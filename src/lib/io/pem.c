/* pem.c: a TLS server certificate and its key, read from PEM files with a
 * bound and checked with OpenSSL before a listener hands them on. */
#include "cxone/io/pem.h"

#include <errno.h>
#include <fcntl.h>
#include <stdbool.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/err.h>
#include <openssl/evp.h>
#include <openssl/pem.h>
#include <openssl/x509.h>

/* Reads a PEM file of at most CXW_PEM_FILE_MAX bytes, NUL-terminated.
 * @returns the text (free() it), or NULL with errstr naming the file. */
static char *read_pem(const char *what, const char *kind, const char *path, char *errstr,
                      size_t errstr_size)
{
        struct stat st;
        char *buf = NULL;
        size_t len = 0;
        int fd = open(path, O_RDONLY | O_CLOEXEC);

        if (fd < 0 || fstat(fd, &st) != 0) {
                snprintf(errstr, errstr_size, "%s %s %.200s: %s", what, kind, path,
                         strerror(errno));
                goto fail;
        }
        if (!S_ISREG(st.st_mode) || st.st_size <= 0 || st.st_size > CXW_PEM_FILE_MAX) {
                snprintf(errstr, errstr_size,
                         "%s %s %.200s: not a regular file of 1 byte to 1 MiB", what,
                         kind, path);
                goto fail;
        }
        buf = malloc((size_t)st.st_size + 1);
        if (!buf) {
                snprintf(errstr, errstr_size, "out of memory");
                goto fail;
        }
        while (len < (size_t)st.st_size) {
                ssize_t n = read(fd, buf + len, (size_t)st.st_size - len);
                if (n < 0 && errno == EINTR)
                        continue;
                if (n <= 0) {
                        snprintf(errstr, errstr_size, "%s %s %.200s: %s", what, kind,
                                 path, n < 0 ? strerror(errno) : "shorter than its size");
                        goto fail;
                }
                len += (size_t)n;
        }
        buf[len] = '\0';
        if (strlen(buf) != len) {
                snprintf(errstr, errstr_size, "%s %s %.200s: not a PEM text file", what,
                         kind, path);
                goto fail;
        }
        close(fd);
        return buf;
fail:
        if (fd >= 0)
                close(fd);
        free(buf);
        return NULL;
}

/* A pass phrase is never asked for (OpenSSL would read the terminal). */
static int no_passphrase(char *buf, int size, int rwflag, void *u)
{
        (void)buf, (void)size, (void)rwflag, (void)u;
        return -1;
}

int cxw_pem_load_pair(const char *what, const char *cert_file, const char *key_file,
                      char **cert_pem, char **key_pem, char *errstr, size_t errstr_size)
{
        char *cert = NULL, *key = NULL;
        BIO *bio = NULL;
        X509 *x = NULL;
        EVP_PKEY *k = NULL;
        int rc = -1;

        *cert_pem = *key_pem = NULL;
        if (!cert_file || !key_file) {
                snprintf(errstr, errstr_size, "%s: a certificate and its key go together",
                         what);
                return -1;
        }
        if (!(cert = read_pem(what, "certificate", cert_file, errstr, errstr_size)) ||
            !(key = read_pem(what, "key", key_file, errstr, errstr_size)))
                goto out;
        if (!(bio = BIO_new_mem_buf(cert, -1)) ||
            !(x = PEM_read_bio_X509(bio, NULL, no_passphrase, NULL))) {
                snprintf(errstr, errstr_size,
                         "%s certificate %.200s: no PEM certificate in it", what,
                         cert_file);
                goto out;
        }
        BIO_free(bio);
        if (!(bio = BIO_new_mem_buf(key, -1)) ||
            !(k = PEM_read_bio_PrivateKey(bio, NULL, no_passphrase, NULL))) {
                snprintf(errstr, errstr_size,
                         "%s key %.200s: no unencrypted PEM private key in it", what,
                         key_file);
                goto out;
        }
        if (X509_check_private_key(x, k) != 1) {
                snprintf(errstr, errstr_size,
                         "%s key %.200s is not the key of certificate %.200s", what,
                         key_file, cert_file);
                goto out;
        }
        if (X509_cmp_current_time(X509_get0_notAfter(x)) <= 0 ||
            X509_cmp_current_time(X509_get0_notBefore(x)) > 0) {
                snprintf(errstr, errstr_size,
                         "%s certificate %.200s is not valid now (expired or not yet "
                         "valid)",
                         what, cert_file);
                goto out;
        }
        *cert_pem = cert;
        *key_pem = key;
        cert = key = NULL;
        rc = 0;
out:
        /* OpenSSL's queue would otherwise hold the reasons for this thread. */
        ERR_clear_error();
        BIO_free(bio);
        X509_free(x);
        EVP_PKEY_free(k);
        free(cert);
        if (key)
                OPENSSL_cleanse(key, strlen(key));
        free(key);
        return rc;
}
