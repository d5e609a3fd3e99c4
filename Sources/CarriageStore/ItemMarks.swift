/// memcached's meta-protocol marks on an item, kept in two spare bits of its header.
public struct ItemMarks: OptionSet, Equatable, Sendable {
    public let rawValue: UInt32

    public init(rawValue: UInt32) {
        self.rawValue = rawValue
    }

    /// Invalidated by `md <key> I`: served, flagged `X`, until rewritten.
    public static let stale = ItemMarks(rawValue: 1)
    /// A client was told it won the right to recache the item (`W`); others get `Z`.
    public static let winSent = ItemMarks(rawValue: 2)
}
