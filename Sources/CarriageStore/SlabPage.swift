/// A slot of a shard's page table: a slab page of one class (or a large item's block), and
/// how much of it is in use.
///
/// A page hands out chunks from its free list first, then by carving new ones off its
/// unused end, so its memory becomes resident only as it fills.
struct SlabPage {
    /// nil: the slot is unused, and `nextPartial` links it into the table's free slots.
    var memory: UnsafeMutableRawPointer?
    /// Bytes of memory: `SlabClasses.pageSize`, or the size of a large item's block.
    var byteCount: Int
    var classIndex: Int
    /// Chunks holding an item.
    var used: Int32
    /// Bytes from the start already cut into chunks.
    var carved: Int32
    var freeHead: ChunkID
    /// Whether the page is on its class's list of pages with room.
    var isPartial: Bool
    /// Links of the class's list of pages that have room (or of the table's free slots).
    var previousPartial: Int32
    var nextPartial: Int32

    /// What the budget counts for a page: its memory and this table entry.
    static func budgetCost(byteCount: Int) -> Int {
        byteCount + MemoryLayout<SlabPage>.stride
    }

    static var unused: SlabPage {
        SlabPage(
            memory: nil, byteCount: 0, classIndex: 0, used: 0, carved: 0, freeHead: .none,
            isPartial: false, previousPartial: -1, nextPartial: -1)
    }

    /// The chunk at `offset` of a page in use.
    @inline(__always)
    func chunk(at offset: Int) -> ItemChunk {
        ItemChunk(base: memory.unsafelyUnwrapped + offset)
    }

    /// Whether another chunk of `chunkSize` can be had from this page.
    func hasRoom(chunkSize: Int) -> Bool {
        !freeHead.isNone || Int(carved) + chunkSize <= byteCount
    }
}
