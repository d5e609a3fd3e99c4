import Glibc

/// An item in slab memory, read and written in place: a 33-byte header, then the key, then
/// the value, with no padding between.
///
/// | offset | size | field |
/// | --- | --- | --- |
/// | 0 | 4 | next chunk in the same index bucket; `ChunkID.freeMarker` when the chunk is free |
/// | 4 | 4 | previous chunk in the LRU list (towards the most recent) |
/// | 8 | 4 | next chunk in the LRU list (towards the least recent); in a free chunk, the next free one |
/// | 12 | 4 | expiry, in seconds of the store's clock; 0 for never |
/// | 16 | 8 | CAS unique |
/// | 24 | 4 | client flags |
/// | 28 | 4 | value length (30 bits), and the marks `stale` and `winSent` (the top 2) |
/// | 32 | 1 | key length |
///
/// Chunks start on 8 bytes, so every field is naturally aligned. This and `PageMemory` are
/// the store's only pointer code: everything else names items by `ChunkID` and reaches
/// them through this type, under the shard's lock.
struct ItemChunk {
    let base: UnsafeMutableRawPointer

    static let headerSize = 33
    /// Longest key the header can record.
    static let maxKeyLength = Int(UInt8.max)

    /// Bytes an item with these lengths takes.
    static func size(keyCount: Int, valueCount: Int) -> Int {
        headerSize + keyCount + valueCount
    }

    var hashNext: ChunkID {
        get { ChunkID(raw: base.load(fromByteOffset: 0, as: UInt32.self)) }
        nonmutating set { base.storeBytes(of: newValue.raw, toByteOffset: 0, as: UInt32.self) }
    }
    var lruPrevious: ChunkID {
        get { ChunkID(raw: base.load(fromByteOffset: 4, as: UInt32.self)) }
        nonmutating set { base.storeBytes(of: newValue.raw, toByteOffset: 4, as: UInt32.self) }
    }
    var lruNext: ChunkID {
        get { ChunkID(raw: base.load(fromByteOffset: 8, as: UInt32.self)) }
        nonmutating set { base.storeBytes(of: newValue.raw, toByteOffset: 8, as: UInt32.self) }
    }
    var expiry: UInt32 {
        get { base.load(fromByteOffset: 12, as: UInt32.self) }
        nonmutating set { base.storeBytes(of: newValue, toByteOffset: 12, as: UInt32.self) }
    }
    var cas: UInt64 {
        get { base.load(fromByteOffset: 16, as: UInt64.self) }
        nonmutating set { base.storeBytes(of: newValue, toByteOffset: 16, as: UInt64.self) }
    }
    var flags: UInt32 {
        get { base.load(fromByteOffset: 24, as: UInt32.self) }
        nonmutating set { base.storeBytes(of: newValue, toByteOffset: 24, as: UInt32.self) }
    }
    /// The longest value the header can record: 1 GiB - 1.
    static let maxValueCount = Int(lengthMask)
    private static let lengthMask: UInt32 = (1 << 30) - 1

    var valueCount: Int {
        get { Int(base.load(fromByteOffset: 28, as: UInt32.self) & Self.lengthMask) }
        nonmutating set {
            let marks = base.load(fromByteOffset: 28, as: UInt32.self) & ~Self.lengthMask
            base.storeBytes(of: marks | UInt32(newValue), toByteOffset: 28, as: UInt32.self)
        }
    }

    /// memcached's meta marks: an item invalidated (`md I`), and whether a client has been
    /// told it won the right to recache it (`W`, then `Z` for everyone else).
    var marks: ItemMarks {
        get { ItemMarks(rawValue: base.load(fromByteOffset: 28, as: UInt32.self) >> 30) }
        nonmutating set {
            let length = base.load(fromByteOffset: 28, as: UInt32.self) & Self.lengthMask
            base.storeBytes(of: length | newValue.rawValue << 30, toByteOffset: 28, as: UInt32.self)
        }
    }
    var keyCount: Int {
        get { Int(base.load(fromByteOffset: 32, as: UInt8.self)) }
        nonmutating set { base.storeBytes(of: UInt8(newValue), toByteOffset: 32, as: UInt8.self) }
    }

    /// Whether the chunk holds no item.
    var isFree: Bool { hashNext == .freeMarker }

    var key: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + Self.headerSize, count: keyCount)
    }

    var value: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: base + Self.headerSize + keyCount, count: valueCount)
    }

    func hasKey(_ key: StoreKey) -> Bool {
        guard keyCount == key.bytes.count else { return false }
        return key.bytes.withUnsafeBytes { bytes in
            bytes.count == 0 || memcmp(base + Self.headerSize, bytes.baseAddress!, bytes.count) == 0
        }
    }

    /// Writes the key and the header's key and value lengths, with no expiry or marks.
    func initialize(key: StoreKey, valueCount: Int) {
        expiry = 0
        keyCount = key.bytes.count
        base.storeBytes(of: UInt32(valueCount), toByteOffset: 28, as: UInt32.self)
        key.bytes.withUnsafeBytes { bytes in
            if let source = bytes.baseAddress {
                (base + Self.headerSize).copyMemory(from: source, byteCount: bytes.count)
            }
        }
    }

    /// Writes `bytes` into the value at `offset`; they must fit within `valueCount`.
    func writeValue(_ bytes: ArraySlice<UInt8>, at offset: Int) {
        bytes.withUnsafeBytes { writeValue($0, at: offset) }
    }

    func writeValue(_ bytes: UnsafeRawBufferPointer, at offset: Int) {
        guard let start = bytes.baseAddress, bytes.count > 0 else { return }
        (base + Self.headerSize + keyCount + offset).copyMemory(from: start, byteCount: bytes.count)
    }

    /// Moves the first `count` bytes of the value `distance` bytes further (a prepend in
    /// place); `valueCount` must already include the room.
    func shiftValue(by distance: Int, count: Int) {
        let start = base + Self.headerSize + keyCount
        memmove(start + distance, start, count)
    }

    /// Overwrites the value with the decimal text of `integer`; `valueCount` must be its
    /// length.
    func writeValue(decimal integer: Int64) {
        DecimalInteger.write(
            integer,
            into: UnsafeMutableRawBufferPointer(start: base + Self.headerSize + keyCount, count: valueCount))
    }

    /// Overwrites the value with the decimal text of `number`; `valueCount` must be its
    /// length.
    func writeValue(unsigned number: UInt64) {
        DecimalInteger.write(
            unsigned: number,
            into: UnsafeMutableRawBufferPointer(start: base + Self.headerSize + keyCount, count: valueCount))
    }

    /// Appends the value to `output`, which must have room for it: the caller reserves
    /// outside the lock, so this never allocates.
    func appendValue(to output: inout [UInt8]) {
        let count = valueCount
        guard count > 0 else { return }
        let start = (base + Self.headerSize + keyCount).assumingMemoryBound(to: UInt8.self)
        output.append(contentsOf: UnsafeBufferPointer(start: start, count: count))
    }

    /// Marks the chunk free and links it to `next` on its page's free list.
    func markFree(next: ChunkID) {
        hashNext = .freeMarker
        lruNext = next
    }
}
