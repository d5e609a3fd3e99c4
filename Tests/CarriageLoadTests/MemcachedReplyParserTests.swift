import XCTest

@testable import CarriageLoad

final class MemcachedReplyParserTests: XCTestCase {
    func testValueBlocksThenEnd() throws {
        let get = try ParserHarness("get %k", wire: .memcached)
        XCTAssertEqual(get.rendered(), "get key:0\r\n")
        XCTAssertEqual(get.outcome("END\r\n"), .ok)
        XCTAssertEqual(get.outcome("VALUE key:0 0 3\r\nabc\r\nEND\r\n"), .ok)
        XCTAssertEqual(get.outcome("VALUE key:0 5 3 99\r\nabc\r\nVALUE b 0 0\r\n\r\nEND\r\n"), .ok)
        // The data block may hold CR LF and anything else: its length says where it ends.
        XCTAssertEqual(get.outcome("VALUE key:0 0 4\r\n\r\n\r\n\r\nEND\r\n"), .ok)
    }

    func testPartialValuesWait() throws {
        let get = try ParserHarness("gets %k", wire: .memcached)
        XCTAssertNil(get.parse("VALUE key:0 0 3"))
        XCTAssertNil(get.parse("VALUE key:0 0 3\r\nab"))
        XCTAssertNil(get.parse("VALUE key:0 0 3\r\nabc\r\n"))
        XCTAssertNil(get.parse("VALUE key:0 0 3\r\nabc\r\nEN"))
    }

    func testMalformedValues() throws {
        let get = try ParserHarness("get %k", wire: .memcached)
        // The data block is not followed by CR LF where its length says.
        let overrun = try XCTUnwrap(get.parse("VALUE key:0 0 2\r\nabc\r\nEND\r\n"))
        XCTAssertEqual(overrun.outcome, .wrong)
        XCTAssertEqual(get.outcome("VALUE key:0 0 x\r\n"), .wrong)
        XCTAssertEqual(get.outcome("STORED\r\n"), .wrong)
    }

    func testStorageCountersAndOthers() throws {
        let set = try ParserHarness("set %k 0 0 %n\\r\\n%v", wire: .memcached)
        XCTAssertEqual(set.rendered(), "set key:0 0 0 3\r\nabc\r\n")
        XCTAssertEqual(set.outcome("STORED\r\n"), .ok)
        XCTAssertEqual(set.outcome("NOT_STORED\r\n"), .wrong)
        XCTAssertEqual(try ParserHarness("add k 0 0 1\\r\\nx", wire: .memcached).outcome("NOT_STORED\r\n"), .ok)
        let incr = try ParserHarness("incr n 1", wire: .memcached)
        XCTAssertEqual(incr.outcome("18446744073709551615\r\n"), .ok)
        XCTAssertEqual(incr.outcome("NOT_FOUND\r\n"), .ok)
        XCTAssertEqual(incr.outcome("-1\r\n"), .wrong)
        XCTAssertEqual(try ParserHarness("version", wire: .memcached).outcome("VERSION 1.6.18\r\n"), .ok)
        XCTAssertEqual(try ParserHarness("delete k", wire: .memcached).outcome("DELETED\r\n"), .ok)
        XCTAssertEqual(try ParserHarness("touch k 10", wire: .memcached).outcome("TOUCHED\r\n"), .ok)
    }

    func testErrorsAndBusy() throws {
        let incr = try ParserHarness("incr n 1", wire: .memcached)
        XCTAssertEqual(incr.outcome("CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"), .error)
        XCTAssertEqual(incr.outcome("SERVER_ERROR out of memory\r\n"), .error)
        XCTAssertEqual(incr.outcome("ERROR\r\n"), .error)
        XCTAssertEqual(incr.outcome("ERROR Too many open connections\r\n"), .busy)
        let marked = try ParserHarness("!incr n 1", wire: .memcached)
        XCTAssertEqual(marked.outcome("CLIENT_ERROR bad\r\n"), .ok)
        XCTAssertEqual(marked.outcome("5\r\n"), .wrong)
    }

    func testRequestsItCannotDriveAreRefused() {
        XCTAssertNotNil(refusal("set k 0 0 3 noreply\\r\\nabc", wire: .memcached))
        XCTAssertNotNil(refusal("set k 0 0 5\\r\\nabc", wire: .memcached))  // length mismatch
        XCTAssertNotNil(refusal("set k 0 0 3", wire: .memcached))  // no data block
        XCTAssertNotNil(refusal("get", wire: .memcached))
        let unknown = refusal("stats detail", wire: .memcached) ?? ""
        XCTAssertTrue(unknown.contains("unsupported memcached command"), unknown)
        XCTAssertNil(refusal("!bogus", wire: .memcached))
    }

    /// With values checked (the mix writes `%v`), a read must return exactly that value.
    func testValuesAreChecked() throws {
        let checked = try ParserHarness("get %k", wire: .memcached, checkedValue: "abc")
        XCTAssertEqual(checked.outcome("VALUE key:0 0 3\r\nabc\r\nEND\r\n"), .ok)
        XCTAssertEqual(checked.outcome("VALUE key:0 0 3\r\nabd\r\nVALUE key:0 0 3\r\nabc\r\nEND\r\n"), .wrong)
        XCTAssertEqual(checked.outcome("END\r\n"), .ok)
        let unchecked = try ParserHarness("get %k", wire: .memcached)
        XCTAssertEqual(unchecked.outcome("VALUE key:0 0 3\r\nabd\r\nVALUE key:0 0 3\r\nabc\r\nEND\r\n"), .ok)
    }
}
