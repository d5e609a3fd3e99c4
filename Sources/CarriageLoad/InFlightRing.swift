/// The requests a connection has sent and not yet had answered, oldest first: a fixed ring
/// of `--pipeline` entries allocated once per connection. Noncopyable: one owner, freed
/// once in `deinit`.
struct InFlightRing: ~Copyable {
    struct Entry {
        var template: Int32
        var key: Int32
        /// When the request was sent (connect-per-request: when the connect began).
        var sent: UInt64
    }

    private let entries: UnsafeMutablePointer<Entry>
    private let capacity: Int
    private var head = 0
    private(set) var count = 0

    init(capacity: Int) {
        self.capacity = capacity
        entries = UnsafeMutablePointer<Entry>.allocate(capacity: capacity)
    }

    deinit {
        entries.deallocate()
    }

    /// The oldest entry; only when `count > 0`.
    @inline(__always)
    var oldest: Entry { entries[head] }

    @inline(__always)
    mutating func push(template: Int, key: Int, sent: UInt64) {
        var slot = head + count
        if slot >= capacity { slot -= capacity }
        entries[slot] = Entry(template: Int32(template), key: Int32(key), sent: sent)
        count += 1
    }

    @inline(__always)
    mutating func popOldest() {
        head += 1
        if head == capacity { head = 0 }
        count -= 1
    }

    mutating func removeAll() {
        head = 0
        count = 0
    }
}
