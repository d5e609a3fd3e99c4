/// Why a store operation was refused. A refused operation changes nothing.
public enum StoreError: Error, Equatable, Sendable {
    /// The operation would take `bytesStored` past the store's `maxMemoryBytes`.
    case outOfMemory
    /// `increment`/`decrement` found a value that is not a 64-bit decimal integer.
    case valueNotInteger
    /// The result of `increment`/`decrement` does not fit in 64 bits.
    case overflow
}
