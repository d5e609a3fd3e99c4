import Glibc

/// The socket calls of the server and the load tool, on non-blocking descriptors. Each
/// goes through ``syscall(_:_:)``: EINTR retried, EAGAIN as `.wouldBlock`, other
/// failures a ``SystemError``.
package enum Socket {
    // MARK: Bytes

    /// Reads at most `count` bytes into the start of `buffer`. `.done(0)` is end of stream.
    @inlinable @inline(__always)
    package static func read(_ fd: Int32, into buffer: inout [UInt8], count: Int) throws(SystemError) -> IOResult<Int> {
        precondition(count > 0 && count <= buffer.count, "read count out of the buffer")
        return try syscall("read") {
            buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, count) }
        }
    }

    /// Reads into memory the caller owns (the load tool's buffers).
    @inlinable @inline(__always)
    package static func read(_ fd: Int32, into buffer: UnsafeMutableRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try syscall("read") { Glibc.read(fd, buffer.baseAddress!, buffer.count) }
    }

    /// Sends `bytes[range]`; a short count means the socket buffer filled.
    /// MSG_NOSIGNAL: a peer that went away is an EPIPE error, not a SIGPIPE.
    @inlinable @inline(__always)
    package static func send(_ fd: Int32, _ bytes: [UInt8], _ range: Range<Int>) throws(SystemError) -> IOResult<Int> {
        try syscall("send") {
            bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + range.lowerBound, range.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// Sends from memory the caller owns (the load tool's buffers).
    @inlinable @inline(__always)
    package static func send(_ fd: Int32, _ bytes: UnsafeRawBufferPointer) throws(SystemError) -> IOResult<Int> {
        try syscall("send") { Glibc.send(fd, bytes.baseAddress!, bytes.count, Int32(MSG_NOSIGNAL)) }
    }

    /// Best-effort send of a short notice (a `BUSY` line) to a socket about to be closed.
    package static func sendNotice(_ fd: Int32, _ text: StaticString) {
        _ = try? syscall("send") { Glibc.send(fd, text.utf8Start, text.utf8CodeUnitCount, Int32(MSG_NOSIGNAL)) }
    }

    package static func close(_ fd: Int32) {
        Descriptor.close(fd)
    }

    // MARK: Connecting (clients)

    /// A new non-blocking, close-on-exec TCP socket for `family`, with TCP_NODELAY.
    package static func makeTCP(family: Int32) throws(SystemError) -> Int32 {
        let type = Int32(SOCK_STREAM.rawValue) | Int32(SOCK_NONBLOCK.rawValue) | Int32(SOCK_CLOEXEC.rawValue)
        let fd = try syscallBlocking("socket") { socket(family, type, 0) }
        setNoDelay(fd)
        return fd
    }

    /// Starts a non-blocking connect. `.wouldBlock` means in progress: wait for
    /// writability, then ask ``pendingError(_:)``. An interrupted connect goes on in the
    /// background (calling again would say EALREADY), so EINTR counts as in progress too.
    package static func connect(_ fd: Int32, to address: SocketAddress) throws(SystemError) -> IOResult<Void> {
        switch try syscall("connect", startsInBackground: true, { address.withSockaddr { Glibc.connect(fd, $0, $1) } }) {
        case .done: return .done(())
        case .wouldBlock: return .wouldBlock
        }
    }

    /// How a finished non-blocking connect ended (`SO_ERROR`): nil when it succeeded.
    package static func pendingError(_ fd: Int32) -> SystemError? {
        var code: Int32 = 0
        var length = socklen_t(MemoryLayout<Int32>.size)
        do {
            _ = try syscallBlocking("getsockopt") { getsockopt(fd, SOL_SOCKET, SO_ERROR, &code, &length) }
        } catch {
            return error
        }
        return code == 0 ? nil : SystemError(call: "connect", errno: code)
    }

    // MARK: Options

    /// TCP_NODELAY: requests and replies are whole lines; do not hold them back for Nagle.
    package static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }

    /// The peer of a connected socket as logs show it: `127.0.0.1:50412`, `[::1]:50412`;
    /// `?` when it is gone.
    package static func peerName(_ fd: Int32) -> String {
        guard let peer = try? address(of: fd, peer: true) else { return "?" }
        return endpoint(host: peer.host, port: peer.port)
    }

    /// `host:port` as logs and URLs write it: an IPv6 address in brackets.
    package static func endpoint(host: String, port: Int) -> String {
        host.contains(":") ? "[\(host)]:\(port)" : "\(host):\(port)"
    }

    /// The local port a bound socket got (for port 0).
    package static func localPort(_ fd: Int32) throws(SystemError) -> Int {
        try address(of: fd, peer: false)?.port ?? 0
    }

    /// Whether a bound socket's own address is a loopback one: 127.0.0.0/8, `::1`, or
    /// 127.x mapped into IPv6.
    package static func isLoopback(_ fd: Int32) throws(SystemError) -> Bool {
        guard let host = try address(of: fd, peer: false)?.host else { return false }
        return host.hasPrefix("127.") || host == "::1" || host.hasPrefix("::ffff:127.")
    }

    /// A socket's own address (`getsockname`) or its peer's (`getpeername`), as numeric
    /// host and port; nil for a family other than IPv4 and IPv6.
    private static func address(of fd: Int32, peer: Bool) throws(SystemError) -> (host: String, port: Int)? {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &address) { pointer throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                peer ? try syscallBlocking("getpeername") { getpeername(fd, sa, &length) }
                     : try syscallBlocking("getsockname") { getsockname(fd, sa, &length) }
            }
        }
        var text = [CChar](repeating: 0, count: Int(INET6_ADDRSTRLEN) + 1)
        var port = 0
        switch Int32(address.ss_family) {
        case AF_INET:
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { sin in
                    var host = sin.pointee.sin_addr
                    inet_ntop(AF_INET, &host, &text, socklen_t(text.count))
                    port = Int(UInt16(bigEndian: sin.pointee.sin_port))
                }
            }
        case AF_INET6:
            withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { sin6 in
                    var host = sin6.pointee.sin6_addr
                    inet_ntop(AF_INET6, &host, &text, socklen_t(text.count))
                    port = Int(UInt16(bigEndian: sin6.pointee.sin6_port))
                }
            }
        default:
            return nil
        }
        return (String(decoding: text.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self), port)
    }
}
