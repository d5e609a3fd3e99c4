import COpenSSL

/// A server's TLS settings: its certificate chain and key, TLS 1.2 and newer only, and,
/// for mutual TLS, the CAs a client's certificate must chain to. One `SSL_CTX`, made in
/// `init` and freed in `deinit`; every ``TLSSession`` made from it holds it.
///
/// `@unchecked Sendable`: configured once in `init` and never changed after; OpenSSL
/// makes sessions from one context on many threads at once.
public final class TLSContext: @unchecked Sendable {
    let handle: OpaquePointer

    /// Loads `certificate` (PEM, the chain after the leaf), `key` (PEM), and with
    /// `clientCA` the CAs client certificates are checked against; `verifyClients`
    /// refuses a client without a valid certificate (mutual TLS).
    public init(certificate: String, key: String, clientCA: String? = nil, verifyClients: Bool = false) throws(TLSError) {
        guard let made = SSL_CTX_new(TLS_server_method()) else { throw .setup(TLSContext.takeReason()) }
        handle = made
        guard carriage_ssl_ctx_set_min_proto_version(made, TLS1_2_VERSION) == 1 else { throw .setup(Self.takeReason()) }
        // Partial writes, as send(2) does; a retried write may come from a moved buffer.
        _ = carriage_ssl_ctx_set_mode(made, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER | SSL_MODE_RELEASE_BUFFERS))
        carriage_ssl_ctx_set_server_options(made)
        guard SSL_CTX_use_certificate_chain_file(made, certificate) == 1 else {
            throw .cannotLoad(what: "--tls-cert", path: certificate, reason: Self.takeReason())
        }
        guard SSL_CTX_use_PrivateKey_file(made, key, SSL_FILETYPE_PEM) == 1 else {
            throw .cannotLoad(what: "--tls-key", path: key, reason: Self.takeReason())
        }
        guard SSL_CTX_check_private_key(made) == 1 else {
            throw .keyMismatch(certificate: certificate, key: key, reason: Self.takeReason())
        }
        if let clientCA {
            guard SSL_CTX_load_verify_locations(made, clientCA, nil) == 1,
                  let names = SSL_load_client_CA_file(clientCA) else {
                throw .cannotLoad(what: "--tls-ca", path: clientCA, reason: Self.takeReason())
            }
            SSL_CTX_set_client_CA_list(made, names)  // takes ownership of `names`
        }
        if verifyClients {
            SSL_CTX_set_verify(made, SSL_VERIFY_PEER | SSL_VERIFY_FAIL_IF_NO_PEER_CERT, nil)
        }
    }

    /// A client's settings (the load tool's `--tls`): TLS 1.2 and newer; with `trusting`,
    /// the server's certificate must chain to those CAs, else it is not checked.
    public init(clientTrusting caPath: String?) throws(TLSError) {
        guard let made = SSL_CTX_new(TLS_client_method()) else { throw .setup(TLSContext.takeReason()) }
        handle = made
        guard carriage_ssl_ctx_set_min_proto_version(made, TLS1_2_VERSION) == 1 else { throw .setup(Self.takeReason()) }
        _ = carriage_ssl_ctx_set_mode(made, Int(SSL_MODE_ENABLE_PARTIAL_WRITE | SSL_MODE_ACCEPT_MOVING_WRITE_BUFFER))
        carriage_ssl_ctx_set_server_options(made)
        if let caPath {
            guard SSL_CTX_load_verify_locations(made, caPath, nil) == 1 else {
                throw .cannotLoad(what: "--tls-ca", path: caPath, reason: Self.takeReason())
            }
            SSL_CTX_set_verify(made, SSL_VERIFY_PEER, nil)
        }
    }

    deinit {
        SSL_CTX_free(handle)
    }

    /// OpenSSL's reason for the oldest error on this thread's queue, and an empty queue.
    static func takeReason() -> String {
        let code = ERR_get_error()
        ERR_clear_error()
        guard code != 0 else { return "unknown error" }
        var text = [CChar](repeating: 0, count: 256)
        ERR_error_string_n(code, &text, text.count)
        return String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    }
}
