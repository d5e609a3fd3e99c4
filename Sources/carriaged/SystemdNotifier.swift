import CarriagePosix
import Glibc

/// systemd's readiness protocol (`Type=notify`) without libsystemd: one datagram per
/// state (`READY=1` once listening, `STOPPING=1` when a shutdown begins) to the AF_UNIX
/// socket `$NOTIFY_SOCKET` names (a leading `@`: Linux's abstract namespace).
struct SystemdNotifier {
    let socketPath: String

    /// The notifier systemd asked for, if it did.
    static func fromEnvironment() -> SystemdNotifier? {
        guard let value = getenv("NOTIFY_SOCKET").map({ String(cString: $0) }),
              value.hasPrefix("/") || value.hasPrefix("@") else { return nil }
        return SystemdNotifier(socketPath: value)
    }

    /// Sends `state` ("READY=1"); the error says why it could not.
    func notify(_ state: String) throws(SystemError) {
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        var name = Array(socketPath.utf8)
        if name.first == UInt8(ascii: "@") { name[0] = 0 }  // abstract: a NUL, no terminator
        let capacity = MemoryLayout.size(ofValue: address.sun_path)
        guard name.count < capacity else { throw SystemError(call: "NOTIFY_SOCKET", errno: ENAMETOOLONG) }
        withUnsafeMutableBytes(of: &address.sun_path) { path in
            path.copyBytes(from: name)
        }
        let length = socklen_t(MemoryLayout<sockaddr_un>.offset(of: \.sun_path)! + name.count + (name.first == 0 ? 0 : 1))
        let fd = try syscallBlocking("socket") { socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue) | Int32(SOCK_CLOEXEC.rawValue), 0) }
        defer { Descriptor.close(fd) }
        let message = Array(state.utf8)
        _ = try withUnsafePointer(to: &address) { pointer throws(SystemError) in
            try pointer.withMemoryRebound(to: sockaddr.self, capacity: 1) { sa throws(SystemError) in
                try syscallBlocking("sendto") { message.withUnsafeBytes { sendto(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL), sa, length) } }
            }
        }
    }
}
