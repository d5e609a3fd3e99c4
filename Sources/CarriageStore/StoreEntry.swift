/// An item as a reader sees it: a copy, taken under the shard's lock.
public struct StoreEntry: Equatable, Sendable {
    public let value: [UInt8]
    public let flags: UInt32
    public let cas: UInt64
    /// Seconds left before it expires; nil when it never does.
    public let secondsLeft: Int?
}

/// An item's header as a reader sees it, with the value copied out separately.
public struct StoreItemInfo: Equatable, Sendable {
    public let flags: UInt32
    public let cas: UInt64
    /// Seconds left before it expires; nil when it never does.
    public let secondsLeft: Int?
    /// Bytes of the value.
    public let valueCount: Int
    /// The item's meta marks as the read found them.
    public var marks: ItemMarks = []
    /// Whether this read claimed the right to recache the item (memcached's `W`).
    public var won = false
}
