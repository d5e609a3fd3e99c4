import Glibc

/// The byte-level socket calls the server makes on a connected, non-blocking fd.
/// Buffers are Swift arrays; the pointer work stays inside this file.
enum Socket {
    /// Reads at most `count` bytes into the start of `buffer`. `.done(0)` is end of stream.
    static func read(_ fd: Int32, into buffer: inout [UInt8], count: Int) throws(SystemError) -> IOResult<Int> {
        precondition(count > 0 && count <= buffer.count, "read count out of the buffer")
        return try syscall("read") {
            buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress!, count) }
        }
    }

    /// Sends `bytes[range]`; a short count means the socket buffer filled.
    /// MSG_NOSIGNAL: a peer that went away is an EPIPE error, not a SIGPIPE.
    static func send(_ fd: Int32, _ bytes: [UInt8], _ range: Range<Int>) throws(SystemError) -> IOResult<Int> {
        try syscall("send") {
            bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + range.lowerBound, range.count, Int32(MSG_NOSIGNAL)) }
        }
    }

    /// Best-effort send of a short notice (a `BUSY` line) to a socket about to be closed.
    static func sendNotice(_ fd: Int32, _ text: StaticString) {
        _ = try? syscall("send") { Glibc.send(fd, text.utf8Start, text.utf8CodeUnitCount, Int32(MSG_NOSIGNAL)) }
    }

    static func close(_ fd: Int32) {
        // Linux frees the fd even when close fails with EINTR: never retry it.
        _ = Glibc.close(fd)
    }

    /// The local port a bound socket got (for `--port 0`).
    static func localPort(_ fd: Int32) throws(SystemError) -> Int {
        var address = sockaddr_storage()
        var length = socklen_t(MemoryLayout<sockaddr_storage>.size)
        _ = try withUnsafeMutablePointer(to: &address) { pointer throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try syscallBlocking("getsockname") { getsockname(fd, sa, &length) }
            }
        }
        switch Int32(address.ss_family) {
        case AF_INET:
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr_in.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin_port)) }
            }
        case AF_INET6:
            return withUnsafePointer(to: &address) {
                $0.withMemoryRebound(to: sockaddr_in6.self, capacity: 1) { Int(UInt16(bigEndian: $0.pointee.sin6_port)) }
            }
        default:
            return 0
        }
    }

    /// TCP_NODELAY: replies are whole lines; do not hold them back for Nagle.
    static func setNoDelay(_ fd: Int32) {
        var one: Int32 = 1
        _ = setsockopt(fd, Int32(IPPROTO_TCP), TCP_NODELAY, &one, socklen_t(MemoryLayout<Int32>.size))
    }
}
