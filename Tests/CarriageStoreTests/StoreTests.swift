import XCTest

import CarriageTestSupport
@testable import CarriageStore

final class StoreTests: XCTestCase {
    private func value(_ store: Store, _ key: String) -> String? {
        store.value(forKey: slice(key)).map { String(decoding: $0, as: UTF8.self) }
    }

    func testSetGetDelete() throws {
        let store = Store(maxMemoryBytes: 1 << 20)
        XCTAssertNil(value(store, "a"))
        try store.set(slice("one"), forKey: slice("a"))
        XCTAssertEqual(value(store, "a"), "one")
        XCTAssertNil(value(store, "A"), "keys are case-sensitive")
        try store.set(slice("two"), forKey: slice("a"))
        XCTAssertEqual(value(store, "a"), "two")
        try store.set(slice(""), forKey: slice("empty"))
        XCTAssertEqual(value(store, "empty"), "")
        XCTAssertTrue(store.removeValue(forKey: slice("a")))
        XCTAssertFalse(store.removeValue(forKey: slice("a")))
        XCTAssertNil(value(store, "a"))
        XCTAssertEqual(store.keyCount, 1)
    }

    func testValueIsACopyOfTheRequestBytes() throws {
        let store = Store(maxMemoryBytes: 1 << 20)
        var line = Array("SET k value".utf8)
        try store.set(line[6...], forKey: line[4..<5])
        line[6] = UInt8(ascii: "V")
        XCTAssertEqual(value(store, "k"), "value")
    }

    func testCountsAreExact() throws {
        let store = Store(maxMemoryBytes: 1 << 20)
        XCTAssertEqual(store.keyCount, 0)
        XCTAssertEqual(store.bytesStored, 0)
        try store.set(slice("12345"), forKey: slice("abc"))  // 3 + 5
        XCTAssertEqual(store.keyCount, 1)
        XCTAssertEqual(store.bytesStored, 8)
        try store.set(slice("1"), forKey: slice("abc"))  // overwrite, shorter: 3 + 1
        XCTAssertEqual(store.keyCount, 1)
        XCTAssertEqual(store.bytesStored, 4)
        try store.set(slice("1234567890"), forKey: slice("abc"))  // overwrite, longer: 3 + 10
        XCTAssertEqual(store.bytesStored, 13)
        try store.set(slice(""), forKey: slice("é"))  // 2 + 0
        XCTAssertEqual(store.keyCount, 2)
        XCTAssertEqual(store.bytesStored, 15)
        XCTAssertEqual(try store.increment(slice("n"), by: 9), 9)  // 1 + 1
        XCTAssertEqual(store.keyCount, 3)
        XCTAssertEqual(store.bytesStored, 17)
        XCTAssertEqual(try store.increment(slice("n"), by: 1), 10)  // 1 + 2
        XCTAssertEqual(store.bytesStored, 18)
        XCTAssertEqual(try store.decrement(slice("n"), by: 20), -10)  // 1 + 3
        XCTAssertEqual(store.bytesStored, 19)
        XCTAssertTrue(store.removeValue(forKey: slice("abc")))
        XCTAssertEqual(store.keyCount, 2)
        XCTAssertEqual(store.bytesStored, 6)
        XCTAssertFalse(store.removeValue(forKey: slice("abc")))
        XCTAssertEqual(store.bytesStored, 6)
        XCTAssertTrue(store.removeValue(forKey: slice("é")))
        XCTAssertTrue(store.removeValue(forKey: slice("n")))
        XCTAssertEqual(store.keyCount, 0)
        XCTAssertEqual(store.bytesStored, 0)
    }

    func testIncrementAndDecrement() throws {
        let store = Store(maxMemoryBytes: 1 << 20)
        XCTAssertEqual(try store.increment(slice("n"), by: 1), 1)
        XCTAssertEqual(try store.increment(slice("n"), by: -3), -2)
        XCTAssertEqual(try store.decrement(slice("n"), by: -5), 3)
        XCTAssertEqual(try store.decrement(slice("m"), by: 1), -1)
        XCTAssertEqual(value(store, "n"), "3")
        XCTAssertEqual(value(store, "m"), "-1")
        try store.set(slice("-0"), forKey: slice("z"))
        XCTAssertEqual(try store.increment(slice("z"), by: 0), 0)
        XCTAssertEqual(value(store, "z"), "0")
        try store.set(slice("007"), forKey: slice("z"))
        XCTAssertEqual(try store.increment(slice("z"), by: 1), 8)
    }

    func testIncrementRefusals() throws {
        let store = Store(maxMemoryBytes: 1 << 20)
        let notIntegers = ["", "abc", "+1", " 1", "1 ", "1.5", "9223372036854775808", "-", "0x1"]
        for text in notIntegers {
            try store.set(slice(text), forKey: slice("v"))
            let bytes = store.bytesStored
            XCTAssertThrowsError(try store.increment(slice("v"), by: 1), text) {
                XCTAssertEqual($0 as? StoreError, .valueNotInteger, text)
            }
            XCTAssertThrowsError(try store.decrement(slice("v"), by: 1), text) {
                XCTAssertEqual($0 as? StoreError, .valueNotInteger, text)
            }
            XCTAssertEqual(value(store, "v"), text)
            XCTAssertEqual(store.bytesStored, bytes)
        }

        let overflows: [(String, Bool, Int64)] = [
            // (stored value, increment?, delta)
            ("9223372036854775807", true, 1),
            ("9223372036854775800", true, 8),
            ("-9223372036854775808", true, -1),
            ("-9223372036854775808", false, 1),
            ("9223372036854775807", false, -1),
            ("0", false, .min),  // 0 - Int64.min = 2^63
            ("1", true, .max),
            ("-1", true, .min),
            ("-2", false, .max),
        ]
        for (stored, increment, delta) in overflows {
            try store.set(slice(stored), forKey: slice("o"))
            let name = "\(stored) \(increment ? "+" : "-") \(delta)"
            XCTAssertThrowsError(
                try increment ? store.increment(slice("o"), by: delta) : store.decrement(slice("o"), by: delta),
                name
            ) { XCTAssertEqual($0 as? StoreError, .overflow, name) }
            XCTAssertEqual(value(store, "o"), stored, "unchanged after \(name)")
        }
        XCTAssertThrowsError(try store.decrement(slice("absent"), by: .min)) {
            XCTAssertEqual($0 as? StoreError, .overflow)
        }
        XCTAssertNil(value(store, "absent"), "a refused INCR creates no key")

        try store.set(slice("-1"), forKey: slice("o"))
        XCTAssertEqual(try store.decrement(slice("o"), by: .min), .max)
        XCTAssertEqual(try store.increment(slice("o"), by: .min), -1)
        try store.set(slice("9223372036854775806"), forKey: slice("o"))
        XCTAssertEqual(try store.increment(slice("o"), by: 1), .max)
        XCTAssertEqual(value(store, "o"), "9223372036854775807")
        XCTAssertEqual(try store.decrement(slice("min"), by: .max), -Int64.max)
        XCTAssertEqual(try store.decrement(slice("min"), by: 1), .min)
        XCTAssertEqual(value(store, "min"), "-9223372036854775808")
    }

    // MARK: Memory

    /// What one slab page costs the budget, and how many 78-byte items (5-byte key, 40-byte
    /// value) it holds.
    private static let pageCost = SlabPage.budgetCost(byteCount: SlabClasses.pageSize)
    private static let perPage =
        SlabClasses.pageSize / SlabClasses.chunkSizes[SlabClasses.classIndex(forItemSize: 78)]
    private static let value40 = slice(String(repeating: "v", count: 40))

    private func key(_ index: Int) -> ArraySlice<UInt8> {
        slice("k" + String(String(index + 10_000).suffix(4)))
    }

    /// The budget is counted in pages: a page's worth of items fits in one page's budget,
    /// one more is refused under `.none`, and nothing stored is lost.
    func testMemoryBoundIsCountedInPagesAndRefusesUnderNone() throws {
        let store = Store(maxMemoryBytes: Self.pageCost, shardCount: 1)
        for index in 0..<Self.perPage { try store.set(Self.value40, forKey: key(index)) }
        XCTAssertEqual(store.memoryUsed, Self.pageCost)
        XCTAssertThrowsError(try store.set(Self.value40, forKey: key(Self.perPage))) {
            XCTAssertEqual($0 as? StoreError, .outOfMemory)
        }
        // Another size class needs a page of its own.
        XCTAssertThrowsError(try store.set(slice("x"), forKey: slice("small"))) {
            XCTAssertEqual($0 as? StoreError, .outOfMemory)
        }
        XCTAssertEqual(store.keyCount, Self.perPage)
        XCTAssertEqual(store.value(forKey: key(0)), Array(Self.value40))
        XCTAssertEqual(store.value(forKey: key(Self.perPage - 1)), Array(Self.value40))
        // An overwrite in the same class needs no memory; a delete makes room for a new key.
        try store.set(slice(String(repeating: "w", count: 40)), forKey: key(3))
        XCTAssertTrue(store.removeValue(forKey: key(4)))
        try store.set(Self.value40, forKey: key(Self.perPage))
        XCTAssertEqual(store.statistics.evictions, 0)
        XCTAssertLessThanOrEqual(store.memoryUsed, store.maxMemoryBytes)
    }

    /// A page goes back to the budget when its last item does.
    func testMemoryComesBackWhenItemsGo() throws {
        let store = Store(maxMemoryBytes: 1 << 20, shardCount: 1)
        XCTAssertEqual(store.memoryUsed, 0)
        for index in 0..<40 { try store.set(slice(String(repeating: "v", count: index * 25)), forKey: key(index)) }
        XCTAssertGreaterThan(store.memoryUsed, 0)
        for index in 0..<40 { XCTAssertTrue(store.removeValue(forKey: key(index))) }
        XCTAssertEqual(store.memoryUsed, 0)
        XCTAssertEqual(store.bytesStored, 0)
    }

    /// Under `.lru` a full store evicts its least recently used items: the ones read
    /// since stay.
    func testLRUEvictsTheLeastRecentlyUsed() throws {
        let store = Store(maxMemoryBytes: Self.pageCost, eviction: .lru, shardCount: 1)
        for index in 0..<Self.perPage { try store.set(Self.value40, forKey: key(index)) }
        for index in 0..<10 { XCTAssertNotNil(store.value(forKey: key(index))) }  // now the most recent
        // A new counter of the same size class (a 40-byte key) evicts key 10, then nine SETs
        // evict keys 11 to 19.
        XCTAssertEqual(try store.increment(slice(String(repeating: "n", count: 40)), by: 7), 7)
        for index in Self.perPage..<(Self.perPage + 9) { try store.set(Self.value40, forKey: key(index)) }
        for index in 0..<10 { XCTAssertNotNil(store.value(forKey: key(index)), "read recently: \(index)") }
        for index in 10..<20 { XCTAssertNil(store.value(forKey: key(index)), "least recently used: \(index)") }
        XCTAssertNotNil(store.value(forKey: key(20)))
        XCTAssertNotNil(store.value(forKey: key(Self.perPage + 8)))
        let totals = store.statistics
        XCTAssertEqual(totals.evictions, 10)
        XCTAssertEqual(totals.keys, Self.perPage)
        XCTAssertEqual(store.memoryUsed, Self.pageCost)
    }

    /// Under `.lru`, a size class the shard has no page for takes a page from another class,
    /// evicting that page's items.
    func testLRUMovesAPageBetweenSizeClasses() throws {
        let store = Store(maxMemoryBytes: Self.pageCost, eviction: .lru, shardCount: 1)
        for index in 0..<Self.perPage { try store.set(Self.value40, forKey: key(index)) }
        try store.set(slice(String(repeating: "x", count: 300)), forKey: slice("big"))
        XCTAssertEqual(store.value(forKey: slice("big")), Array(String(repeating: "x", count: 300).utf8))
        XCTAssertEqual(store.statistics.evictions, Self.perPage)
        XCTAssertEqual(store.keyCount, 1)
        XCTAssertLessThanOrEqual(store.memoryUsed, store.maxMemoryBytes)
        let none = Store(maxMemoryBytes: Self.pageCost, shardCount: 1)
        for index in 0..<Self.perPage { try none.set(Self.value40, forKey: key(index)) }
        XCTAssertThrowsError(try none.set(slice(String(repeating: "x", count: 300)), forKey: slice("big")))
        XCTAssertEqual(none.keyCount, Self.perPage, "nothing stored is lost under .none")
    }

    /// Values larger than a page get blocks of their own, counted, evictable and returned.
    func testLargeValues() throws {
        let large = (0..<200_000).map { UInt8(truncatingIfNeeded: $0 * 7) }
        let store = Store(maxMemoryBytes: 1 << 20, eviction: .lru, shardCount: 1)
        try store.set(slice(large), forKey: slice("large"))
        XCTAssertEqual(store.value(forKey: slice("large")), large)
        XCTAssertGreaterThanOrEqual(store.memoryUsed, 200_000)
        try store.set(slice(Array(large.reversed())), forKey: slice("large"))  // the same block size
        XCTAssertEqual(store.value(forKey: slice("large")), Array(large.reversed()))
        try store.set(slice("small now"), forKey: slice("large"))
        XCTAssertEqual(store.value(forKey: slice("large")), Array("small now".utf8))
        XCTAssertLessThan(store.memoryUsed, 100_000, "the block went back")
        // Six 200 KB values in a 1 MiB store: the oldest are evicted, the bound holds.
        for index in 0..<6 { try store.set(slice(large), forKey: slice("l\(index)")) }
        XCTAssertLessThanOrEqual(store.memoryUsed, store.maxMemoryBytes)
        XCTAssertNil(store.value(forKey: slice("l0")))
        XCTAssertEqual(store.value(forKey: slice("l5")), large)
        XCTAssertGreaterThan(store.statistics.evictions, 0)
        // Larger than the whole bound: refused, even under .lru.
        XCTAssertThrowsError(try store.set(slice(Array(repeating: 0, count: 2 << 20)), forKey: slice("huge"))) {
            XCTAssertEqual($0 as? StoreError, .outOfMemory)
        }
        XCTAssertEqual(store.value(forKey: slice("l5")), large, "a refused SET evicts nothing it need not")
    }

    /// Values that grow and shrink across size classes keep their bytes and the counts.
    func testValuesMovingBetweenSizeClasses() throws {
        let store = Store(maxMemoryBytes: 1 << 20)
        for length in [0, 10, 100, 1_000, 10_000, 70_000, 100, 3] {
            let value = (0..<length).map { UInt8(truncatingIfNeeded: $0 &+ length) }
            try store.set(slice(value), forKey: slice("k"), flags: UInt32(length))
            let entry = try XCTUnwrap(store.entry(forKey: slice("k")))
            XCTAssertEqual(entry.value, value)
            XCTAssertEqual(entry.flags, UInt32(length))
            XCTAssertEqual(store.bytesStored, 1 + length)
            XCTAssertEqual(store.keyCount, 1)
        }
    }

    func testKeyLengthLimit() throws {
        let store = Store(maxMemoryBytes: 1 << 20)
        try store.set(slice("v"), forKey: slice(String(repeating: "k", count: 255)))
        XCTAssertEqual(store.value(forKey: slice(String(repeating: "k", count: 255))), Array("v".utf8))
        XCTAssertThrowsError(try store.set(slice("v"), forKey: slice(String(repeating: "k", count: 256)))) {
            XCTAssertEqual($0 as? StoreError, .keyTooLong)
        }
        XCTAssertThrowsError(try store.increment(slice(String(repeating: "k", count: 256)), by: 1)) {
            XCTAssertEqual($0 as? StoreError, .keyTooLong)
        }
    }

    func testZeroAndDegenerateConfiguration() throws {
        let store = Store(maxMemoryBytes: -5, shardCount: 0)
        XCTAssertEqual(store.maxMemoryBytes, 0)
        XCTAssertThrowsError(try store.set(slice(""), forKey: slice("k"))) {
            XCTAssertEqual($0 as? StoreError, .outOfMemory)
        }
        XCTAssertThrowsError(try store.increment(slice("k"), by: 1))
        XCTAssertEqual(store.bytesStored, 0)
        XCTAssertEqual(store.memoryUsed, 0)
        let lru = Store(maxMemoryBytes: 100, eviction: .lru)
        XCTAssertThrowsError(try lru.set(slice("v"), forKey: slice("k")), "not even a page fits")
    }

    func testDefaultShardCountLeavesEachShardPages() {
        XCTAssertEqual(Store.defaultShardCount(maxMemoryBytes: 64 << 20), 64)
        XCTAssertEqual(Store.defaultShardCount(maxMemoryBytes: 8 << 30), 64)
        XCTAssertEqual(Store.defaultShardCount(maxMemoryBytes: 8 << 20), 8)
        XCTAssertEqual(Store.defaultShardCount(maxMemoryBytes: 1 << 20), 1)
        XCTAssertEqual(Store.defaultShardCount(maxMemoryBytes: 0), 1)
    }

    func testConcurrentSetAndDeleteOfDistinctKeysKeepCountsExact() {
        let store = Store(maxMemoryBytes: 1 << 30, shardCount: 4)
        let threads = 16
        let keysPerThread = 300
        XCTAssertTrue(runOnThreads(threads) { thread in
            for round in 0..<3 {
                for index in 0..<keysPerThread {
                    let key = slice("t\(thread)-k\(index)")
                    let value = slice(String(repeating: "v", count: (index + round) % 17))
                    try? store.set(value, forKey: key)
                }
                for index in stride(from: 0, to: keysPerThread, by: 2) {
                    store.removeValue(forKey: slice("t\(thread)-k\(index)"))
                }
            }
            for index in stride(from: 1, to: keysPerThread, by: 4) {
                _ = try? store.increment(slice("t\(thread)-n\(index)"), by: Int64(index))
            }
        }, "threads did not finish")
        // Expected: the odd keys with their last (round 2) value, plus the counters.
        var expectedKeys = 0
        var expectedBytes = 0
        for thread in 0..<threads {
            for index in stride(from: 1, to: keysPerThread, by: 2) {
                expectedKeys += 1
                expectedBytes += "t\(thread)-k\(index)".utf8.count + (index + 2) % 17
            }
            for index in stride(from: 1, to: keysPerThread, by: 4) {
                expectedKeys += 1
                expectedBytes += "t\(thread)-n\(index)".utf8.count + "\(index)".utf8.count
            }
        }
        XCTAssertEqual(store.keyCount, expectedKeys)
        XCTAssertEqual(store.bytesStored, expectedBytes)
        XCTAssertEqual(value(store, "t3-k7"), String(repeating: "v", count: 9))
        XCTAssertNil(value(store, "t3-k8"))
    }

    /// Writers of every size class at once, under `.lru`, at a bound far below what they
    /// write: every write is accepted, the bound is never crossed (checked while they run),
    /// and every value read back is the one written for its key.
    func testConcurrentWritersUnderLRUNeverPassTheBound() {
        let store = Store(maxMemoryBytes: 2 << 20, eviction: .lru, shardCount: 4)
        let refused = SharedCounter()
        let wrong = SharedCounter()
        let over = SharedCounter()
        let finished = runOnThreads(9) { thread in
            if thread == 8 {
                // A watcher: the budget as the writers see it.
                for _ in 0..<20_000 where store.memoryUsed > store.maxMemoryBytes { over.add(1) }
                return
            }
            for index in 0..<6_000 {
                let id = thread * 1_000_000 + index
                let length = (id * 7919) % 3_000
                let key = slice("key-\(id)")
                let value = slice(Array(repeating: UInt8(truncatingIfNeeded: id), count: length))
                do throws(StoreError) {
                    try store.set(value, forKey: key)
                } catch {
                    refused.add(1)
                }
                let readBack = (thread * 1_000_000) + (index * 31) % (index + 1)
                if let stored = store.value(forKey: slice("key-\(readBack)")),
                   stored != Array(repeating: UInt8(truncatingIfNeeded: readBack), count: (readBack * 7919) % 3_000) {
                    wrong.add(1)
                }
            }
        }
        XCTAssertTrue(finished, "threads did not finish")
        XCTAssertEqual(refused.value, 0)
        XCTAssertEqual(wrong.value, 0)
        XCTAssertEqual(over.value, 0)
        XCTAssertLessThanOrEqual(store.memoryUsed, store.maxMemoryBytes)
        let totals = store.statistics
        XCTAssertGreaterThan(totals.evictions, 0)
        XCTAssertEqual(totals.keys + totals.evictions, 8 * 6_000)
    }

    /// Under `.none`, concurrent writers fill the bound and are refused after it.
    func testConcurrentSetsNeverPassTheMemoryBound() {
        let store = Store(maxMemoryBytes: 4 * Self.pageCost, shardCount: 4)
        let stored = SharedCounter()
        XCTAssertTrue(runOnThreads(16) { thread in
            for index in 0..<1_000 {
                let key = "k" + String(String(thread * 1_000 + index + 100_000).suffix(5))  // 6 bytes
                do throws(StoreError) {
                    try store.set(Self.value40, forKey: slice(key))
                    stored.add(1)
                } catch {
                    XCTAssertEqual(error, .outOfMemory)
                }
            }
        }, "threads did not finish")
        XCTAssertLessThanOrEqual(store.memoryUsed, store.maxMemoryBytes)
        XCTAssertEqual(store.keyCount, stored.value)
        XCTAssertGreaterThan(stored.value, 2 * Self.perPage)
        XCTAssertLessThanOrEqual(stored.value, 4 * Self.perPage)
    }

    // MARK: Items: flags, CAS, expiry

    func testFlagsCASAndBinaryValues() throws {
        let store = Store(maxMemoryBytes: 1 << 20)
        let binary = (0...255).map { UInt8($0) }
        try store.set(slice(binary), forKey: slice("bin"), flags: 0xDEAD_BEEF)
        let first = try XCTUnwrap(store.entry(forKey: slice("bin")))
        XCTAssertEqual(first.value, binary)
        XCTAssertEqual(first.flags, 0xDEAD_BEEF)
        XCTAssertNil(first.secondsLeft)
        // Every change of the value gets a new CAS unique; an expiry change does not.
        try store.set(slice(binary), forKey: slice("bin"), flags: 1)
        let second = try XCTUnwrap(store.entry(forKey: slice("bin")))
        XCTAssertNotEqual(second.cas, first.cas)
        XCTAssertEqual(second.flags, 1)
        XCTAssertTrue(try store.expire(slice("bin"), afterSeconds: 50))
        XCTAssertEqual(store.entry(forKey: slice("bin"))?.cas, second.cas)
        XCTAssertEqual(try store.increment(slice("n"), by: 1), 1)
        let counter = try XCTUnwrap(store.entry(forKey: slice("n")))
        XCTAssertEqual(try store.increment(slice("n"), by: 1), 2)
        XCTAssertNotEqual(store.entry(forKey: slice("n"))?.cas, counter.cas)
        XCTAssertEqual(Set([first.cas, second.cas, counter.cas]).count, 3)
    }

    func testExpiryMovesWithTheClockAndAnExpiredItemIsGone() throws {
        let clock = ManualClock()
        let store = Store(maxMemoryBytes: 1 << 20, clock: clock.storeClock)
        XCTAssertFalse(try store.expire(slice("absent"), afterSeconds: 5))
        XCTAssertNil(store.timeToLive(slice("absent")))
        try store.set(slice("value"), forKey: slice("k"))
        XCTAssertEqual(store.timeToLive(slice("k")), .never)
        XCTAssertTrue(try store.expire(slice("k"), afterSeconds: 3))
        XCTAssertEqual(store.timeToLive(slice("k")), .seconds(3))
        clock.advance(by: 2)
        XCTAssertEqual(store.entry(forKey: slice("k"))?.secondsLeft, 1)
        clock.advance(by: 1)
        XCTAssertNil(store.value(forKey: slice("k")))
        XCTAssertEqual(store.keyCount, 0, "found expired: removed at once")
        XCTAssertEqual(store.bytesStored, 0)
        XCTAssertFalse(store.removeValue(forKey: slice("k")))
        let totals = store.statistics
        XCTAssertEqual([totals.hits, totals.misses, totals.expired], [1, 1, 1])
        XCTAssertEqual([totals.writes, totals.itemsStored], [1, 1])

        // An expired counter counts as absent: INCR starts again from 0, without expiry.
        XCTAssertEqual(try store.increment(slice("n"), by: 5), 5)
        XCTAssertTrue(try store.expire(slice("n"), afterSeconds: 1))
        clock.advance(by: 1)
        XCTAssertEqual(try store.increment(slice("n"), by: 1), 1)
        XCTAssertEqual(store.timeToLive(slice("n")), .never)
        XCTAssertEqual(store.statistics.expired, 2)
    }

    /// Expired items come back in bounded slices from each shard's queue; entries made
    /// stale by a later SET or EXPIRE reclaim nothing.
    func testReclaimTakesBoundedSlicesAndSkipsStaleEntries() throws {
        let clock = ManualClock()
        let store = Store(maxMemoryBytes: 1 << 20, shardCount: 4, clock: clock.storeClock)
        for i in 0..<100 {
            try store.set(slice("v"), forKey: slice("k\(i)"))
            XCTAssertTrue(try store.expire(slice("k\(i)"), afterSeconds: 10))
        }
        try store.set(slice("kept"), forKey: slice("k0"))  // SET clears the expiry
        XCTAssertTrue(try store.expire(slice("k1"), afterSeconds: 1000))  // a later expiry
        XCTAssertEqual(store.reclaimExpired(limitPerShard: 100), 0, "nothing is due yet")
        clock.advance(by: 10)
        var reclaimed: [Int] = []
        while true {
            let slice = store.reclaimExpired(limitPerShard: 5)
            XCTAssertLessThanOrEqual(slice, 4 * 5)
            if slice == 0 { break }
            reclaimed.append(slice)
        }
        XCTAssertEqual(reclaimed.reduce(0, +), 98)
        XCTAssertGreaterThan(reclaimed.count, 4)
        XCTAssertEqual(store.keyCount, 2)
        XCTAssertEqual(store.bytesStored, "k0kept".utf8.count + "k1v".utf8.count)
        XCTAssertEqual(store.statistics.expired, 98)
        XCTAssertEqual(store.value(forKey: slice("k0")), Array("kept".utf8))
        clock.advance(by: 990)
        XCTAssertEqual(store.reclaimExpired(limitPerShard: 100), 1)
        XCTAssertEqual(store.keyCount, 1)
    }

    /// Expiry under concurrent writers: counts stay exact and nothing expired is read.
    func testConcurrentExpiryKeepsCountsExact() {
        let clock = ManualClock()
        let store = Store(maxMemoryBytes: 1 << 24, clock: clock.storeClock)
        XCTAssertTrue(runOnThreads(4) { thread in
            for i in 0..<2_000 {
                let key = slice("t\(thread)-\(i % 100)")
                try? store.set(slice("x"), forKey: key)
                _ = try? store.expire(key, afterSeconds: Int64(i % 3))  // 0 expires at once
                if i % 50 == 0 { _ = store.reclaimExpired(limitPerShard: 8) }
            }
        }, "threads did not finish")
        clock.advance(by: 5)
        XCTAssertNil(store.value(forKey: slice("t0-1")))
        while store.reclaimExpired(limitPerShard: 1000) > 0 {}
        XCTAssertEqual(store.keyCount, 0)
        XCTAssertEqual(store.bytesStored, 0)
    }

    /// A counter that grows into another size class moves to a new chunk with its flags and
    /// expiry, and is still reclaimed when due.
    func testIncrementKeepsFlagsAndExpiryAcrossSizeClasses() throws {
        let clock = ManualClock()
        let store = Store(maxMemoryBytes: 1 << 20, clock: clock.storeClock)
        // 33 + 5 + 10 = 48 bytes, the smallest class's chunk exactly; 11 digits do not fit.
        try store.set(slice("9999999999"), forKey: slice("count"), flags: 42)
        XCTAssertTrue(try store.expire(slice("count"), afterSeconds: 30))
        XCTAssertEqual(try store.increment(slice("count"), by: 1), 10_000_000_000)
        let entry = try XCTUnwrap(store.entry(forKey: slice("count")))
        XCTAssertEqual(entry.value, Array("10000000000".utf8))
        XCTAssertEqual(entry.flags, 42)
        XCTAssertEqual(entry.secondsLeft, 30)
        XCTAssertEqual(try store.decrement(slice("count"), by: 1), 9_999_999_999)
        XCTAssertEqual(store.timeToLive(slice("count")), .seconds(30))
        clock.advance(by: 30)
        XCTAssertEqual(store.reclaimExpired(limitPerShard: 100), 1)
        XCTAssertEqual(store.keyCount, 0)
        XCTAssertLessThanOrEqual(store.memoryUsed, 16 * 8, "every page went back; the queue keeps its 16 slots")
    }

    /// Negative and zero delays expire at once; EXPIRE on an absent key changes nothing.
    func testExpireNowAndOnAbsentKeys() throws {
        let store = Store(maxMemoryBytes: 1 << 20)
        XCTAssertFalse(try store.expire(slice("absent"), afterSeconds: -1))
        XCTAssertFalse(try store.expire(slice("absent"), afterSeconds: 0))
        for delay: Int64 in [0, -1, .min] {
            try store.set(slice("v"), forKey: slice("k"))
            XCTAssertTrue(try store.expire(slice("k"), afterSeconds: delay))
            XCTAssertNil(store.value(forKey: slice("k")))
        }
        XCTAssertEqual(store.statistics.expired, 3)
        try store.set(slice("v"), forKey: slice("far"))
        XCTAssertTrue(try store.expire(slice("far"), afterSeconds: .max))
        XCTAssertNotNil(store.value(forKey: slice("far")))
    }

    /// Entries made stale by SET do not pile up: the queue is compacted, so its memory stays
    /// bounded by the items that have an expiry.
    func testExpiryQueueStaysBoundedWhenExpiriesAreOverwritten() throws {
        let store = Store(maxMemoryBytes: 1 << 20, shardCount: 1)
        try store.set(slice("v"), forKey: slice("k"))
        let base = store.memoryUsed
        for _ in 0..<100_000 {
            XCTAssertTrue(try store.expire(slice("k"), afterSeconds: 1_000))
            try store.set(slice("v"), forKey: slice("k"))
        }
        XCTAssertLessThanOrEqual(store.memoryUsed - base, 64 * 8, "at most a small queue")
    }

    // MARK: memcached's operations

    func testWriteModesAndCompareAndSwap() throws {
        let store = Store(maxMemoryBytes: 1 << 20)
        XCTAssertEqual(try store.store(slice("x"), forKey: slice("k"), mode: .replace), .notStored)
        XCTAssertEqual(try store.store(slice("x"), forKey: slice("k"), mode: .append), .notStored)
        guard case .stored(let first) = try store.store(slice("one"), forKey: slice("k"), flags: 5, mode: .add) else {
            return XCTFail("add to an absent key stores")
        }
        XCTAssertEqual(try store.store(slice("two"), forKey: slice("k"), mode: .add), .notStored)
        XCTAssertEqual(try store.store(slice("two"), forKey: slice("k"), compareCAS: first + 1), .exists)
        XCTAssertEqual(try store.store(slice("two"), forKey: slice("absent"), compareCAS: first), .notFound)
        guard case .stored(let second) = try store.store(slice("two"), forKey: slice("k"), flags: 6, compareCAS: first) else {
            return XCTFail("the right CAS stores")
        }
        XCTAssertNotEqual(first, second)
        _ = try store.store(slice(">"), forKey: slice("k"), flags: 99, mode: .append)
        _ = try store.store(slice("<"), forKey: slice("k"), flags: 99, mode: .prepend)
        XCTAssertEqual(store.entry(forKey: slice("k"))?.value, Array("<two>".utf8))
        XCTAssertEqual(store.entry(forKey: slice("k"))?.flags, 6, "append and prepend keep the flags")
        // Growing by append across size classes, with an expiry that stays.
        XCTAssertTrue(try store.touch(slice("k"), expiry: .afterSeconds(100)))
        let chunk = String(repeating: "a", count: 70)
        var expected = "<two>"
        for _ in 0..<20 {
            _ = try store.store(slice(chunk), forKey: slice("k"), mode: .append)
            expected += chunk
        }
        XCTAssertEqual(store.value(forKey: slice("k")), Array(expected.utf8))
        XCTAssertEqual(store.timeToLive(slice("k")), .seconds(100))
        XCTAssertEqual(store.bytesStored, 1 + expected.utf8.count)
        // A write that expires at once leaves nothing.
        _ = try store.store(slice("gone"), forKey: slice("k"), expiry: .afterSeconds(-1))
        XCTAssertNil(store.value(forKey: slice("k")))
        XCTAssertEqual(store.keyCount, 0)
    }

    func testTouchNeverClearsAndWriteExpirySets() throws {
        let clock = ManualClock()
        let store = Store(maxMemoryBytes: 1 << 20, clock: clock.storeClock)
        _ = try store.store(slice("v"), forKey: slice("k"), expiry: .afterSeconds(10))
        XCTAssertEqual(store.timeToLive(slice("k")), .seconds(10))
        XCTAssertTrue(try store.touch(slice("k"), expiry: .never))
        XCTAssertEqual(store.timeToLive(slice("k")), .never)
        var output: [UInt8] = []
        let info = store.read(slice("k"), into: &output, headerRoom: 8, touching: .afterSeconds(5)) { info, out in
            out.append(contentsOf: Array("H\(info.valueCount);".utf8))
        }
        XCTAssertEqual(info?.secondsLeft, 5)
        XCTAssertEqual(String(decoding: output, as: UTF8.self), "H1;v")
        clock.advance(by: 5)
        XCTAssertNil(store.value(forKey: slice("k")))
    }

    func testUnsignedArithmetic() throws {
        let store = Store(maxMemoryBytes: 1 << 20)
        XCTAssertEqual(try store.adjust(slice("n"), by: 1), .notFound)
        try store.set(slice("18446744073709551615"), forKey: slice("n"), flags: 3)
        guard case .value(0, _) = try store.adjust(slice("n"), by: 1) else { return XCTFail("incr wraps") }
        guard case .value(0, _) = try store.adjust(slice("n"), by: 5, decrement: true) else {
            return XCTFail("decr stops at 0")
        }
        guard case .value(10, let cas) = try store.adjust(slice("n"), by: 10) else { return XCTFail() }
        XCTAssertEqual(try store.adjust(slice("n"), by: 1, compareCAS: cas + 1), .exists)
        XCTAssertEqual(store.entry(forKey: slice("n"))?.flags, 3)
        XCTAssertEqual(store.value(forKey: slice("n")), Array("10".utf8))
        try store.set(slice("-1"), forKey: slice("s"))
        XCTAssertEqual(try store.adjust(slice("s"), by: 1), .notNumeric)
        guard case .value(7, _) = try store.adjust(slice("new"), by: 1, create: (7, .never)) else {
            return XCTFail("created with the initial value")
        }
    }

    func testFlushAllNowAndLater() throws {
        let clock = ManualClock()
        let store = Store(maxMemoryBytes: 1 << 20, shardCount: 2, clock: clock.storeClock)
        for index in 0..<100 { try store.set(slice("v"), forKey: slice("k\(index)")) }
        store.flushAll()
        XCTAssertNil(store.value(forKey: slice("k1")))
        try store.set(slice("after"), forKey: slice("k2"))
        XCTAssertEqual(store.value(forKey: slice("k2")), Array("after".utf8))
        XCTAssertEqual(store.reclaimExpired(limitPerShard: 1_000), 98, "the rest come back from the LRU tails")
        XCTAssertEqual(store.keyCount, 1)
        store.flushAll(afterSeconds: 10)
        XCTAssertNotNil(store.value(forKey: slice("k2")))
        clock.advance(by: 10)
        XCTAssertNil(store.value(forKey: slice("k2")))
        try store.set(slice("v"), forKey: slice("k3"))
        XCTAssertNotNil(store.value(forKey: slice("k3")), "a write after the delay stays")
        // Under .none, a flushed store has room again without waiting for the sweep.
        let full = Store(maxMemoryBytes: Self.pageCost, shardCount: 1)
        for index in 0..<Self.perPage { try full.set(Self.value40, forKey: key(index)) }
        full.flushAll()
        for index in 0..<Self.perPage { try full.set(Self.value40, forKey: key(index + 5_000)) }
        XCTAssertEqual(full.keyCount, Self.perPage)
    }
}
