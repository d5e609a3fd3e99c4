/// A key of the store, as a request names it: its bytes (borrowed from the request, never
/// kept) and their hash, computed once per operation.
///
/// The digest's low bits pick the shard, higher ones the bucket of the shard's index. The
/// store copies the key's bytes into the item's chunk; an item's digest is recomputed from
/// those bytes only when the item is moved or evicted.
struct StoreKey {
    let bytes: ArraySlice<UInt8>
    let digest: Int

    init(borrowing bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        self.digest = bytes.withUnsafeBytes { Self.digest(of: $0) }
    }

    /// `Hasher` is SipHash with a per-process random seed: clients cannot pick keys that all
    /// land in one shard or one bucket.
    static func digest(of bytes: UnsafeRawBufferPointer) -> Int {
        var hasher = Hasher()
        hasher.combine(bytes: bytes)
        return hasher.finalize()
    }
}
