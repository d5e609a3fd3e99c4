import Glibc

/// Why a host name could not be turned into an address (getaddrinfo's own codes, not
/// errno).
public struct AddressError: Error, Equatable, CustomStringConvertible {
    public let host: String
    public let code: Int32

    /// getaddrinfo's text for `code` ("Name or service not known").
    public var reason: String { code == 0 ? "no address" : String(cString: gai_strerror(code)) }

    public var description: String { "cannot resolve \(host): \(reason)" }
}

/// A resolved TCP endpoint (IPv4 or IPv6), copied out of `getaddrinfo` once, so that
/// binding or connecting never resolves again.
package struct SocketAddress: Sendable, CustomStringConvertible {
    private let storage: sockaddr_storage
    private let length: socklen_t
    package let family: Int32
    package let host: String
    package let port: Int

    /// Resolves `host` (numeric or a name) and `port` for TCP. `passive`: an address to
    /// listen on (`AI_PASSIVE`); otherwise one to connect to (`AI_ADDRCONFIG`).
    package init(host: String, port: Int, passive: Bool) throws(AddressError) {
        var hints = addrinfo()
        hints.ai_family = AF_UNSPEC
        hints.ai_socktype = Int32(SOCK_STREAM.rawValue)
        hints.ai_flags = AI_NUMERICSERV | (passive ? AI_PASSIVE : AI_ADDRCONFIG)
        var list: UnsafeMutablePointer<addrinfo>?
        let status = getaddrinfo(host, String(port), &hints, &list)
        guard status == 0, let first = list else { throw AddressError(host: host, code: status) }
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

    /// Calls `body` with the `sockaddr` pointer and its length (for bind, connect).
    package func withSockaddr<R>(_ body: (UnsafePointer<sockaddr>, socklen_t) -> R) -> R {
        withUnsafeBytes(of: storage) { raw in
            body(raw.baseAddress!.assumingMemoryBound(to: sockaddr.self), length)
        }
    }

    package var description: String { family == AF_INET6 ? "[\(host)]:\(port)" : "\(host):\(port)" }
}
