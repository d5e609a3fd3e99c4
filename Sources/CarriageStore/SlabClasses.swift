/// The chunk sizes items are stored in, memcached's scheme: from 48 bytes, each class about
/// 1.25 times the one before (rounded to 8), up to half a page; then one class of a whole
/// page. An item larger than a page gets a block of its own, the `large` class.
///
/// A 12-byte key with a 32-byte value is a 77-byte item and takes an 80-byte chunk.
enum SlabClasses {
    /// Bytes of a slab page: small enough that 64 shards with a few classes each waste little
    /// at a small `--max-memory`, large enough that a page holds hundreds of small items.
    static let pageSize = 64 << 10

    /// Chunk bytes of each class, ascending; the last is `pageSize`.
    static let chunkSizes: [Int] = {
        var sizes = [48]
        while true {
            let next = (sizes[sizes.count - 1] * 5 / 4 + 7) & ~7
            guard next <= pageSize / 2 else { break }
            sizes.append(next)
        }
        sizes.append(pageSize)
        return sizes
    }()

    /// The class of items larger than a page: one block each, sized to the item.
    static let large = chunkSizes.count

    /// Classes including `large`.
    static let count = chunkSizes.count + 1

    /// The class of an item of `size` bytes: the smallest whose chunk holds it.
    static func classIndex(forItemSize size: Int) -> Int {
        guard size <= pageSize else { return large }
        var low = 0
        var high = chunkSizes.count - 1
        while low < high {
            let middle = (low + high) / 2
            if chunkSizes[middle] < size {
                low = middle + 1
            } else {
                high = middle
            }
        }
        return low
    }

    /// Bytes a large item's block takes, as the budget counts it: rounded up to the 4 KiB
    /// pages the allocator maps such blocks in.
    static func largeBlockSize(forItemSize size: Int) -> Int {
        (size + 4095) & ~4095
    }
}
