/// A shard's items of one slab class: its pages with room, and its LRU list.
///
/// The LRU list is doubly linked through the items' headers, most recently used at the
/// head; eviction takes the tail. Each shard keeps one list per class, as memcached does
/// per slab class: an item evicted to make room is then always of the size that is needed.
struct SlabClass {
    /// First page (slot) with room for a chunk; -1 when none.
    var partialHead: Int32 = -1
    var lruHead = ChunkID.none
    var lruTail = ChunkID.none
    /// Pages of this class in the shard.
    var pages = 0
}
