import CarriagePosix

/// A connection accepted on a TLS listener. Its session is made by the first worker that
/// runs it, so the loop does no TLS work at all; a plain ``Connection`` pays nothing for
/// TLS (this subclass adds the field).
///
/// `@unchecked Sendable`: `session` is the running worker's, handed on as the
/// connection's other worker-owned fields are.
final class TLSConnection: Connection, @unchecked Sendable {
    /// nil until the first turn; freed by the worker that closes the connection, or with
    /// the connection when its loop closes it.
    var session: TLSSession?

    override init(fd: Int32, kind: ProtocolKind, now: Int, owner: ServerLoop, loop: EventLoop) throws(EventLoopError) {
        try super.init(fd: fd, kind: kind, now: now, owner: owner, loop: loop)
        isTLS = true
        // The handshake must finish within --request-timeout, as a request must arrive.
        partialSince.store(max(1, Int32(truncatingIfNeeded: now)), ordering: .relaxed)
    }
}
