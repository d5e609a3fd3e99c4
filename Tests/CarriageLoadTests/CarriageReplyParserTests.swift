import XCTest

@testable import CarriageLoad

final class CarriageReplyParserTests: XCTestCase {
    /// The case: the server answers `CAP ΟΔΟΣ` with a final sigma, and the tool
    /// agrees, because it asks the server's own code.
    func testCapUsesTheServersCapitalization() throws {
        let cap = try ParserHarness("CAP ΟΔΟΣ")
        XCTAssertEqual(cap.outcome("OK Οδος\n"), .ok)
        XCTAssertEqual(cap.outcome("OK Οδοσ\n"), .wrong)
        XCTAssertEqual(try ParserHarness("CAP hELLO wORLD").outcome("OK Hello world\n"), .ok)
        // A keyed text is checked by its status word only.
        let keyed = try ParserHarness("CAP %k")
        XCTAssertEqual(keyed.outcome("OK Key:0\n"), .ok)
        XCTAssertEqual(keyed.outcome("NONE\n"), .wrong)
    }

    func testExactLinesFromTheServersCode() throws {
        XCTAssertEqual(try ParserHarness("PING").outcome("OK PONG\n"), .ok)
        XCTAssertEqual(try ParserHarness("ping").outcome("OK PONG\n"), .ok)
        XCTAssertEqual(try ParserHarness("PING").outcome("OK PING\n"), .wrong)
        XCTAssertEqual(try ParserHarness("SET %k %v").outcome("OK\n"), .ok)
        XCTAssertEqual(try ParserHarness("SLEEP 0").outcome("OK\n"), .ok)
        let echo = try ParserHarness("ECHO <%k>  two")
        XCTAssertEqual(echo.rendered(), "ECHO <key:0>  two\n")
        XCTAssertEqual(echo.outcome("OK <key:0>  two\n"), .ok)
        XCTAssertEqual(echo.outcome("OK <key:1>  two\n"), .wrong)
        // ECHO of nothing: the server writes `OK ` and the empty text.
        XCTAssertEqual(try ParserHarness("ECHO").outcome("OK \n"), .ok)
        XCTAssertEqual(try ParserHarness("ECHO").outcome("OK\n"), .wrong)
    }

    func testShapes() throws {
        let get = try ParserHarness("GET %k")
        XCTAssertEqual(get.outcome("OK value with spaces\n"), .ok)
        XCTAssertEqual(get.outcome("NONE\n"), .ok)
        XCTAssertEqual(get.outcome("OKAY\n"), .wrong)
        let incr = try ParserHarness("INCR hot 5")
        XCTAssertEqual(incr.outcome("OK -12\n"), .ok)
        XCTAssertEqual(incr.outcome("OK 1x\n"), .wrong)
        XCTAssertEqual(incr.outcome("OK \n"), .wrong)
        XCTAssertEqual(incr.outcome("OK\n"), .wrong)
        let del = try ParserHarness("DEL %k")
        XCTAssertEqual(del.outcome("OK 1\n"), .ok)
        XCTAssertEqual(del.outcome("OK 0\n"), .ok)
        XCTAssertEqual(del.outcome("OK 2\n"), .wrong)
        XCTAssertEqual(try ParserHarness("THREAD").outcome("OK worker-0 12\n"), .ok)
        let ttl = try ParserHarness("TTL %k")
        XCTAssertEqual(ttl.outcome("OK 30\n"), .ok)
        XCTAssertEqual(ttl.outcome("OK -1\n"), .ok)
        XCTAssertEqual(ttl.outcome("NONE\n"), .ok)
        XCTAssertEqual(ttl.outcome("OK\n"), .wrong)
        let expire = try ParserHarness("EXPIRE %k 10")
        XCTAssertEqual(expire.outcome("OK 1\n"), .ok)
        XCTAssertEqual(expire.outcome("OK 0\n"), .ok)
        XCTAssertNotNil(refusal("EXPIRE %k soon"))
    }

    func testErrorAndBusyRepliesAreNotSuccesses() throws {
        let incr = try ParserHarness("INCR t")
        XCTAssertEqual(incr.outcome("ERR value is not an integer\n"), .error)
        XCTAssertEqual(incr.outcome("BUSY too many connections\n"), .busy)
        let set = try ParserHarness("SET k v")
        XCTAssertEqual(set.outcome("ERR out of memory\n"), .error)
    }

    /// A request the protocol refuses is refused at start, unless it is marked `!`; then
    /// the exact error is its right reply.
    func testUnknownRequestsAreRefusedUnlessMarked() throws {
        let typo = try XCTUnwrap(refusal("FOO bar"))
        XCTAssertTrue(typo.contains("ERR unknown command"), typo)
        XCTAssertTrue(typo.contains("!"), typo)
        XCTAssertNotNil(refusal("SLEEP 60001"))
        XCTAssertNil(refusal("SLEEP 60000"))
        XCTAssertNotNil(refusal("GET"))
        XCTAssertNotNil(refusal("QUIT"))
        XCTAssertNotNil(refusal("PING x"))
        XCTAssertNotNil(refusal("ECHO a\\nb"))

        let marked = try ParserHarness("!FOO bar")
        XCTAssertEqual(marked.outcome("ERR unknown command\n"), .ok)
        XCTAssertEqual(marked.outcome("ERR usage: FOO\n"), .error)
        let usage = try ParserHarness("!INCR")
        XCTAssertEqual(usage.outcome("ERR usage: INCR <key> [<delta>]\n"), .ok)
        // Valid but meant to fail at run time: any ERR is right, a success is not.
        let runtime = try ParserHarness("!INCR text")
        XCTAssertEqual(runtime.outcome("ERR value is not an integer\n"), .ok)
        XCTAssertEqual(runtime.outcome("OK 1\n"), .wrong)
    }

    func testPartialRepliesWaitAndPipelinedRepliesSplit() throws {
        let ping = try ParserHarness("PING")
        XCTAssertNil(ping.parse(""))
        XCTAssertNil(ping.parse("OK PO"))
        let two = try XCTUnwrap(ping.parse("OK PONG\nOK PONG\n"))
        XCTAssertEqual(two.length, 8)
        XCTAssertEqual(two.outcome, .ok)
        // A CR before the LF is not part of the line.
        XCTAssertEqual(ping.outcome("OK PONG\r\n"), .ok)
    }

    func testStatsIsSeveralLinesEndingInEnd() throws {
        let stats = try ParserHarness("STATS")
        XCTAssertNil(stats.parse("STAT pid 1\nSTAT keys 0\n"))
        XCTAssertNil(stats.parse("STAT pid 1\nEN"))
        XCTAssertEqual(stats.outcome("STAT pid 1\nSTAT keys 0\nEND\n"), .ok)
        XCTAssertEqual(stats.outcome("END\n"), .ok)
        let broken = try XCTUnwrap(stats.parse("STAT pid 1\nbogus\nEND\n"))
        XCTAssertEqual(broken.outcome, .wrong)
        XCTAssertEqual(broken.length, "STAT pid 1\nbogus\n".utf8.count)
    }

    /// With values checked (the mix writes `%v`), a read must return exactly that value.
    func testValuesAreChecked() throws {
        let checked = try ParserHarness("GET %k", wire: .carriage, checkedValue: "abc")
        XCTAssertEqual(checked.outcome("OK abc\n"), .ok)
        XCTAssertEqual(checked.outcome("OK abd\n"), .wrong)
        XCTAssertEqual(checked.outcome("NONE\n"), .ok)
        let unchecked = try ParserHarness("GET %k", wire: .carriage)
        XCTAssertEqual(unchecked.outcome("OK abd\n"), .ok)
    }
}
