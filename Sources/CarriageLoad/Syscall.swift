import Glibc

/// What a socket system call came back with, once `EINTR` has been retried away.
enum IOResult {
    /// The call succeeded; for `read`/`send`, the byte count (0 from `read` is EOF).
    case done(Int)
    /// `EAGAIN`/`EWOULDBLOCK` (or `EINPROGRESS` for `connect`): try again when the socket is ready.
    case wouldBlock
    /// Any other failure, with its `errno`.
    case failed(Int32)
}

/// The one place where the load tool makes socket system calls. Every call retries `EINTR`
/// and turns `EAGAIN` into `.wouldBlock`, so callers switch over three outcomes and never
/// read `errno` themselves.
enum Syscall {
    @inline(__always)
    private static func retrying(_ call: () -> Int) -> IOResult {
        while true {
            let result = call()
            if result >= 0 { return .done(result) }
            let code = errno
            if code == EINTR { continue }
            if code == EAGAIN || code == EWOULDBLOCK { return .wouldBlock }
            return .failed(code)
        }
    }

    /// A new non-blocking, close-on-exec TCP socket for `family`, with `TCP_NODELAY` set
    /// (a closed-loop client must not wait for Nagle) or the `errno` of the failure.
    static func tcpSocket(family: Int32) -> Result<Int32, SyscallError> {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = socket(family, type, 0)
        if fd < 0 { return .failure(SyscallError(call: "socket", code: errno)) }
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
        return .success(fd)
    }

    /// Starts a non-blocking connect. `.wouldBlock` means "in progress": wait for writability,
    /// then ask `pendingError`. `EINTR` is not retried here: an interrupted connect goes on
    /// in the background, and calling again would only say `EALREADY`.
    static func connect(_ fd: Int32, to address: SocketAddress) -> IOResult {
        let result = address.withSockaddr { pointer, length in
            Glibc.connect(fd, pointer, length)
        }
        if result == 0 { return .done(0) }
        let code = errno
        if code == EINPROGRESS || code == EINTR || code == EAGAIN { return .wouldBlock }
        return .failed(code)
    }

    /// The outcome of a finished non-blocking connect (`SO_ERROR`): 0 when it succeeded.
    static func pendingError(_ fd: Int32) -> Int32 {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        if getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) != 0 { return errno }
        return code
    }

    @inline(__always)
    static func read(_ fd: Int32, into buffer: UnsafeMutableRawPointer, count: Int) -> IOResult {
        retrying { Glibc.read(fd, buffer, count) }
    }

    /// `send` with `MSG_NOSIGNAL`: a peer that reset gives `EPIPE`, never `SIGPIPE`.
    @inline(__always)
    static func send(_ fd: Int32, from buffer: UnsafeRawPointer, count: Int) -> IOResult {
        retrying { Glibc.send(fd, buffer, count, Int32(MSG_NOSIGNAL)) }
    }

    /// Closes `fd`. Not retried on `EINTR`: Linux has released the descriptor either way,
    /// and a second close could close a descriptor another connection just got.
    static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// `strerror` as a Swift string (for messages, off the hot path).
    static func describe(_ code: Int32) -> String {
        String(cString: strerror(code))
    }
}

/// A failed system call, for setup paths that report and stop.
struct SyscallError: Error, CustomStringConvertible {
    let call: String
    let code: Int32
    var description: String { "\(call): \(Syscall.describe(code))" }
}
