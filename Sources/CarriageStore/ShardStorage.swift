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
    /// Writes asked for, and items stored, since the start.
    private(set) var writes = 0
    private(set) var itemsStored = 0
    /// `flush_all`: items whose CAS unique is below this are gone. Every item written after
    /// a flush gets a higher unique, so a flush needs no scan; dead items are removed when
    /// found, or from the LRU tails (where they all gather) by `reclaimExpired`.
    private var flushBelowCAS: UInt64 = 0
    /// A delayed flush: the second it takes effect; 0 for none.
    private var flushAt = 0
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
        /// A touch found no room in the budget for the expiry queue.
        case failed
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

    /// Appends `header(item)` and then the value of `key`'s item to `output`, which must
    /// have room for the value plus `headerRoom` bytes (else `.needsCapacity`, changing
    /// nothing). `touch` also sets its expiry. The header closure runs under the lock: it
    /// only formats the item's fields into the reserved room.
    mutating func read(
        _ key: StoreKey, into output: inout [UInt8], headerRoom: Int, touch newExpiry: StoreExpiry?,
        withValue: Bool = true, claimWin: Bool = false, header: (StoreItemInfo, inout [UInt8]) -> Void
    ) -> ReadOutcome {
        let id = live(key)
        guard !id.isNone else {
            misses += 1
            return .miss
        }
        let item = chunk(id)
        let count = withValue ? item.valueCount : 0
        guard output.capacity - output.count >= count + headerRoom else { return .needsCapacity(count + headerRoom) }
        if let newExpiry {
            guard let stamp = stamp(for: newExpiry) else {
                remove(id, digest: key.digest)
                expired += 1
                misses += 1
                return .miss
            }
            guard setExpiry(of: id, to: stamp) else { return .failed }
        }
        hits += 1
        touch(id)
        var info = info(item)
        let marks = item.marks
        info.marks = marks
        // A stale item's first meta reader wins the right to recache it.
        if claimWin && marks.contains(.stale) && !marks.contains(.winSent) {
            item.marks.insert(.winSent)
            info.won = true
        }
        header(info, &output)
        if withValue { item.appendValue(to: &output) }
        return .hit(info)
    }

    /// Writes `value` for `key` as `mode` says, if `compareCAS` (when given) is the live
    /// item's CAS unique.
    mutating func store(
        _ key: StoreKey, value: ArraySlice<UInt8>, flags: UInt32, expiry: StoreExpiry,
        mode: StoreWriteMode, compareCAS: UInt64?, marks initialMarks: ItemMarks = [],
        invalidateIfOlder: Bool = false
    ) -> Outcome<StoreWriteResult> {
        guard key.bytes.count <= ItemChunk.maxKeyLength else { return .failed(.keyTooLong) }
        let old = live(key)
        var marks = initialMarks
        if let compareCAS {
            guard !old.isNone else { return finished(.notFound) }
            let current = chunk(old).cas
            if current != compareCAS {
                // `ms ... C<cas> I`: an older CAS still stores, marked stale.
                guard invalidateIfOlder && compareCAS < current else { return finished(.exists) }
                marks.insert(.stale)
            }
        }
        switch mode {
        case .set:
            break
        case .add:
            guard old.isNone else {
                touch(old)
                return finished(.notStored)
            }
        case .replace, .append, .prepend:
            guard !old.isNone else { return finished(.notStored) }
        }
        let concatenates = mode == .append || mode == .prepend
        // A write that expires at once stores nothing and leaves nothing.
        var stamp: UInt32 = 0
        if !concatenates {
            guard let due = self.stamp(for: expiry) else {
                if !old.isNone { remove(old, digest: key.digest) }
                        return finished(.stored(cas: takeCAS()))
            }
            stamp = due
            if stamp != 0 && !makeRoomInExpiryQueue() { return .failed(.outOfMemory) }
        }
        let oldCount = old.isNone ? 0 : chunk(old).valueCount
        let count = concatenates ? oldCount + value.count : value.count
        guard count <= ItemChunk.maxValueCount else { return .failed(.outOfMemory) }
        let size = ItemChunk.size(keyCount: key.bytes.count, valueCount: count)
        if !old.isNone && fitsInPlace(old, size: size) {
            let item = chunk(old)
            bytesStored += count - oldCount
            item.valueCount = count
            switch mode {
            case .append: item.writeValue(value, at: oldCount)
            case .prepend: item.shiftValue(by: value.count, count: oldCount); item.writeValue(value, at: 0)
            default: item.writeValue(value, at: 0); item.flags = flags; item.marks = marks
            }
            item.cas = takeCAS()
            if !concatenates { replaceExpiry(of: old, with: stamp) }
            touch(old)
            itemsStored += 1
            return finished(.stored(cas: item.cas))
        }
        let allocation = allocate(size: size, replacing: old)
        guard case .chunk(let new) = allocation else { return Self.unfinished(allocation) }
        if protectedEvicted && concatenates {
            // The item to add to was evicted to make room: nothing to append to.
            freeChunk(new, keepEmptyPage: false)
            return finished(.notStored)
        }
        let item = chunk(new)
        item.initialize(key: key, valueCount: count)
        item.cas = takeCAS()
        if concatenates {
            let previous = chunk(old)
            item.flags = previous.flags
            item.writeValue(previous.value, at: mode == .append ? 0 : value.count)
            item.writeValue(value, at: mode == .append ? oldCount : 0)
            stamp = previous.expiry
        } else {
            item.flags = flags
            item.marks = marks
            item.writeValue(value, at: 0)
        }
        if !old.isNone && !protectedEvicted {
            remove(old, digest: key.digest)
        }
        insert(new, digest: key.digest)
        replaceExpiry(of: new, with: stamp)
        itemsStored += 1
        return finished(.stored(cas: item.cas))
    }

    /// A write's result, counted once (an operation may run more than once, when it needs a
    /// page).
    private mutating func finished(_ result: StoreWriteResult) -> Outcome<StoreWriteResult> {
        writes += 1
        return .done(result)
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
            rewriteInPlace(old, length: length) { $0.writeValue(decimal: result) }
            return .done(result)
        }
        let allocation = allocate(size: size, replacing: old)
        guard case .chunk(let new) = allocation else { return Self.unfinished(allocation) }
        let item = chunk(new)
        item.initialize(key: key, valueCount: length)
        item.writeValue(decimal: result)
        item.cas = takeCAS()
        item.flags = 0
        var stamp: UInt32 = 0
        if !old.isNone && !protectedEvicted {
            // Flags and expiry stay with the counter.
            let previous = chunk(old)
            item.flags = previous.flags
            stamp = previous.expiry
            remove(old, digest: key.digest)
        }
        insert(new, digest: key.digest)
        replaceExpiry(of: new, with: stamp)
        itemsStored += 1
        return .done(result)
    }

    /// Removes `key`. Returns whether a live item was there.
    mutating func remove(_ key: StoreKey) -> Bool {
        let id = live(key)
        guard !id.isNone else { return false }
        remove(id, digest: key.digest)
        return true
    }

    /// memcached's `md`: removes `key`'s item, or with `invalidate` marks it stale with a
    /// new CAS unique (and `expiry`, if given), if `compareCAS` (when given) matches.
    mutating func delete(
        _ key: StoreKey, compareCAS: UInt64?, invalidate: Bool, expiry: StoreExpiry?
    ) -> Outcome<StoreWriteResult> {
        let id = live(key)
        guard !id.isNone else { return .done(.notFound) }
        let item = chunk(id)
        if let compareCAS, item.cas != compareCAS { return .done(.exists) }
        guard invalidate else {
            remove(id, digest: key.digest)
            return .done(.stored(cas: 0))
        }
        if let expiry {
            guard let stamp = stamp(for: expiry) else {
                remove(id, digest: key.digest)
                expired += 1
                return .done(.stored(cas: 0))
            }
            guard setExpiry(of: id, to: stamp) else { return .failed(.outOfMemory) }
        }
        item.marks = [.stale]
        item.cas = takeCAS()
        return .done(.stored(cas: item.cas))
    }

    /// Sets `key`'s expiry (`.afterSeconds(0)` or less removes it). Returns whether a
    /// live item was there.
    mutating func touch(_ key: StoreKey, expiry: StoreExpiry) -> Outcome<Bool> {
        let id = live(key)
        guard !id.isNone else { return .done(false) }
        guard let stamp = stamp(for: expiry) else {
            remove(id, digest: key.digest)
            expired += 1
            return .done(true)
        }
        guard setExpiry(of: id, to: stamp) else { return .failed(.outOfMemory) }
        return .done(true)
    }

    /// Adds `delta` to (or subtracts it from, stopping at 0) the unsigned decimal number
    /// stored for `key`, memcached's `incr`/`decr`: `incr` wraps at 2^64.
    mutating func adjust(
        _ key: StoreKey, by delta: UInt64, decrement: Bool, compareCAS: UInt64?,
        create: (initial: UInt64, expiry: StoreExpiry)?
    ) -> Outcome<StoreArithmeticResult> {
        guard key.bytes.count <= ItemChunk.maxKeyLength else { return .failed(.keyTooLong) }
        let old = live(key)
        if old.isNone {
            guard let create else { return .done(.notFound) }
            if compareCAS != nil { return .done(.notFound) }
            return storeNumber(key, create.initial, expiry: create.expiry)
        }
        let item = chunk(old)
        if let compareCAS, item.cas != compareCAS { return .done(.exists) }
        guard let current = DecimalInteger.parseUnsigned(item.value) else { return .done(.notNumeric) }
        let result = decrement ? (delta > current ? 0 : current - delta) : current &+ delta
        let length = DecimalInteger.length(ofUnsigned: result)
        let size = ItemChunk.size(keyCount: key.bytes.count, valueCount: length)
        if fitsInPlace(old, size: size) {
            return .done(.value(result, cas: rewriteInPlace(old, length: length) { $0.writeValue(unsigned: result) }))
        }
        let allocation = allocate(size: size, replacing: old)
        guard case .chunk(let new) = allocation else { return Self.unfinished(allocation) }
        guard !protectedEvicted else {
            freeChunk(new, keepEmptyPage: false)
            return .done(.notFound)
        }
        let moved = chunk(new)
        moved.initialize(key: key, valueCount: length)
        moved.writeValue(unsigned: result)
        moved.cas = takeCAS()
        moved.flags = item.flags
        let stamp = item.expiry
        remove(old, digest: key.digest)
        insert(new, digest: key.digest)
        replaceExpiry(of: new, with: stamp)
        return .done(.value(result, cas: moved.cas))
    }

    /// Gives a counter new text in its own chunk: `length` bytes that `write` fills, and a
    /// new CAS unique, which it returns.
    @discardableResult
    private mutating func rewriteInPlace(_ id: ChunkID, length: Int, _ write: (ItemChunk) -> Void) -> UInt64 {
        let item = chunk(id)
        bytesStored += length - item.valueCount
        item.valueCount = length
        write(item)
        item.cas = takeCAS()
        touch(id)
        return item.cas
    }

    /// A new item holding `number` (memcached's auto-create on a miss).
    private mutating func storeNumber(_ key: StoreKey, _ number: UInt64, expiry: StoreExpiry) -> Outcome<StoreArithmeticResult> {
        guard let stamp = stamp(for: expiry) else { return .done(.notFound) }
        if stamp != 0 && !makeRoomInExpiryQueue() { return .failed(.outOfMemory) }
        let length = DecimalInteger.length(ofUnsigned: number)
        let allocation = allocate(size: ItemChunk.size(keyCount: key.bytes.count, valueCount: length), replacing: .none)
        guard case .chunk(let new) = allocation else { return Self.unfinished(allocation) }
        let item = chunk(new)
        item.initialize(key: key, valueCount: length)
        item.writeValue(unsigned: number)
        item.cas = takeCAS()
        item.flags = 0
        insert(new, digest: key.digest)
        replaceExpiry(of: new, with: stamp)
        itemsStored += 1
        return .done(.value(number, cas: item.cas))
    }

    /// Makes every item written so far gone, now or once `delay` seconds have passed.
    mutating func flush(afterSeconds delay: Int) {
        if delay <= 0 {
            flushBelowCAS = nextCAS
            flushAt = 0
        } else {
            flushAt = clock.now() + delay
        }
    }

    // MARK: Snapshots

    /// What one slice of a snapshot export did.
    enum ExportStep: Equatable {
        /// Buckets up to (not including) `next` are done; more remain.
        case more(next: Int)
        case done
        /// The next bucket's items need this many bytes of room and the buffer is empty:
        /// reserve it (after the lock) and call again from the same bucket.
        case needsCapacity(Int)
    }

    /// Appends the live items of index buckets `start...` to `buffer` as snapshot records,
    /// without allocating: a bucket's chain goes in whole or not at all, and the slice ends
    /// when the buffer holds `byteTarget` bytes or `bucketLimit` buckets were looked at.
    /// `records` counts the items appended.
    ///
    /// The cursor is a bucket number, and the index only ever doubles: the buckets of an
    /// item not yet exported are all at or after the cursor in a doubled index too (bucket
    /// = digest bits mod size), so an item live throughout a snapshot is in it at least
    /// once; one that moved bucket may be in it twice (the later record wins at load).
    func export(
        from start: Int, into buffer: inout [UInt8], records: inout Int, byteTarget: Int, bucketLimit: Int, unixNow: Int
    ) -> ExportStep {
        let now = clock.now()
        let flushedAll = flushAt != 0 && now >= flushAt
        func exported(_ item: ItemChunk) -> Bool {
            !flushedAll && item.cas >= flushBelowCAS && (item.expiry == 0 || now < Int(item.expiry))
        }
        var bucket = start
        let end = min(index.bucketCount, start + bucketLimit)
        while bucket < end && buffer.count < byteTarget {
            var size = 0
            var id = index[bucket]
            while !id.isNone {
                let item = chunk(id)
                if exported(item) { size += SnapshotRecord.size(keyCount: item.keyCount, valueCount: item.valueCount) }
                id = item.hashNext
            }
            if size > buffer.capacity - buffer.count {
                return buffer.isEmpty ? .needsCapacity(size) : .more(next: bucket)
            }
            id = index[bucket]
            while !id.isNone {
                let item = chunk(id)
                if exported(item) {
                    let expiry = item.expiry == 0 ? 0 : Int64(unixNow + Int(item.expiry) - now)
                    SnapshotRecord.append(
                        key: item.key, value: item.value, flags: item.flags, marks: item.marks,
                        unixExpiry: expiry, cas: item.cas, to: &buffer)
                    records += 1
                }
                id = item.hashNext
            }
            bucket += 1
        }
        return bucket >= index.bucketCount ? .done : .more(next: bucket)
    }

    /// Stores a snapshot's item with its own CAS unique (`store` then gives the item the
    /// record's). `expiry` is on the store's clock, already checked to be in the future.
    mutating func restore(_ key: StoreKey, record: SnapshotRecord, expiry: StoreExpiry) -> Outcome<Void> {
        switch store(key, value: record.value, flags: record.flags, expiry: expiry, mode: .set,
                     compareCAS: nil, marks: record.marks) {
        case .done:
            let id = live(key)
            if !id.isNone { chunk(id).cas = record.cas }
            return .done(())
        case .needsMemory(let byteCount, let classIndex):
            return .needsMemory(byteCount: byteCount, classIndex: classIndex)
        case .retry:
            return .retry
        case .failed(let error):
            return .failed(error)
        }
    }

    /// Makes every CAS unique handed out from now on larger than `cas` (after a snapshot's
    /// items kept theirs), keeping this shard's residue.
    mutating func advanceCAS(past cas: UInt64) {
        guard nextCAS <= cas else { return }
        let residue = nextCAS % casStep
        var next = cas + 1
        next += (residue + casStep - next % casStep) % casStep
        nextCAS = next
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
        if flushAt != 0 && now >= flushAt { flush(afterSeconds: 0) }
        // Items a flush left gather at the LRU tails: nothing written since is behind them.
        for classIndex in classes.indices {
            while examined < limit, retired == nil {
                let tail = classes[classIndex].lruTail
                guard !tail.isNone, chunk(tail).cas < flushBelowCAS else { break }
                remove(tail, digest: StoreKey.digest(of: chunk(tail).key))
                examined += 1
                removed += 1
            }
        }
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

    /// Whether reclaiming has anything due at `now`: an expiry, or items a flush left.
    func hasExpiredDue(now: Int) -> Bool {
        if flushBelowCAS != 0 || flushAt != 0 {
            if flushAt != 0 && now >= flushAt { return true }
            for slabClass in classes where !slabClass.lruTail.isNone {
                if chunk(slabClass.lruTail).cas < flushBelowCAS { return true }
            }
        }
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

    /// The expiry stamp for `expiry`: 0 for never, nil when it is already due.
    private func stamp(for expiry: StoreExpiry) -> UInt32? {
        switch expiry {
        case .never:
            return 0
        case .afterSeconds(let seconds):
            guard seconds > 0 else { return nil }
            let (sum, overflow) = clock.now().addingReportingOverflow(Int(clamping: seconds))
            return overflow ? .max : UInt32(clamping: max(1, sum))
        }
    }

    /// Gives a live item a new expiry stamp (0: never), queueing it. False when the queue
    /// has no room in the budget; nothing changes then.
    private mutating func setExpiry(of id: ChunkID, to stamp: UInt32) -> Bool {
        if stamp != 0 && !makeRoomInExpiryQueue() { return false }
        replaceExpiry(of: id, with: stamp)
        return true
    }

    /// Sets a linked item's expiry stamp, keeping `itemsWithExpiry` and the queue right.
    /// The caller made room in the queue for a non-zero stamp (or accepts that the item is
    /// then only found expired, not reclaimed by the sweep).
    private mutating func replaceExpiry(of id: ChunkID, with stamp: UInt32) {
        let item = chunk(id)
        if item.expiry != 0 { itemsWithExpiry -= 1 }
        item.expiry = stamp
        guard stamp != 0 else { return }
        itemsWithExpiry += 1
        if expiring.count < expiring.capacity || makeRoomInExpiryQueue() {
            expiring.insert(.init(expiry: stamp, chunk: id))
        }
    }

    /// The live item for `key`, or `.none`. An expired one found on the way is removed and
    /// counted. The clock is read only for an item that has an expiry.
    private mutating func live(_ key: StoreKey) -> ChunkID {
        if flushAt != 0 && clock.now() >= flushAt { flush(afterSeconds: 0) }
        var id = index[index.bucket(for: key.digest)]
        while !id.isNone {
            let item = chunk(id)
            if item.hasKey(key) {
                if item.cas < flushBelowCAS {
                    remove(id, digest: key.digest)
                    return .none
                }
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
        let flushed = item.cas < flushBelowCAS
        let wasProtected = id == protected
        remove(id, digest: StoreKey.digest(of: item.key), keepEmptyPage: keepEmptyPage)
        if wasProtected || flushed { return }
        if expiry != 0 && clock.now() >= Int(expiry) {
            expired += 1
        } else {
            evictions += 1
        }
    }

    /// Whether a linked item is gone already: expired, or older than a flush.
    private func isDead(_ id: ChunkID) -> Bool {
        let item = chunk(id)
        if item.cas < flushBelowCAS { return true }
        let expiry = item.expiry
        return expiry != 0 && clock.now() >= Int(expiry)
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
        guard eviction == .lru else {
            // Even under `.none`, an expired or flushed item at the tail is no loss.
            let tail = classes[classIndex].lruTail
            guard !tail.isNone, isDead(tail) else { return .outOfMemory }
            evict(tail, keepEmptyPage: true)
            return takeChunk(classIndex: classIndex).map(Allocation.chunk) ?? .outOfMemory
        }
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
