/// How a write treats the item already stored for its key (memcached's storage commands).
public enum StoreWriteMode: Sendable {
    /// Store, whether or not an item is there.
    case set
    /// Store only if no live item is there.
    case add
    /// Store only if a live item is there.
    case replace
    /// Add the bytes after the live item's value; its flags and expiry stay.
    case append
    /// Add the bytes before the live item's value; its flags and expiry stay.
    case prepend
}

/// When an item expires, as a write or a touch sets it.
public enum StoreExpiry: Equatable, Sendable {
    case never
    /// `seconds` from now on the store's clock; 0 or less: already expired.
    case afterSeconds(Int64)
}

/// What a write did.
public enum StoreWriteResult: Equatable, Sendable {
    /// Stored, with its new CAS unique.
    case stored(cas: UInt64)
    /// The mode's condition failed: `add` found an item, `replace`/`append`/`prepend` none.
    case notStored
    /// Compare-and-swap: the item's CAS unique is not the one given.
    case exists
    /// Compare-and-swap: no live item.
    case notFound
}

/// What an unsigned add or subtract (memcached's `incr`/`decr`) did.
public enum StoreArithmeticResult: Equatable, Sendable {
    case value(UInt64, cas: UInt64)
    case notFound
    /// The value is not an unsigned 64-bit decimal number.
    case notNumeric
    /// Compare-and-swap: the item's CAS unique is not the one given.
    case exists
}
