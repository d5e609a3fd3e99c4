/// One connection's progress through authentication (with `--auth-file`): whether it has
/// logged in, and how many attempts failed; it is closed at the third.
public struct AuthState: Sendable, Equatable {
    public var isAuthenticated: Bool
    public var failures: UInt8

    /// Failed attempts after which the connection is closed.
    public static let maxFailures: UInt8 = 3

    public init(isAuthenticated: Bool = false, failures: UInt8 = 0) {
        self.isAuthenticated = isAuthenticated
        self.failures = failures
    }

    /// In one byte, to keep a connection object small: bit 7 logged in, the rest failures.
    public init(packed: UInt8) {
        self.init(isAuthenticated: packed & 0x80 != 0, failures: packed & 0x7f)
    }

    public var packed: UInt8 { (isAuthenticated ? 0x80 : 0) | min(failures, 0x7f) }

    /// Counts a failed attempt; true when it is the last one allowed.
    mutating func fail() -> Bool {
        failures += 1
        return failures >= Self.maxFailures
    }
}
