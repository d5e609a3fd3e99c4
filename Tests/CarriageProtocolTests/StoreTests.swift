import XCTest

@testable import CarriageProtocol

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

    func testMemoryBoundExactly() throws {
        let store = Store(maxMemoryBytes: 10)
        try store.set(slice("1234567"), forKey: slice("abc"))  // exactly 10: allowed
        XCTAssertEqual(store.bytesStored, 10)
        XCTAssertThrowsError(try store.set(slice(""), forKey: slice("d"))) {
            XCTAssertEqual($0 as? StoreError, .outOfMemory)
        }
        XCTAssertThrowsError(try store.set(slice("12345678"), forKey: slice("abc"))) {
            XCTAssertEqual($0 as? StoreError, .outOfMemory)
        }
        XCTAssertEqual(value(store, "abc"), "1234567", "a refused SET stores nothing")
        XCTAssertNil(value(store, "d"))
        XCTAssertEqual(store.keyCount, 1)
        XCTAssertEqual(store.bytesStored, 10)
        // Replacing counts only the difference.
        try store.set(slice("7654321"), forKey: slice("abc"))
        XCTAssertEqual(value(store, "abc"), "7654321")
        try store.set(slice("123456"), forKey: slice("abc"))
        XCTAssertEqual(store.bytesStored, 9)
        try store.set(slice(""), forKey: slice("d"))  // 9 + 1 = 10
        XCTAssertEqual(store.bytesStored, 10)
        XCTAssertEqual(store.keyCount, 2)
        XCTAssertTrue(store.removeValue(forKey: slice("abc")))
        try store.set(slice("12345678"), forKey: slice("e"))  // 1 + 1 + 8 = 10
        XCTAssertEqual(store.bytesStored, 10)
    }

    func testIncrementRespectsTheMemoryBound() throws {
        let store = Store(maxMemoryBytes: 2)
        XCTAssertEqual(try store.increment(slice("k"), by: 9), 9)  // 1 + 1
        XCTAssertThrowsError(try store.increment(slice("k"), by: 1)) {  // "10" would be 1 + 2
            XCTAssertEqual($0 as? StoreError, .outOfMemory)
        }
        XCTAssertEqual(value(store, "k"), "9")
        XCTAssertEqual(try store.decrement(slice("k"), by: 1), 8)
        XCTAssertThrowsError(try store.increment(slice("j"), by: 1)) {
            XCTAssertEqual($0 as? StoreError, .outOfMemory)
        }
        XCTAssertEqual(store.keyCount, 1)
        XCTAssertEqual(store.bytesStored, 2)
    }

    func testZeroAndDegenerateConfiguration() throws {
        let store = Store(maxMemoryBytes: -5, shardCount: 0)
        XCTAssertEqual(store.maxMemoryBytes, 0)
        XCTAssertThrowsError(try store.set(slice(""), forKey: slice("k")))
        XCTAssertEqual(store.bytesStored, 0)
        let single = Store(maxMemoryBytes: 100, shardCount: 1)
        for index in 0..<10 { try single.set(slice("v"), forKey: slice("k\(index)")) }
        XCTAssertEqual(single.keyCount, 10)
        XCTAssertEqual(single.bytesStored, 30)
    }

    func testConcurrentSetAndDeleteOfDistinctKeysKeepCountsExact() {
        let store = Store(maxMemoryBytes: 1 << 30, shardCount: 4)
        let threads = 16
        let keysPerThread = 300
        runOnThreads(threads) { thread in
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
        }
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

    func testConcurrentSetsNeverPassTheMemoryBound() {
        // Every entry is 10 bytes, so exactly 100 of the 1600 distinct keys fit.
        let store = Store(maxMemoryBytes: 1000, shardCount: 8)
        let stored = SharedCounter()
        let refused = SharedCounter()
        runOnThreads(16) { thread in
            for index in 0..<100 {
                let key = "k\(thread * 100 + index + 10_000)"  // 6 bytes
                do throws(StoreError) {
                    try store.set(slice("vvvv"), forKey: slice(key))
                    stored.add(1)
                } catch {
                    XCTAssertEqual(error, .outOfMemory)
                    refused.add(1)
                }
            }
        }
        XCTAssertEqual(stored.value, 100)
        XCTAssertEqual(refused.value, 1500)
        XCTAssertEqual(store.keyCount, 100)
        XCTAssertEqual(store.bytesStored, 1000)
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
        XCTAssertTrue(store.expire(slice("bin"), afterSeconds: 50))
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
        XCTAssertFalse(store.expire(slice("absent"), afterSeconds: 5))
        XCTAssertNil(store.timeToLive(slice("absent")))
        try store.set(slice("value"), forKey: slice("k"))
        XCTAssertEqual(store.timeToLive(slice("k")), .never)
        XCTAssertTrue(store.expire(slice("k"), afterSeconds: 3))
        XCTAssertEqual(store.timeToLive(slice("k")), .seconds(3))
        clock.advance(by: 2)
        XCTAssertEqual(store.entry(forKey: slice("k"))?.secondsLeft, 1)
        clock.advance(by: 1)
        XCTAssertNil(store.value(forKey: slice("k")))
        XCTAssertEqual(store.keyCount, 0, "found expired: removed at once")
        XCTAssertEqual(store.bytesStored, 0)
        XCTAssertFalse(store.removeValue(forKey: slice("k")))
        XCTAssertEqual(store.statistics, Store.Statistics(hits: 1, misses: 1, expired: 1))

        // An expired counter counts as absent: INCR starts again from 0, without expiry.
        XCTAssertEqual(try store.increment(slice("n"), by: 5), 5)
        XCTAssertTrue(store.expire(slice("n"), afterSeconds: 1))
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
            XCTAssertTrue(store.expire(slice("k\(i)"), afterSeconds: 10))
        }
        try store.set(slice("kept"), forKey: slice("k0"))  // SET clears the expiry
        XCTAssertTrue(store.expire(slice("k1"), afterSeconds: 1000))  // a later expiry
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
        runOnThreads(4) { thread in
            for i in 0..<2_000 {
                let key = slice("t\(thread)-\(i % 100)")
                try? store.set(slice("x"), forKey: key)
                _ = store.expire(key, afterSeconds: Int64(i % 3))  // 0 expires at once
                if i % 50 == 0 { _ = store.reclaimExpired(limitPerShard: 8) }
            }
        }
        clock.advance(by: 5)
        XCTAssertNil(store.value(forKey: slice("t0-1")))
        while store.reclaimExpired(limitPerShard: 1000) > 0 {}
        XCTAssertEqual(store.keyCount, 0)
        XCTAssertEqual(store.bytesStored, 0)
    }
}
