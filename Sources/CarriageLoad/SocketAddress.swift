import Glibc

/// A resolved TCP endpoint (IPv4 or IPv6), copied out of `getaddrinfo` once at start-up so
/// that connecting never resolves again.
struct SocketAddress: Sendable, CustomStringConvertible {
    private let storage: sockaddr_storage
    private let length: socklen_t
    let family: Int32
    let host: String
    let port: Int

    /// Resolves `host` (a numeric address or a name such as `localhost`) for TCP.
    init(host: String, port: Int) throws(LoadError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | AI_ADDRCONFIG
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else {
            let reason = status == 0 ? "no address" : String(cString: gai_strerror(status))
            throw .badOption("cannot resolve host '\(host)': \(reason)")
        }
        defer { freeaddrinfo(list) }
        var storage = sockaddr_storage()
        let length = first.pointee.ai_addrlen
        withUnsafeMutableBytes(of: &storage) { target in
            target.copyMemory(from: UnsafeRawBufferPointer(start: first.pointee.ai_addr, count: Int(length)))
        }
        self.storage = storage
        self.length = length
        self.family = first.pointee.ai_family
        self.host = host
        self.port = port
    }

    /// Calls `body` with the `sockaddr` pointer and its length, for `connect`.
    func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }

    var description: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
