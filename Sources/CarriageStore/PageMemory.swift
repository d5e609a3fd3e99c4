/// Allocates and frees the memory of slab pages and large-item blocks. Called outside the
/// shard locks: a shard asks for a page by returning from its lock, and hands a page back by
/// `StoreShard.withLock`, which frees it after unlocking.
enum PageMemory {
    static func allocate(byteCount: Int) -> UnsafeMutableRawPointer {
        // 4 KiB aligned; memory not yet written is not yet resident, so a new page costs RSS
        // only as its chunks are handed out.
        UnsafeMutableRawPointer.allocate(byteCount: byteCount, alignment: 4096)
    }

    static func free(_ memory: UnsafeMutableRawPointer) {
        memory.deallocate()
    }
}
