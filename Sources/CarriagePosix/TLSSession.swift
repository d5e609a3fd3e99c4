import COpenSSL
import Glibc

/// One TLS connection over a non-blocking socket: the handshake and record I/O, each a
/// call that may say it needs the socket readable or writable first. Made from a
/// ``TLSContext``; the `SSL` is freed in ``close()`` or `deinit`.
///
/// Not thread-safe: one thread at a time uses it (a server hands its connection from
/// worker to worker with a release/acquire, which carries this along).
public final class TLSSession {
    /// How a non-blocking call went.
    public enum IO: Equatable {
        /// Bytes read or written (for ``handshake()``: 0, it is complete).
        case done(Int)
        /// Call again once the socket is readable.
        case wantRead
        /// Call again once the socket is writable.
        case wantWrite
        /// The peer closed its side (close_notify, or EOF): no more data comes.
        case closed
    }

    private var handle: OpaquePointer?
    /// Keeps the settings this session was made with, whatever replaces them later.
    private let context: TLSContext

    /// Whether the handshake has completed.
    public private(set) var isEstablished = false

    /// A session on `fd`, the server's side unless `connecting`; the handshake starts at
    /// the first ``handshake()``.
    public init(context: TLSContext, fd: Int32, connecting: Bool = false) throws(TLSError) {
        self.context = context
        ERR_clear_error()
        guard let made = SSL_new(context.handle) else { throw .setup(TLSContext.takeReason()) }
        guard SSL_set_fd(made, fd) == 1 else {
            SSL_free(made)
            throw .setup(TLSContext.takeReason())
        }
        if connecting { SSL_set_connect_state(made) } else { SSL_set_accept_state(made) }
        handle = made
    }

    deinit {
        if let handle { SSL_free(handle) }
    }

    /// Advances the handshake; `.done(0)` once it is complete.
    public func handshake() throws(TLSError) -> IO {
        guard let handle else { throw .session("session closed") }
        let (result, error) = Self.call { SSL_do_handshake(handle) }
        if result == 1 {
            isEstablished = true
            return .done(0)
        }
        return try outcome(of: result, errno: error, handshaking: true)
    }

    /// Decrypts up to `count` bytes into the start of `buffer`.
    public func read(into buffer: inout [UInt8], count: Int) throws(TLSError) -> IO {
        // Result: `withUnsafeMutableBytes` rethrows untyped errors.
        try buffer.withUnsafeMutableBytes { raw in
            Result { () throws(TLSError) in try read(into: UnsafeMutableRawBufferPointer(rebasing: raw[..<min(count, raw.count)])) }
        }.get()
    }

    /// Decrypts up to `buffer.count` bytes into `buffer`.
    public func read(into buffer: UnsafeMutableRawBufferPointer) throws(TLSError) -> IO {
        guard let handle else { throw .session("session closed") }
        let (result, error) = Self.call { SSL_read(handle, buffer.baseAddress, Int32(min(buffer.count, Int(Int32.max)))) }
        if result > 0 { return .done(Int(result)) }
        return try outcome(of: result, errno: error, handshaking: false)
    }

    /// Encrypts and sends what it can of `bytes`.
    public func write(_ bytes: UnsafeRawBufferPointer) throws(TLSError) -> IO {
        guard let handle else { throw .session("session closed") }
        guard !bytes.isEmpty else { return .done(0) }
        let (result, error) = Self.call { SSL_write(handle, bytes.baseAddress, Int32(min(bytes.count, Int(Int32.max)))) }
        if result > 0 { return .done(Int(result)) }
        return try outcome(of: result, errno: error, handshaking: false)
    }

    /// Encrypts and sends what it can of `bytes` (whole records; partial writes allowed).
    public func write(_ bytes: ArraySlice<UInt8>) throws(TLSError) -> IO {
        try bytes.withUnsafeBytes { raw in Result { () throws(TLSError) in try write(raw) } }.get()
    }

    /// Decrypted bytes OpenSSL holds that a read returns without the socket: no readiness
    /// edge will announce them.
    public var pending: Int {
        guard let handle else { return 0 }
        return Int(SSL_pending(handle))
    }

    /// Sends close_notify if it can without waiting, and frees the session. Later calls
    /// do nothing.
    public func close() {
        guard let handle else { return }
        if isEstablished {
            ERR_clear_error()
            _ = SSL_shutdown(handle)
        }
        ERR_clear_error()
        SSL_free(handle)
        self.handle = nil
    }

    /// Runs one OpenSSL I/O call with a clear error queue and `errno` 0, and reads `errno`
    /// once, right after it: so an `errno` seen later is the call's own, never one left
    /// by an earlier `recv` on this thread.
    private static func call(_ body: () -> Int32) -> (result: Int32, errno: Int32) {
        ERR_clear_error()
        Glibc.errno = 0
        let result = body()
        return (result, Glibc.errno)
    }

    /// What a call's failure `result` means; `errno` as ``call(_:)`` read it.
    private func outcome(of result: Int32, errno: Int32, handshaking: Bool) throws(TLSError) -> IO {
        let code = SSL_get_error(handle, result)
        switch code {
        case SSL_ERROR_WANT_READ: return .wantRead
        case SSL_ERROR_WANT_WRITE: return .wantWrite
        case SSL_ERROR_ZERO_RETURN: return .closed
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0 && errno == 0:
            // No error queued and no syscall failed: the socket said EOF (OpenSSL reports
            // most of those as ZERO_RETURN under SSL_OP_IGNORE_UNEXPECTED_EOF).
            if handshaking { throw .session("the peer closed the connection during the handshake") }
            return .closed
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0 && (errno == EAGAIN || errno == EWOULDBLOCK):
            // The socket said "not now" (its retry flag unseen): nothing is lost, wait.
            return .wantRead
        case SSL_ERROR_SYSCALL where ERR_peek_error() == 0:
            throw .session(SystemError(call: "SSL", errno: errno).reason)
        default:
            var reason = TLSContext.takeReason()
            let verify = SSL_get_verify_result(handle)
            if verify != X509_V_OK, let text = X509_verify_cert_error_string(verify) {
                reason += " (\(String(cString: text)))"
            }
            throw .session(reason)
        }
    }
}
