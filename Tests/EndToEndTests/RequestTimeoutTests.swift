import Foundation
import Glibc
import XCTest

/// `--request-timeout`: a request must arrive whole within that many seconds of its first
/// byte, however slowly the client keeps sending.
final class RequestTimeoutTests: XCTestCase {
    func testATricklingClientIsClosedAndOthersAreNot() throws {
        let daemon = try TestDaemon(["--request-timeout", "1", "--idle-timeout", "0", "--memcached-port", "0"])
        defer { daemon.stopCleanly() }
        let steady = try daemon.connect()
        XCTAssertEqual(try steady.request("PING"), "OK PONG")
        let trickler = try daemon.connect()
        let start = Date()
        // A byte every 300 ms: never silent, never a whole line.
        let stop = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            while stop.wait(timeout: .now() + .milliseconds(300)) == .timedOut {
                if (try? trickler.send("x")) == nil { return }
            }
        }
        XCTAssertTrue(try trickler.isClosedByServer())
        stop.signal()
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThanOrEqual(elapsed, 0.9)
        XCTAssertLessThan(elapsed, 5, "closed \(elapsed) s after its first byte, with a 1 s timeout")
        XCTAssertTrue(daemon.awaitLog(containing: "request timeout"), daemon.stderrText)
        // The silent, complete one stays: the request timeout is not an idle timeout.
        XCTAssertEqual(try steady.request("PING"), "OK PONG")

        // A memcached data block that stops arriving.
        let memcached = try LineClient(port: try XCTUnwrap(daemon.memcachedPort))
        try memcached.send("set k 0 0 10\r\nabc")
        XCTAssertTrue(try memcached.isClosedByServer())
        XCTAssertEqual(try steady.request("GET k"), "NONE")
    }
}
