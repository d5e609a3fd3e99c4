/// Why a store operation was refused. A refused operation changes nothing (beyond items
/// evicted while trying to make room).
public enum StoreError: Error, Equatable, Sendable {
    /// The store's memory bound leaves no room for the operation.
    case outOfMemory
    /// `increment`/`decrement` found a value that is not a 64-bit decimal integer.
    case valueNotInteger
    /// The result of `increment`/`decrement` does not fit in 64 bits.
    case overflow
    /// A key longer than 255 bytes.
    case keyTooLong
}
