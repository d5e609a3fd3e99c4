/// What the store keeps for a key: the value (any bytes), the client's flags, when it
/// expires, and its CAS unique (new on every change of the value).
struct StoreItem {
    var value: [UInt8]
    var flags: UInt32
    /// Seconds on the store's clock at which the item stops existing; 0 for never.
    var expiresAt: Int
    var cas: UInt64

    /// Whether the item no longer exists at `now`.
    @inline(__always)
    func isExpired(at now: Int) -> Bool {
        expiresAt != 0 && now >= expiresAt
    }
}

/// An item as a reader sees it.
public struct StoreEntry: Equatable, Sendable {
    public let value: [UInt8]
    public let flags: UInt32
    public let cas: UInt64
    /// Seconds left before it expires; nil when it never does.
    public let secondsLeft: Int?
}
