import Glibc

/// A loopback port with nothing listening on it: bound to port 0, read back, closed. For
/// a peer that cannot take port 0 itself (memcached), or a connect that must be refused.
func unusedLoopbackPort() throws -> Int {
    let fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
    defer { Glibc.close(fd) }
    var address = sockaddr_in()
    address.sin_family = sa_family_t(AF_INET)
    address.sin_addr.s_addr = inet_addr("127.0.0.1")
    var length = socklen_t(MemoryLayout<sockaddr_in>.size)
    let bound = withUnsafeMutablePointer(to: &address) {
        $0.withMemoryRebound(to: sockaddr.self, capacity: 1) {
            bind(fd, $0, length) == 0 && getsockname(fd, $0, &length) == 0
        }
    }
    guard bound else { throw LineClient.Failure(description: "cannot bind a loopback socket") }
    return Int(UInt16(bigEndian: address.sin_port))
}
