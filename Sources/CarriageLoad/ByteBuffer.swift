import Glibc

/// A growable byte buffer on the heap, read from the front and written at the back. It is
/// allocated once per connection and reused for every request: it only grows when one
/// reply (or one batch of pipelined requests) is larger than it has ever been.
/// Noncopyable, so its memory has exactly one owner and is freed exactly once, in `deinit`.
struct ByteBuffer: ~Copyable {
    private var memory: UnsafeMutableRawPointer
    private(set) var capacity: Int
    /// The unread bytes are `start..<end`.
    private var start = 0
    private var end = 0

    init(capacity: Int) {
        self.capacity = max(capacity, 64)
        self.memory = UnsafeMutableRawPointer.allocate(byteCount: self.capacity, alignment: 16)
    }

    deinit {
        memory.deallocate()
    }

    var isEmpty: Bool { start == end }
    var count: Int { end - start }

    /// The unread bytes. Valid until the next mutating call.
    var readable: UnsafeRawBufferPointer {
        UnsafeRawBufferPointer(start: memory + start, count: end - start)
    }

    /// Drops `n` bytes from the front; an emptied buffer starts over at offset 0.
    mutating func consume(_ n: Int) {
        start += n
        if start == end {
            start = 0
            end = 0
        }
    }

    mutating func removeAll() {
        start = 0
        end = 0
    }

    /// Makes room for at least `n` more bytes at the back: moves the unread bytes to the
    /// front, and doubles the memory only when that is not enough.
    mutating func reserve(_ n: Int) {
        if capacity - end >= n { return }
        if start > 0 {
            let unread = end - start
            if unread > 0 { memmove(memory, memory + start, unread) }
            start = 0
            end = unread
            if capacity - end >= n { return }
        }
        var newCapacity = capacity * 2
        while newCapacity - end < n { newCapacity *= 2 }
        let newMemory = UnsafeMutableRawPointer.allocate(byteCount: newCapacity, alignment: 16)
        newMemory.copyMemory(from: memory, byteCount: end)
        memory.deallocate()
        memory = newMemory
        capacity = newCapacity
    }

    /// Where the next bytes go: the room after the unread bytes. Valid until the next
    /// mutating call.
    var writable: UnsafeMutableRawBufferPointer {
        UnsafeMutableRawBufferPointer(start: memory + end, count: capacity - end)
    }

    /// Counts `n` bytes just written at `writable` as unread.
    mutating func commit(_ n: Int) {
        end += n
    }

    /// Copies `bytes` to the back (the caller reserved room).
    mutating func append(_ bytes: Bytes) {
        bytes.withUnsafeBytes { raw in
            guard let base = raw.baseAddress, raw.count > 0 else { return }
            (memory + end).copyMemory(from: base, byteCount: raw.count)
            end += raw.count
        }
    }

    /// The unread bytes as a view for the parsers. Valid until the next mutating call.
    var bytes: Bytes { Bytes(readable) }
}
