/// Everything one shard's lock protects: its slab pages and their classes, its hash index,
/// its LRU lists, its expiry queue and its counters. Every method runs with the lock held.
///
/// Items live in chunks of slab pages (`SlabClasses`), header, key and value together, and
/// are linked by 32-bit `ChunkID`s: 33 bytes of header plus 4 to 8 bytes of index per item,
/// against memcached's 48 to 56. Memory comes from the shared `MemoryBudget` a page (64 KiB)
/// at a time; a page goes back when its last item does.
///
/// Nothing here allocates per operation. What may allocate is rare and amortized, as a
/// dictionary's growth would be: a new page-table slot, doubling the index, growing the
/// expiry queue. Page memory itself is allocated and freed outside the lock: an operation
/// that needs a page returns `.needsMemory` (its budget already reserved), the caller
/// allocates and calls again with the page in `install(_:)`; a page emptied under the lock
/// waits in `retired` until `StoreShard.withLock` frees it after unlocking. At most one page
/// is retired per lock hold.
struct ShardStorage {
    /// The store's clock, the shared budget and the policy for a full budget.
    let clock: StoreClock
    let budget: MemoryBudget
    let eviction: EvictionPolicy

    private var pages: [SlabPage] = []
    /// First unused slot of `pages`, linked through `nextPartial`; -1 when none.
    private var freeSlot: Int32 = -1
    private var classes = [SlabClass](repeating: SlabClass(), count: SlabClasses.count)
    private var index = ItemIndex()
    private var expiring = ExpiryQueue()
    /// Live items that have an expiry: the expiry queue is compacted when its stale entries
    /// outnumber them.
    private var itemsWithExpiry = 0
    /// A page or block emptied during this lock hold, freed after it.
    var retired: (memory: UnsafeMutableRawPointer, cost: Int)?

    /// The item the operation under way replaces. Eviction may take it (it is going anyway)
    /// and says so in `protectedEvicted`, instead of counting it as an eviction.
    private var protected = ChunkID.none
    private var protectedEvicted = false

    /// Live items, and the bytes of their keys and values.
    private(set) var items = 0
    private(set) var bytesStored = 0
    /// Reads that found their key, and that did not (an expired item is a miss).
    private(set) var hits = 0
    private(set) var misses = 0
    /// Items removed because they had expired, and because memory was needed.
    private(set) var expired = 0
    private(set) var evictions = 0
    /// The next CAS unique: shard `i` of `n` hands out `i + 1`, `i + 1 + n`, ..., so uniques
    /// are unique across shards without a shared counter.
    private var nextCAS: UInt64
    private let casStep: UInt64

    /// A page allocated outside the lock for class `classIndex`, its budget reserved.
    struct PageGrant {
        let memory: UnsafeMutableRawPointer
        let byteCount: Int
        let classIndex: Int
    }

    /// What an operation that may need memory did.
    enum Outcome<Value> {
        case done(Value)
        /// Allocate a page (`byteCount`, for `classIndex`; its budget is reserved), install it
        /// and call again.
        case needsMemory(byteCount: Int, classIndex: Int)
        /// A page was retired to make room: free it (unlock) and call again.
        case retry
        case failed(StoreError)
    }

    /// What `read` did.
    enum ReadOutcome {
        case miss
        case hit(StoreItemInfo)
        /// The output has no room for the value's `count` bytes: reserve it and call again.
        case needsCapacity(Int)
    }

    private enum Allocation {
        case chunk(ChunkID)
        case needsMemory(byteCount: Int, classIndex: Int)
        case retry
        case outOfMemory
    }

    /// The outcome of an operation whose allocation did not give a chunk.
    private static func unfinished<Value>(_ allocation: Allocation) -> Outcome<Value> {
        switch allocation {
        case .chunk: preconditionFailure("a chunk finishes the operation")
        case .needsMemory(let bytes, let classIndex): .needsMemory(byteCount: bytes, classIndex: classIndex)
        case .retry: .retry
        case .outOfMemory: .failed(.outOfMemory)
        }
    }

    init(shard: Int, of count: Int, clock: StoreClock, budget: MemoryBudget, eviction: EvictionPolicy) {
        self.clock = clock
        self.budget = budget
        self.eviction = eviction
        self.nextCAS = UInt64(shard) + 1
        self.casStep = UInt64(count)
    }

    // MARK: Operations

    mutating func read(_ key: StoreKey, into output: inout [UInt8]) -> ReadOutcome {
        let id = live(key)
        guard !id.isNone else {
            misses += 1
            return .miss
        }
        let item = chunk(id)
        let count = item.valueCount
        guard output.capacity - output.count >= count else { return .needsCapacity(count) }
        hits += 1
        touch(id)
        item.appendValue(to: &output)
        return .hit(info(item))
    }

    mutating func set(_ key: StoreKey, value: ArraySlice<UInt8>, flags: UInt32) -> Outcome<Void> {
        guard key.bytes.count <= ItemChunk.maxKeyLength else { return .failed(.keyTooLong) }
        let old = live(key)
        let size = ItemChunk.size(keyCount: key.bytes.count, valueCount: value.count)
        if !old.isNone && fitsInPlace(old, size: size) {
            let item = chunk(old)
            bytesStored += value.count - item.valueCount
            item.valueCount = value.count
            write(item, value: value, flags: flags)
            touch(old)
            return .done(())
        }
        let allocation = allocate(size: size, replacing: old)
        guard case .chunk(let new) = allocation else { return Self.unfinished(allocation) }
        if !old.isNone && !protectedEvicted {
            remove(old, digest: key.digest)
        }
        let item = chunk(new)
        item.initialize(key: key, valueCount: value.count)
        write(item, value: value, flags: flags)
        insert(new, digest: key.digest)
        return .done(())
    }

    /// Replaces the integer stored for `key` (0 when absent) with `transform` of it.
    mutating func update(
        _ key: StoreKey, _ transform: (Int64) throws(StoreError) -> Int64
    ) -> Outcome<Int64> {
        guard key.bytes.count <= ItemChunk.maxKeyLength else { return .failed(.keyTooLong) }
        let old = live(key)
        var current: Int64 = 0
        if !old.isNone {
            guard let stored = DecimalInteger.parse(chunk(old).value) else { return .failed(.valueNotInteger) }
            current = stored
        }
        let result: Int64
        do throws(StoreError) {
            result = try transform(current)
        } catch {
            return .failed(error)
        }
        let length = DecimalInteger.length(of: result)
        let size = ItemChunk.size(keyCount: key.bytes.count, valueCount: length)
        if !old.isNone && fitsInPlace(old, size: size) {
            let item = chunk(old)
            bytesStored += length - item.valueCount
            item.valueCount = length
            item.writeValue(decimal: result)
            item.cas = takeCAS()
            touch(old)
            return .done(result)
        }
        let allocation = allocate(size: size, replacing: old)
        guard case .chunk(let new) = allocation else { return Self.unfinished(allocation) }
        let item = chunk(new)
        item.initialize(key: key, valueCount: length)
        item.writeValue(decimal: result)
        item.cas = takeCAS()
        item.flags = 0
        item.expiry = 0
        if !old.isNone && !protectedEvicted {
            // Flags and expiry stay with the counter.
            let previous = chunk(old)
            item.flags = previous.flags
            item.expiry = previous.expiry
            if previous.expiry != 0 {
                itemsWithExpiry += 1
                requeue(new, expiry: previous.expiry)
            }
            remove(old, digest: key.digest)
        }
        insert(new, digest: key.digest)
        return .done(result)
    }

    /// Removes `key`. Returns whether a live item was there.
    mutating func remove(_ key: StoreKey) -> Bool {
        let id = live(key)
        guard !id.isNone else { return false }
        remove(id, digest: key.digest)
        return true
    }

    /// Makes `key` expire `seconds` from now (0 or less: now). Returns whether a live item
    /// was there.
    mutating func expire(_ key: StoreKey, afterSeconds seconds: Int64) -> Outcome<Bool> {
        let id = live(key)
        guard !id.isNone else { return .done(false) }
        guard seconds > 0 else {
            remove(id, digest: key.digest)
            expired += 1
            return .done(true)
        }
        let (sum, overflow) = clock.now().addingReportingOverflow(Int(clamping: seconds))
        let stamp = overflow ? UInt32.max : UInt32(clamping: sum)
        guard makeRoomInExpiryQueue() else { return .failed(.outOfMemory) }
        let item = chunk(id)
        if item.expiry == 0 { itemsWithExpiry += 1 }
        item.expiry = stamp
        expiring.insert(.init(expiry: stamp, chunk: id))
        return .done(true)
    }

    /// Seconds left for `key`: nil when absent, `.never` when it has no expiry.
    mutating func timeToLive(_ key: StoreKey) -> Store.TimeToLive? {
        let id = live(key)
        guard !id.isNone else { return nil }
        let expiry = chunk(id).expiry
        return expiry == 0 ? .never : .seconds(Int(expiry) - clock.now())
    }

    /// Removes expired items: at most `limit` queue entries, and stops early when a page was
    /// retired (the caller frees it and calls again). Returns the items removed.
    mutating func reclaimExpired(now: Int, limit: Int) -> (removed: Int, examined: Int) {
        var removed = 0
        var examined = 0
        while examined < limit, retired == nil, let first = expiring.first, Int(first.expiry) <= now {
            _ = expiring.removeFirst()
            examined += 1
            guard Self.isCurrent(first, in: pages) else { continue }
            let item = chunk(first.chunk)
            remove(first.chunk, digest: StoreKey.digest(of: item.key))
            expired += 1
            removed += 1
        }
        return (removed, examined)
    }

    /// Whether reclaiming has anything due at `now`.
    func hasExpiredDue(now: Int) -> Bool {
        guard let first = expiring.first else { return false }
        return Int(first.expiry) <= now
    }

    /// Takes a page allocated outside the lock into the table.
    mutating func install(_ grant: PageGrant) {
        precondition(canInstallPage, "a page was granted only after canInstallPage")
        let slot: Int
        if freeSlot >= 0 {
            slot = Int(freeSlot)
            freeSlot = pages[slot].nextPartial
        } else {
            slot = pages.count
            pages.append(.unused)
        }
        pages[slot] = SlabPage(
            memory: grant.memory, byteCount: grant.byteCount, classIndex: grant.classIndex, used: 0,
            carved: 0, freeHead: .none, isPartial: false, previousPartial: -1, nextPartial: -1)
        classes[grant.classIndex].pages += 1
        pushPartial(slot)
    }

    /// Whether the page table has room for another slot. `ChunkID` names at most
    /// `ChunkID.maxSlot + 1` slots.
    var canInstallPage: Bool {
        freeSlot >= 0 || pages.count <= ChunkID.maxSlot
    }

    // MARK: Items

    private func chunk(_ id: ChunkID) -> ItemChunk {
        pages[id.slot].chunk(at: id.offset)
    }

    private func info(_ item: ItemChunk) -> StoreItemInfo {
        let expiry = item.expiry
        return StoreItemInfo(
            flags: item.flags, cas: item.cas,
            secondsLeft: expiry == 0 ? nil : Int(expiry) - clock.now(),
            valueCount: item.valueCount)
    }

    private mutating func takeCAS() -> UInt64 {
        defer { nextCAS &+= casStep }
        return nextCAS
    }

    /// Writes a SET's value, flags and a new CAS, and clears any expiry.
    private mutating func write(_ item: ItemChunk, value: ArraySlice<UInt8>, flags: UInt32) {
        item.writeValue(value)
        item.flags = flags
        item.cas = takeCAS()
        if item.expiry != 0 { itemsWithExpiry -= 1 }
        item.expiry = 0
    }

    /// The live item for `key`, or `.none`. An expired one found on the way is removed and
    /// counted. The clock is read only for an item that has an expiry.
    private mutating func live(_ key: StoreKey) -> ChunkID {
        var id = index[index.bucket(for: key.digest)]
        while !id.isNone {
            let item = chunk(id)
            if item.hasKey(key) {
                let expiry = item.expiry
                guard expiry != 0, clock.now() >= Int(expiry) else { return id }
                remove(id, digest: key.digest)
                expired += 1
                return .none
            }
            id = item.hashNext
        }
        return .none
    }

    /// Links a new, fully written item into the index and at the head of its LRU list.
    private mutating func insert(_ id: ChunkID, digest: Int) {
        let item = chunk(id)
        let bucket = index.bucket(for: digest)
        item.hashNext = index[bucket]
        index[bucket] = id
        linkHead(id, classIndex: pages[id.slot].classIndex)
        items += 1
        bytesStored += item.keyCount + item.valueCount
        if items > index.bucketCount { growIndex() }
    }

    /// Unlinks an item from the index and its LRU list, and frees its chunk.
    private mutating func remove(_ id: ChunkID, digest: Int, keepEmptyPage: Bool = false) {
        let item = chunk(id)
        let bucket = index.bucket(for: digest)
        if index[bucket] == id {
            index[bucket] = item.hashNext
        } else {
            var previous = chunk(index[bucket])
            while previous.hashNext != id { previous = chunk(previous.hashNext) }
            previous.hashNext = item.hashNext
        }
        unlinkLRU(id, classIndex: pages[id.slot].classIndex)
        items -= 1
        bytesStored -= item.keyCount + item.valueCount
        if item.expiry != 0 { itemsWithExpiry -= 1 }
        if id == protected { protectedEvicted = true }
        freeChunk(id, keepEmptyPage: keepEmptyPage)
    }

    /// Removes an item to make room, counted as an eviction (or as expired, if it was).
    private mutating func evict(_ id: ChunkID, keepEmptyPage: Bool) {
        let item = chunk(id)
        let expiry = item.expiry
        let wasProtected = id == protected
        remove(id, digest: StoreKey.digest(of: item.key), keepEmptyPage: keepEmptyPage)
        if wasProtected { return }
        if expiry != 0 && clock.now() >= Int(expiry) {
            expired += 1
        } else {
            evictions += 1
        }
    }

    /// Whether an item of `size` bytes may overwrite the item in `id`'s chunk.
    private func fitsInPlace(_ id: ChunkID, size: Int) -> Bool {
        let page = pages[id.slot]
        if page.classIndex == SlabClasses.large {
            return size > SlabClasses.pageSize && SlabClasses.largeBlockSize(forItemSize: size) == page.byteCount
        }
        return SlabClasses.classIndex(forItemSize: size) == page.classIndex
    }

    // MARK: LRU

    private mutating func linkHead(_ id: ChunkID, classIndex: Int) {
        let item = chunk(id)
        let head = classes[classIndex].lruHead
        item.lruPrevious = .none
        item.lruNext = head
        if head.isNone {
            classes[classIndex].lruTail = id
        } else {
            chunk(head).lruPrevious = id
        }
        classes[classIndex].lruHead = id
    }

    private mutating func unlinkLRU(_ id: ChunkID, classIndex: Int) {
        let item = chunk(id)
        let previous = item.lruPrevious
        let next = item.lruNext
        if previous.isNone {
            classes[classIndex].lruHead = next
        } else {
            chunk(previous).lruNext = next
        }
        if next.isNone {
            classes[classIndex].lruTail = previous
        } else {
            chunk(next).lruPrevious = previous
        }
    }

    /// Moves a read or rewritten item to the head of its LRU list.
    private mutating func touch(_ id: ChunkID) {
        let classIndex = pages[id.slot].classIndex
        guard classes[classIndex].lruHead != id else { return }
        unlinkLRU(id, classIndex: classIndex)
        linkHead(id, classIndex: classIndex)
    }

    // MARK: Memory

    /// A chunk for an item of `size` bytes. `old` is the item it replaces, if any: eviction
    /// may take it, which `protectedEvicted` then says.
    private mutating func allocate(size: Int, replacing old: ChunkID) -> Allocation {
        protected = old
        protectedEvicted = false
        defer { protected = .none }
        let classIndex = SlabClasses.classIndex(forItemSize: size)
        if classIndex == SlabClasses.large {
            return allocateLarge(size: size)
        }
        if let id = takeChunk(classIndex: classIndex) { return .chunk(id) }
        guard canInstallPage else { return .outOfMemory }
        if budget.reserve(SlabPage.budgetCost(byteCount: SlabClasses.pageSize)) {
            return .needsMemory(byteCount: SlabClasses.pageSize, classIndex: classIndex)
        }
        guard eviction == .lru else { return .outOfMemory }
        // The least recently used item of the class frees a chunk of the right size.
        let tail = classes[classIndex].lruTail
        if !tail.isNone {
            evict(tail, keepEmptyPage: true)
            return takeChunk(classIndex: classIndex).map(Allocation.chunk) ?? .outOfMemory
        }
        // The shard has no item of this class: move a page over from the class that has the
        // most, emptied of its items.
        guard let (victim, slot) = pageToEvict(excluding: classIndex) else { return .outOfMemory }
        if victim == SlabClasses.large {
            guard retired == nil else { return .retry }
            evict(classes[victim].lruTail, keepEmptyPage: false)
            return .retry
        }
        empty(slot)
        removePartial(slot)
        classes[victim].pages -= 1
        pages[slot].classIndex = classIndex
        pages[slot].carved = 0
        pages[slot].freeHead = .none
        classes[classIndex].pages += 1
        pushPartial(slot)
        return takeChunk(classIndex: classIndex).map(Allocation.chunk) ?? .outOfMemory
    }

    /// A block of its own for an item larger than a page.
    private mutating func allocateLarge(size: Int) -> Allocation {
        let blockSize = SlabClasses.largeBlockSize(forItemSize: size)
        // A block installed for this operation (or left by an earlier one) waits on the
        // class's list.
        var slot = classes[SlabClasses.large].partialHead
        while slot >= 0 {
            if pages[Int(slot)].byteCount == blockSize {
                let id = ChunkID(slot: Int(slot), offset: 0)
                removePartial(Int(slot))
                pages[Int(slot)].used = 1
                return .chunk(id)
            }
            slot = pages[Int(slot)].nextPartial
        }
        let cost = SlabPage.budgetCost(byteCount: blockSize)
        guard cost <= budget.limit, canInstallPage else { return .outOfMemory }
        if budget.reserve(cost) {
            return .needsMemory(byteCount: blockSize, classIndex: SlabClasses.large)
        }
        guard eviction == .lru else { return .outOfMemory }
        // Free budget a page or block per lock hold, least recently used first.
        guard retired == nil else { return .retry }
        let tail = classes[SlabClasses.large].lruTail
        if !tail.isNone {
            evict(tail, keepEmptyPage: false)
            return .retry
        }
        guard let (_, slot) = pageToEvict(excluding: SlabClasses.large) else { return .outOfMemory }
        empty(slot)
        if retired == nil { retire(slot) }
        return .retry
    }

    /// The class with the most pages other than `excluded`, and the page to empty: the one
    /// holding its least recently used item.
    private func pageToEvict(excluding excluded: Int) -> (classIndex: Int, slot: Int)? {
        var best = -1
        for candidate in classes.indices where candidate != excluded && classes[candidate].pages > 0 {
            if best < 0 || classes[candidate].pages > classes[best].pages { best = candidate }
        }
        guard best >= 0 else { return nil }
        let tail = classes[best].lruTail
        if !tail.isNone { return (best, tail.slot) }
        let partial = classes[best].partialHead
        return partial >= 0 ? (best, Int(partial)) : nil
    }

    /// Evicts every item on a small page; the page stays, empty.
    private mutating func empty(_ slot: Int) {
        let chunkSize = SlabClasses.chunkSizes[pages[slot].classIndex]
        let carved = Int(pages[slot].carved)
        for offset in stride(from: 0, to: carved, by: chunkSize) {
            let id = ChunkID(slot: slot, offset: offset)
            if !chunk(id).isFree { evict(id, keepEmptyPage: true) }
        }
    }

    /// A chunk of a page of the class with room, or nil.
    private mutating func takeChunk(classIndex: Int) -> ChunkID? {
        let head = classes[classIndex].partialHead
        guard head >= 0 else { return nil }
        let slot = Int(head)
        let chunkSize = SlabClasses.chunkSizes[classIndex]
        let id: ChunkID
        if !pages[slot].freeHead.isNone {
            id = pages[slot].freeHead
            pages[slot].freeHead = chunk(id).lruNext
        } else {
            id = ChunkID(slot: slot, offset: Int(pages[slot].carved))
            pages[slot].carved += Int32(chunkSize)
        }
        pages[slot].used += 1
        if !pages[slot].hasRoom(chunkSize: chunkSize) { removePartial(slot) }
        return id
    }

    /// Returns a chunk to its page. A page left with no item is retired (unless
    /// `keepEmptyPage`, or a page was retired already in this lock hold).
    private mutating func freeChunk(_ id: ChunkID, keepEmptyPage: Bool) {
        let slot = id.slot
        let item = chunk(id)
        pages[slot].used -= 1
        if pages[slot].classIndex == SlabClasses.large {
            item.markFree(next: .none)
            if !keepEmptyPage && retired == nil {
                retire(slot)
            } else {
                pushPartial(slot)
            }
            return
        }
        item.markFree(next: pages[slot].freeHead)
        pages[slot].freeHead = id
        if pages[slot].used == 0 && !keepEmptyPage && retired == nil {
            retire(slot)
        } else if !pages[slot].isPartial {
            pushPartial(slot)
        }
    }

    /// Takes an empty page out of the table into `retired`, to be freed after the lock.
    private mutating func retire(_ slot: Int) {
        let page = pages[slot]
        removePartial(slot)
        classes[page.classIndex].pages -= 1
        retired = (page.memory.unsafelyUnwrapped, SlabPage.budgetCost(byteCount: page.byteCount))
        pages[slot] = .unused
        pages[slot].nextPartial = freeSlot
        freeSlot = Int32(slot)
    }

    private mutating func pushPartial(_ slot: Int) {
        let classIndex = pages[slot].classIndex
        let head = classes[classIndex].partialHead
        pages[slot].isPartial = true
        pages[slot].previousPartial = -1
        pages[slot].nextPartial = head
        if head >= 0 { pages[Int(head)].previousPartial = Int32(slot) }
        classes[classIndex].partialHead = Int32(slot)
    }

    private mutating func removePartial(_ slot: Int) {
        guard pages[slot].isPartial else { return }
        let previous = pages[slot].previousPartial
        let next = pages[slot].nextPartial
        if previous >= 0 {
            pages[Int(previous)].nextPartial = next
        } else {
            classes[pages[slot].classIndex].partialHead = next
        }
        if next >= 0 { pages[Int(next)].previousPartial = previous }
        pages[slot].isPartial = false
        pages[slot].previousPartial = -1
        pages[slot].nextPartial = -1
    }

    /// Doubles the index when the budget has room for it; otherwise chains grow longer,
    /// which costs time, not correctness.
    private mutating func growIndex() {
        let count = index.bucketCount
        let cost = ItemIndex.budgetCost(buckets: count)
        guard budget.reserve(cost) else { return }
        // Rehashing reads every key of the shard once; it happens at each doubling, so its
        // cost per insert is constant, as a dictionary's growth is.
        let pages = self.pages
        index.double(
            digest: { id in StoreKey.digest(of: pages[id.slot].chunk(at: id.offset).key) },
            chunk: { id in pages[id.slot].chunk(at: id.offset) })
    }

    /// Bytes the budget counts for this shard's index and expiry queue beyond the fixed
    /// initial index (released when the store goes).
    var auxiliaryBytes: Int {
        ItemIndex.budgetCost(buckets: index.bucketCount - ItemIndex.initialBuckets)
            + expiring.capacity * ExpiryQueue.entrySize
    }

    /// Every page's memory, for the store's deinit.
    var allPageMemory: [(memory: UnsafeMutableRawPointer, cost: Int)] {
        pages.compactMap { page in page.memory.map { ($0, SlabPage.budgetCost(byteCount: page.byteCount)) } }
    }

    // MARK: Expiry queue

    /// Makes sure the queue can take one more entry: compacts it when mostly stale, else
    /// grows it within the budget. Returns false when the budget has no room.
    private mutating func makeRoomInExpiryQueue() -> Bool {
        guard expiring.count == expiring.capacity else { return true }
        if expiring.count > 2 * itemsWithExpiry + 16 {
            let pages = self.pages
            expiring.removeAll { !Self.isCurrent($0, in: pages) }
            if expiring.count < expiring.capacity { return true }
        }
        let capacity = max(16, expiring.capacity * 2)
        guard budget.reserve((capacity - expiring.capacity) * ExpiryQueue.entrySize) else { return false }
        expiring.reserveCapacity(capacity)
        return true
    }

    /// Queues an item that moved to a new chunk with its expiry.
    private mutating func requeue(_ id: ChunkID, expiry: UInt32) {
        if makeRoomInExpiryQueue() {
            expiring.insert(.init(expiry: expiry, chunk: id))
        }
        // Without room the item still expires: it is never returned after its time, and is
        // removed when next found or evicted.
    }

    /// Whether a queue entry still names a live item with that expiry.
    private static func isCurrent(_ entry: ExpiryQueue.Entry, in pages: [SlabPage]) -> Bool {
        let slot = entry.chunk.slot
        guard slot < pages.count, pages[slot].memory != nil else { return false }
        let page = pages[slot]
        let offset = entry.chunk.offset
        if page.classIndex == SlabClasses.large {
            guard offset == 0 else { return false }
        } else {
            guard offset < Int(page.carved), offset % SlabClasses.chunkSizes[page.classIndex] == 0 else { return false }
        }
        let item = page.chunk(at: offset)
        return !item.isFree && item.expiry == entry.expiry
    }
}
