import XCTest

@testable import CarriageLoad

final class RedisReplyParserTests: XCTestCase {
    func testSimpleAndIntegerReplies() throws {
        let ping = try ParserHarness("PING", wire: .redis)
        XCTAssertEqual(ping.rendered(), "PING\r\n")
        XCTAssertEqual(ping.outcome("+PONG\r\n"), .ok)
        XCTAssertEqual(ping.outcome("+PING\r\n"), .wrong)
        let incr = try ParserHarness("INCR hot", wire: .redis)
        XCTAssertEqual(incr.outcome(":-42\r\n"), .ok)
        XCTAssertEqual(incr.outcome(":x\r\n"), .wrong)
        XCTAssertEqual(try ParserHarness("SET %k %v", wire: .redis).outcome("+OK\r\n"), .ok)
    }

    func testBulkStrings() throws {
        let echo = try ParserHarness("ECHO %k", wire: .redis)
        XCTAssertEqual(echo.outcome("$5\r\nkey:0\r\n"), .ok)
        XCTAssertEqual(echo.outcome("$5\r\nkey:1\r\n"), .wrong)
        XCTAssertEqual(echo.outcome("$-1\r\n"), .wrong)
        let get = try ParserHarness("GET %k", wire: .redis)
        XCTAssertEqual(get.outcome("$-1\r\n"), .ok)
        XCTAssertEqual(get.outcome("$4\r\na\r\nb\r\n"), .ok)
        XCTAssertNil(get.parse("$4\r\na\r"))
        // Malformed (no CR LF after the one byte): wrong, and only its first line is skipped.
        let malformed = try XCTUnwrap(get.parse("$1\r\nab\r\n"))
        XCTAssertEqual(malformed.outcome, .wrong)
        XCTAssertEqual(malformed.length, 4)
    }

    func testArraysNestAndWaitWhenPartial() throws {
        let any = try ParserHarness("LRANGE l 0 -1", wire: .redis)
        XCTAssertEqual(any.outcome("*2\r\n$1\r\na\r\n*1\r\n:1\r\n"), .ok)
        XCTAssertEqual(any.outcome("*-1\r\n"), .ok)
        XCTAssertNil(any.parse("*2\r\n$1\r\na\r\n"))
        XCTAssertEqual(any.outcome("!bad\r\n"), .wrong)
    }

    func testErrorsAndBusy() throws {
        let incr = try ParserHarness("INCR k", wire: .redis)
        XCTAssertEqual(incr.outcome("-ERR value is not an integer or out of range\r\n"), .error)
        XCTAssertEqual(incr.outcome("-ERR max number of clients reached\r\n"), .busy)
        // An unknown command is not refused at start (Redis has hundreds), but its error
        // counts: a typo cannot pass as a success.
        XCTAssertEqual(try ParserHarness("FOO", wire: .redis).outcome("-ERR unknown command 'FOO'\r\n"), .error)
        XCTAssertEqual(try ParserHarness("!FOO", wire: .redis).outcome("-ERR unknown command 'FOO'\r\n"), .ok)
        XCTAssertNotNil(refusal("QUIT", wire: .redis))
        XCTAssertNotNil(refusal("GET", wire: .redis))
    }

    /// With values checked (the mix writes `%v`), a read must return exactly that value.
    func testValuesAreChecked() throws {
        let checked = try ParserHarness("GET %k", wire: .redis, checkedValue: "abc")
        XCTAssertEqual(checked.outcome("$3\r\nabc\r\n"), .ok)
        XCTAssertEqual(checked.outcome("$4\r\nabcd\r\n"), .wrong)
        XCTAssertEqual(checked.outcome("$-1\r\n"), .ok)
        let unchecked = try ParserHarness("GET %k", wire: .redis)
        XCTAssertEqual(unchecked.outcome("$4\r\nabcd\r\n"), .ok)
    }
}
