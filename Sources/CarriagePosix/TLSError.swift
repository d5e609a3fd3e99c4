/// Why a TLS context or session failed, with OpenSSL's own reason (the oldest error on
/// the calling thread's queue, which is then cleared).
public enum TLSError: Error, Equatable, CustomStringConvertible {
    /// A certificate, key or CA file would not load; `what` names the flag.
    case cannotLoad(what: String, path: String, reason: String)
    /// The key does not belong to the certificate.
    case keyMismatch(certificate: String, key: String, reason: String)
    /// OpenSSL could not make a context or session (out of memory, mostly).
    case setup(String)
    /// A session's handshake or record I/O failed: the peer sent what is not TLS, or
    /// not what was agreed, or its certificate was refused; or the socket failed.
    case session(String)

    public var description: String {
        switch self {
        case .cannotLoad(let what, let path, let reason): "cannot load \(what) \(path): \(reason)"
        case .keyMismatch(let certificate, let key, let reason):
            "--tls-key \(key) does not match --tls-cert \(certificate): \(reason)"
        case .setup(let reason): "TLS setup failed: \(reason)"
        case .session(let reason): reason
        }
    }
}
