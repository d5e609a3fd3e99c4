import Glibc

/// A failed system call: which call, and the `errno` it left. The one error type for
/// every syscall the project makes (see ``syscall(_:_:)``); modelled on swift-system's
/// `Errno`, plus the name of the call, which a log line needs.
public struct SystemError: Error, Equatable, CustomStringConvertible {
    public let call: String
    public let errno: Int32

    public init(call: String, errno: Int32) {
        self.call = call
        self.errno = errno
    }

    /// The C library's text for `errno` ("Connection reset by peer").
    public var reason: String { String(cString: strerror(errno)) }

    public var description: String {
        "\(call) failed: \(reason) (errno \(errno))"
    }
}
