import XCTest

@testable import CarriageStore

final class ExpiryQueueTests: XCTestCase {
    func testSoonestFirstAndCompaction() {
        var queue = ExpiryQueue()
        var random = SystemRandomNumberGenerator()
        let expiries = (0..<1_000).map { _ in UInt32.random(in: 1...500, using: &random) }
        for (index, expiry) in expiries.enumerated() {
            queue.insert(.init(expiry: expiry, chunk: ChunkID(raw: UInt32(index))))
        }
        // Drop the odd chunks, as a compaction drops stale entries; the order must hold.
        queue.removeAll { $0.chunk.raw % 2 == 1 }
        XCTAssertEqual(queue.count, 500)
        var popped: [UInt32] = []
        while queue.first != nil { popped.append(queue.removeFirst().expiry) }
        let expected = expiries.enumerated().filter { $0.offset % 2 == 0 }.map(\.element).sorted()
        XCTAssertEqual(popped, expected)
    }
}
