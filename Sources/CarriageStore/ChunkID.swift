/// Names an item's chunk in 32 bits: the slot of its page in the shard's page table, and
/// its offset in that page in 8-byte units. Indexes, LRU lists and free lists link items by
/// these, so a link costs 4 bytes, not a pointer's 8.
struct ChunkID: Equatable {
    let raw: UInt32

    /// Bits of the offset: a page is at most 64 KiB, chunks start on 8 bytes.
    static let offsetBits = 13
    /// The highest slot a page table may use; leaves `none` and `freeMarker` unused by ids.
    static let maxSlot = (1 << (32 - offsetBits)) - 2

    /// No chunk (end of a list, empty bucket).
    static let none = ChunkID(raw: .max)
    /// Written in the hash link of a free chunk: no live item has it.
    static let freeMarker = ChunkID(raw: .max - 1)

    init(raw: UInt32) {
        self.raw = raw
    }

    init(slot: Int, offset: Int) {
        raw = UInt32(truncatingIfNeeded: slot << Self.offsetBits | offset >> 3)
    }

    var slot: Int { Int(raw >> UInt32(Self.offsetBits)) }
    var offset: Int { Int(raw & (1 << UInt32(Self.offsetBits) - 1)) << 3 }
    var isNone: Bool { raw == Self.none.raw }
}
