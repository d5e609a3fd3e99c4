import XCTest

@testable import CarriageLoad

final class BytesTests: XCTestCase {
    func testReadsSlicesAndSearches() {
        let storage = Array("OK PONG\r\nEND\n".utf8)
        storage.withUnsafeBytes { raw in
            let bytes = Bytes(raw)
            XCTAssertEqual(bytes.count, 13)
            XCTAssertEqual(bytes.first, UInt8(ascii: "O"))
            XCTAssertEqual(bytes.firstIndex(of: 10, from: 0), 8)
            XCTAssertEqual(bytes.firstIndex(of: 10, from: 9), 12)
            XCTAssertNil(bytes.firstIndex(of: 10, from: 13))
            XCTAssertNil(bytes.firstIndex(of: UInt8(ascii: "Z"), from: 0))
            let line = bytes[0..<7]
            XCTAssertTrue(line.equals("OK PONG"))
            XCTAssertTrue(line.hasPrefix("OK "))
            XCTAssertFalse(line.hasPrefix("OK PONG!"))
            XCTAssertTrue(line.contains("PON"))
            XCTAssertFalse(line.contains("PONG\r"))
            XCTAssertTrue(line.suffix(from: 3).equals("PONG"))
            XCTAssertTrue(bytes[9..<12].equals(bytes[9..<12]))
            XCTAssertFalse(bytes[0..<2].equals(bytes[9..<11]))
            let empty = bytes[4..<4]
            XCTAssertTrue(empty.isEmpty)
            XCTAssertNil(empty.first)
            XCTAssertTrue(empty.equals(""))
            XCTAssertTrue(empty.equals(bytes[13..<13]))
            XCTAssertNil(empty.firstIndex(of: 10, from: 0))
        }
    }

    func testSamplesArePrintable() {
        Array("a\u{1}b\r\n".utf8).withUnsafeBytes { raw in
            XCTAssertEqual(ReplyLine.sample(Bytes(raw)), "a\\x1b\\r\\n")
            XCTAssertEqual(ReplyLine.sample(Bytes(raw), trimmingTerminator: true), "a\\x1b")
            XCTAssertEqual(ReplyLine.sample(Bytes(raw), limit: 1), "a...")
        }
    }
}
