import XCTest

@testable import CarriageProtocol

final class StoreKeyTests: XCTestCase {
    func testEqualityIgnoresWhereTheBytesLive() {
        let borrowed = StoreKey(borrowing: slice("key"))
        let other = StoreKey(borrowing: ArraySlice("key".utf8))
        XCTAssertEqual(borrowed, other)
        XCTAssertEqual(borrowed.digest, other.digest)
        XCTAssertEqual(borrowed.owned(), borrowed)
        XCTAssertEqual(Array(borrowed.owned().bytes), Array("key".utf8))
        XCTAssertNotEqual(StoreKey(borrowing: slice("key")), StoreKey(borrowing: slice("kez")))
        XCTAssertNotEqual(StoreKey(borrowing: slice("key")), StoreKey(borrowing: slice("keys")))
        XCTAssertEqual(StoreKey(borrowing: slice("")), StoreKey(borrowing: ArraySlice()))
    }

    func testOwnedKeyDoesNotKeepTheLineAlive() {
        let line = Array(repeating: UInt8(ascii: "x"), count: 10_000)
        let owned = StoreKey(borrowing: line[10..<20]).owned()
        XCTAssertEqual(owned.bytes.startIndex, 0)
        XCTAssertEqual(owned.bytes.count, 10)
        owned.bytes.withUnsafeBufferPointer { ownedBuffer in
            line.withUnsafeBufferPointer { lineBuffer in
                XCTAssertNotEqual(ownedBuffer.baseAddress, lineBuffer.baseAddress.map { $0 + 10 })
            }
        }
    }
}
