import Glibc

/// A key of the store: its bytes and their hash, computed once per request.
///
/// The digest picks the shard and is all the dictionary hashes, so a key's bytes are hashed
/// once per operation. A lookup key borrows the request line's bytes (no copy); a key that
/// is inserted owns a copy of exactly its bytes (see `owned()`), so the store never keeps a
/// connection's input buffer alive.
struct StoreKey: Hashable, Sendable {
    let bytes: ArraySlice<UInt8>
    let digest: Int

    /// A key that borrows `bytes`; fine for lookups, never for insertion.
    init(borrowing bytes: ArraySlice<UInt8>) {
        self.bytes = bytes
        // `Hasher` is SipHash with a per-process random seed: clients cannot pick keys that
        // all land in one shard or one bucket.
        var hasher = Hasher()
        bytes.withUnsafeBytes { hasher.combine(bytes: $0) }
        self.digest = hasher.finalize()
    }

    private init(bytes: ArraySlice<UInt8>, digest: Int) {
        self.bytes = bytes
        self.digest = digest
    }

    /// The same key, holding its own copy of the bytes.
    func owned() -> StoreKey {
        StoreKey(bytes: ArraySlice(Array(bytes)), digest: digest)
    }

    func hash(into hasher: inout Hasher) {
        hasher.combine(digest)
    }

    static func == (lhs: StoreKey, rhs: StoreKey) -> Bool {
        guard lhs.digest == rhs.digest, lhs.bytes.count == rhs.bytes.count else { return false }
        return lhs.bytes.withUnsafeBytes { left in
            rhs.bytes.withUnsafeBytes { right in
                // Only empty buffers may lack a base address, and equal counts make both empty.
                guard let l = left.baseAddress, let r = right.baseAddress else { return true }
                return memcmp(l, r, left.count) == 0
            }
        }
    }
}
