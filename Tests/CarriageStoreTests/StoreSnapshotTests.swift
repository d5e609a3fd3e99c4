import Foundation
import XCTest

import CarriageTestSupport
@testable import CarriageStore

/// `Store.exportSnapshot` and `Store.restore`: what goes out comes back as it was.
final class StoreSnapshotTests: XCTestCase {
    private let unixNow = 1_800_000_000

    /// Every record of a whole export, in order, and the largest slice one call appended.
    private func export(_ store: Store) -> (records: [SnapshotRecord], largestSlice: Int) {
        var cursor = Store.SnapshotCursor()
        var buffer: [UInt8] = []
        buffer.reserveCapacity(Store.snapshotSliceBytes)
        var all: [UInt8] = []
        var largest = 0
        while true {
            buffer.removeAll(keepingCapacity: true)
            guard store.exportSnapshot(from: &cursor, into: &buffer, unixNow: unixNow) != nil else { break }
            largest = max(largest, buffer.count)
            all += buffer
        }
        var records: [SnapshotRecord] = []
        var rest = all[...]
        while !rest.isEmpty {
            guard case .record(let record, let consumed) = SnapshotRecord.decode(rest) else {
                XCTFail("an export does not decode")
                break
            }
            records.append(record)
            rest = rest.dropFirst(consumed)
        }
        return (records, largest)
    }

    func testEverythingComesBackAsItWas() throws {
        let clock = ManualClock()
        let store = Store(maxMemoryBytes: 64 << 20, clock: clock.storeClock)
        for i in 0..<20_000 {
            let value = String(repeating: "v", count: i % 300)
            try store.store(slice(value), forKey: slice("key:\(i)"), flags: UInt32(i),
                            expiry: i % 3 == 0 ? .afterSeconds(Int64(100 + i)) : .never)
        }
        _ = try store.delete(slice("key:7"), invalidate: true)  // stale mark, new CAS
        let (records, _) = export(store)
        XCTAssertEqual(records.count, 20_000)

        // Another process, another clock origin: expiries are kept in unix time.
        let laterClock = ManualClock()
        laterClock.advance(by: 5_000)
        let restored = Store(maxMemoryBytes: 64 << 20, clock: laterClock.storeClock)
        var maxCAS: UInt64 = 0
        for record in records {
            XCTAssertTrue(try restored.restore(record, unixNow: unixNow + 10))
            maxCAS = max(maxCAS, record.cas)
        }
        restored.finishRestore(maxCAS: maxCAS)
        for i in 0..<20_000 {
            let before = try XCTUnwrap(store.entry(forKey: slice("key:\(i)")))
            let after = try XCTUnwrap(restored.entry(forKey: slice("key:\(i)")))
            XCTAssertEqual(after.value, before.value)
            XCTAssertEqual(after.flags, before.flags)
            XCTAssertEqual(after.cas, before.cas)
            // 10 seconds passed between the export and the restore.
            XCTAssertEqual(after.secondsLeft, before.secondsLeft.map { $0 - 10 }, "key:\(i)")
        }
        XCTAssertEqual(restored.keyCount, 20_000)
        // New writes get CAS uniques above every restored one.
        guard case .stored(let cas) = try restored.store(slice("x"), forKey: slice("key:1")) else {
            return XCTFail("not stored")
        }
        XCTAssertGreaterThan(cas, maxCAS)
    }

    func testExpiredAndFlushedItemsAreLeftOut() throws {
        let clock = ManualClock()
        let store = Store(maxMemoryBytes: 8 << 20, clock: clock.storeClock)
        try store.store(slice("a"), forKey: slice("soon"), expiry: .afterSeconds(5))
        try store.store(slice("b"), forKey: slice("later"), expiry: .afterSeconds(50))
        clock.advance(by: 10)
        XCTAssertEqual(export(store).records.map { Array($0.key) }, [Array("later".utf8)])
        store.flushAll()
        try store.set(slice("c"), forKey: slice("after"))
        XCTAssertEqual(export(store).records.map { Array($0.key) }, [Array("after".utf8)])
    }

    func testAnItemExpiredByTheTimeOfTheRestoreIsSkipped() throws {
        let store = Store(maxMemoryBytes: 8 << 20)
        let record = SnapshotRecord(key: slice("k"), value: slice("v"), unixExpiry: Int64(unixNow - 1), cas: 9)
        XCTAssertFalse(try store.restore(record, unixNow: unixNow))
        XCTAssertNil(store.value(forKey: slice("k")))
    }

    /// A slice holds one shard's lock: it adds about `snapshotSliceBytes`, or one bucket's
    /// items when they are more.
    func testSlicesAreBounded() throws {
        let store = Store(maxMemoryBytes: 256 << 20, shardCount: 1)
        let big = [UInt8](repeating: 7, count: 300_000)
        for i in 0..<50 { try store.set(slice(big), forKey: slice("big:\(i)")) }
        for i in 0..<50_000 { try store.set(slice("small"), forKey: slice("small:\(i)")) }
        let (records, largest) = export(store)
        XCTAssertEqual(records.count, 50_050)
        XCTAssertLessThanOrEqual(largest, Store.snapshotSliceBytes + 2 * (big.count + 64), "largest slice \(largest)")
    }

    /// Writers go on during an export, and the index doubles under it: every item that was
    /// there before and untouched is exported.
    func testItemsUntouchedDuringAnExportAreInIt() throws {
        let store = Store(maxMemoryBytes: 128 << 20, shardCount: 2)
        for i in 0..<5_000 { try store.set(slice("stay"), forKey: slice("stay:\(i)")) }
        let writer = DispatchSemaphore(value: 0)
        let stop = SharedCounter()
        Thread.detachNewThread {
            var i = 0
            while stop.value == 0 {
                try? store.set(slice("new"), forKey: slice("new:\(i)"))
                i += 1
            }
            writer.signal()
        }
        let (records, _) = export(store)
        stop.add(1)
        writer.wait()
        let keys = Set(records.map { String(decoding: $0.key, as: UTF8.self) })
        for i in 0..<5_000 { XCTAssertTrue(keys.contains("stay:\(i)"), "stay:\(i) missing") }
    }

    func testRecordsDecodeOrSayWhatIsWrong() {
        var bytes: [UInt8] = []
        let record = SnapshotRecord(key: slice("key"), value: slice("value"), flags: 42, marks: .stale, unixExpiry: 123, cas: 77)
        record.encode(to: &bytes)
        XCTAssertEqual(bytes.count, SnapshotRecord.headerSize + 8)
        XCTAssertEqual(SnapshotRecord.decode(bytes[...]), .record(record, consumed: bytes.count))
        XCTAssertEqual(SnapshotRecord.decode(bytes.dropLast()), .needs(bytes.count))
        XCTAssertEqual(SnapshotRecord.decode(bytes.prefix(3)), .needs(SnapshotRecord.headerSize))
        var emptyKey = bytes
        emptyKey[0] = 0
        XCTAssertEqual(SnapshotRecord.decode(emptyKey[...]), .invalid("an empty key"))
        var huge = bytes
        huge[25] = 0x80
        XCTAssertEqual(SnapshotRecord.decode(huge[...]), .invalid("a value of \(0x8000_0005) bytes"))
    }
}
