import CarriageTestSupport
import XCTest

@testable import CarriageStore

final class StoreKeyTests: XCTestCase {
    func testDigestDependsOnTheBytesNotWhereTheyLive() {
        let borrowed = StoreKey(borrowing: slice("key"))
        let other = StoreKey(borrowing: ArraySlice("key".utf8))
        XCTAssertEqual(borrowed.digest, other.digest)
        XCTAssertEqual(Array(borrowed.bytes), Array("key".utf8))
        // An item's digest is recomputed from the bytes in its chunk: it must match.
        let fromChunk = Array("key".utf8).withUnsafeBytes { StoreKey.digest(of: $0) }
        XCTAssertEqual(fromChunk, borrowed.digest)
        XCTAssertNotEqual(StoreKey(borrowing: slice("key")).digest, StoreKey(borrowing: slice("kez")).digest)
        XCTAssertEqual(StoreKey(borrowing: slice("")).digest, StoreKey(borrowing: ArraySlice()).digest)
    }
}
