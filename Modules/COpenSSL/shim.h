#ifndef CARRIAGE_COPENSSL_SHIM_H
#define CARRIAGE_COPENSSL_SHIM_H

// The system headers first, as in CLibevent's shim: one form of glibc's types for
// every module.
#include <sys/types.h>
#include <stdint.h>
#include <stddef.h>

#include <openssl/ssl.h>
#include <openssl/err.h>
#include <openssl/x509.h>

// OpenSSL spells these as function-like macros over SSL_CTX_ctrl / SSL_ctrl, which
// Swift cannot import; these inline wrappers give Swift the same calls.

/// `SSL_CTX_set_min_proto_version(ctx, version)`.
static inline int carriage_ssl_ctx_set_min_proto_version(SSL_CTX *ctx, int version) {
    return (int)SSL_CTX_set_min_proto_version(ctx, version);
}

/// `SSL_CTX_set_mode(ctx, mode)`.
static inline long carriage_ssl_ctx_set_mode(SSL_CTX *ctx, long mode) {
    return SSL_CTX_set_mode(ctx, mode);
}

/// `SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION)`:
/// a peer that closes without close_notify ends the stream as EOF, not an error, and no
/// client-started renegotiation. (The option bits are macros over a macro.)
static inline void carriage_ssl_ctx_set_server_options(SSL_CTX *ctx) {
    SSL_CTX_set_options(ctx, SSL_OP_IGNORE_UNEXPECTED_EOF | SSL_OP_NO_RENEGOTIATION);
}

#endif
