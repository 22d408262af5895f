/**
 * @file pem.h
 * @brief Reading a TLS server certificate and its private key from PEM files
 *        for a listener (httpd.c): bounded reads, and checks that name the
 *        file at fault (no certificate in it, an encrypted or missing key, a
 *        key that is not the certificate's, an expired certificate), which
 *        libmicrohttpd itself would only report as "failed to start".
 */
#ifndef CXONE_PEM_H
#define CXONE_PEM_H

#include <stddef.h>

/** Largest PEM file read. */
#define CXW_PEM_FILE_MAX (1024 * 1024)

/**
 * @brief Reads cert_file and key_file (each a regular file of 1 byte to
 *        CXW_PEM_FILE_MAX, text without NUL bytes) and checks them: the first
 *        PEM certificate of cert_file is valid now, key_file holds an
 *        unencrypted PEM private key, and it is that certificate's key.
 * @param what prefix of messages, e.g. "TLS" or "admin TLS".
 * @returns 0 with *cert_pem and *key_pem set (NUL-terminated, malloc'ed), or
 *          -1 with errstr naming the file and the reason (nothing set; the
 *          file's content is never quoted).
 * @remark The caller owns both texts: free() them, the key after
 *         OPENSSL_cleanse(). A pass phrase is never asked for.
 * @locality any thread.
 */
int cxw_pem_load_pair(const char *what, const char *cert_file, const char *key_file,
                      char **cert_pem, char **key_pem, char *errstr, size_t errstr_size);

#endif
