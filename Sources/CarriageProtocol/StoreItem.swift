/// What the store keeps for a key: the value (any bytes), the client's flags, when it
/// expires, and its CAS unique (new on every change of the value).
struct StoreItem {
    var value: [UInt8]
    var cas: UInt64
    var flags: UInt32
    /// 32 bits, as memcached keeps it: the item is 24 bytes, not 32. ``maxExpiry`` seconds
    /// of uptime is 136 years.
    private var expiry: UInt32

    /// The latest second an expiry can name.
    static let maxExpiry = Int(UInt32.max)

    init(value: [UInt8], flags: UInt32, expiresAt: Int, cas: UInt64) {
        self.value = value
        self.cas = cas
        self.flags = flags
        self.expiry = UInt32(clamping: expiresAt)
    }

    /// Seconds on the store's clock at which the item stops existing; 0 for never.
    var expiresAt: Int {
        get { Int(expiry) }
        set { expiry = UInt32(clamping: newValue) }
    }

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
