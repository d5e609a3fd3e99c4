import CarriagePosix
import Foundation
import Glibc
import XCTest

/// The `carriage-load` executable against a real `carriaged`: counts, JSON keys, error
/// kinds and exit statuses that scripts (bench.sh) rely on.
final class LoadToolTests: XCTestCase {
    override func setUp() {
        OpenFileLimit.raise()
    }

    func testRequestCountRunVerifiesEveryReplyAndPrintsJSON() throws {
        let daemon = try TestDaemon()
        let run = try LoadToolRun(["--port", "\(daemon.port)", "--requests", "2000", "--connections", "20",
                                   "--pipeline", "4", "--request", "PING", "--request", "ECHO hi", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let json = try run.json()
        XCTAssertEqual(json["requests"] as? Int, 2000, run.stdout)
        XCTAssertEqual(json["errors"] as? Int, 0, run.stdout)
        XCTAssertNotNil(json["requests_per_second"] as? Double, run.stdout)
        XCTAssertNotNil(json["cpu_seconds"] as? Double, run.stdout)
        let latency = try XCTUnwrap(json["latency_us"] as? [String: Any], run.stdout)
        for key in ["p50", "p90", "p99", "p999", "max"] {
            XCTAssertNotNil(latency[key] as? Double, "latency_us.\(key) in \(run.stdout)")
        }
        let kinds = try XCTUnwrap(json["errors_by_kind"] as? [String: Int], run.stdout)
        XCTAssertEqual(Set(kinds.keys), ["connect_failed", "reset", "closed", "timeout", "wrong_reply", "error_reply", "busy"])
        let stats = try daemon.connect().stats()
        XCTAssertGreaterThanOrEqual(stats["requests_total"] ?? 0, 2000)
        daemon.stopCleanly()
    }

    func testKeyedMixConnectPerRequestAndIdleConnections() throws {
        let daemon = try TestDaemon()
        let mix = try LoadToolRun(["--port", "\(daemon.port)", "--requests", "3000", "--connections", "8", "--threads", "2",
                                   "--pipeline", "8", "--keys", "50", "--request", "60:GET %k", "--request", "20:SET %k %v",
                                   "--request", "10:INCR hot", "--request", "5:ECHO %k and more", "--request", "5:CAP hELLO",
                                   "--json"])
        XCTAssertEqual(mix.status, 0, mix.stderr)
        XCTAssertEqual(try mix.json()["requests"] as? Int, 3000, mix.stdout)

        let perRequest = try LoadToolRun(["--port", "\(daemon.port)", "--requests", "300", "--connections", "4",
                                          "--connect-per-request", "--json"])
        XCTAssertEqual(perRequest.status, 0, perRequest.stderr)
        let perRequestJSON = try perRequest.json()
        XCTAssertEqual(perRequestJSON["requests"] as? Int, 300, perRequest.stdout)
        XCTAssertGreaterThanOrEqual(perRequestJSON["connects"] as? Int ?? 0, 300, perRequest.stdout)

        let idle = try LoadToolRun(["--port", "\(daemon.port)", "--requests", "500", "--connections", "4",
                                    "--idle", "200", "--json"])
        XCTAssertEqual(idle.status, 0, idle.stderr)
        XCTAssertEqual(try idle.json()["idle_open"] as? Int, 200, idle.stdout)
        daemon.stopCleanly()
    }

    func testAClosedPortCountsConnectFailuresAndExitsNonZero() throws {
        let port = try unusedLoopbackPort()
        let run = try LoadToolRun(["--port", "\(port)", "--requests", "100", "--connections", "4", "--json"])
        XCTAssertNotEqual(run.status, 0)
        let json = try run.json()
        let kinds = try XCTUnwrap(json["errors_by_kind"] as? [String: Int], run.stdout)
        XCTAssertGreaterThan(kinds["connect_failed"] ?? 0, 0, run.stdout)
        XCTAssertEqual(json["requests"] as? Int, 0)
        XCTAssertTrue(run.stderr.contains("cannot connect to 127.0.0.1:\(port)"), run.stderr)
    }

    func testWrongRepliesAreCountedNotHidden() throws {
        let daemon = try TestDaemon()
        // Redis's PING expects +PONG; carriaged answers OK PONG: every reply is wrong.
        let run = try LoadToolRun(["--port", "\(daemon.port)", "--protocol", "redis", "--requests", "50",
                                   "--connections", "2", "--json"])
        XCTAssertEqual(run.status, 1, run.stderr)
        let kinds = try XCTUnwrap(try run.json()["errors_by_kind"] as? [String: Int], run.stdout)
        XCTAssertEqual(kinds["wrong_reply"], 50, run.stdout)
        XCTAssertTrue(run.stderr.contains("wrong reply to 'PING': 'OK PONG'"), run.stderr)
        daemon.stopCleanly()
    }

    /// The tool and the server share the protocol's code: the server's CAP of a Greek
    /// word (final sigma) is the reply the tool expects.
    func testCapOfGreekAgreesWithTheServer() throws {
        let daemon = try TestDaemon()
        let run = try LoadToolRun(["--port", "\(daemon.port)", "--requests", "200", "--connections", "2",
                                   "--request", "CAP ΟΔΟΣ", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try run.json()["requests"] as? Int, 200, run.stdout)
        daemon.stopCleanly()
    }

    /// A typo is refused at start; an error reply counts, unless the request is marked
    /// as meant to fail.
    func testErrorRepliesCountUnlessTheRequestIsMeantToFail() throws {
        let typo = try LoadToolRun(["--request", "FOO bar"])
        XCTAssertEqual(typo.status, 64)
        XCTAssertEqual(typo.stderr, "carriage-load: --request 'FOO bar': the server refuses it with `ERR unknown command` (start the line with ! if that error is what you mean to measure)\n")

        let daemon = try TestDaemon()
        XCTAssertEqual(try daemon.connect().request("SET text abc"), "OK")
        let counted = try LoadToolRun(["--port", "\(daemon.port)", "--requests", "20", "--connections", "1",
                                       "--request", "INCR text", "--json"])
        XCTAssertEqual(counted.status, 1, counted.stderr)
        let kinds = try XCTUnwrap(try counted.json()["errors_by_kind"] as? [String: Int], counted.stdout)
        XCTAssertEqual(kinds["error_reply"], 20, counted.stdout)
        XCTAssertTrue(counted.stderr.contains("error reply to 'INCR text': 'ERR value is not an integer'"), counted.stderr)

        let meant = try LoadToolRun(["--port", "\(daemon.port)", "--requests", "20", "--connections", "1",
                                     "--request", "!INCR text", "--request", "!FOO bar", "--json"])
        XCTAssertEqual(meant.status, 0, meant.stderr)
        XCTAssertEqual(try meant.json()["requests"] as? Int, 20, meant.stdout)
        daemon.stopCleanly()
    }

    /// Sequential keys fill a store with exactly --keys distinct items.
    func testSequentialKeysStoreEveryKeyOnce() throws {
        let daemon = try TestDaemon()
        let run = try LoadToolRun(["--port", "\(daemon.port)", "--requests", "500", "--keys", "500", "--connections", "4",
                                   "--threads", "2", "--pipeline", "8", "--key-order", "sequential",
                                   "--request", "SET %k %v", "--json"])
        XCTAssertEqual(run.status, 0, run.stderr)
        let stats = try daemon.connect().stats()
        XCTAssertEqual(stats["keys"], 500)
        daemon.stopCleanly()
    }

    /// `--protocol memcached` against carriaged's memcached port: get and set with values,
    /// every value read back checked; a value the tool did not write is counted wrong.
    func testMemcachedProtocolMixChecksValues() throws {
        let daemon = try TestDaemon(["--memcached-port", "0"])
        defer { daemon.stopCleanly() }
        let port = try XCTUnwrap(daemon.memcachedPort)
        let mix = ["--port", "\(port)", "--protocol", "memcached", "--requests", "3000", "--keys", "100",
                   "--connections", "4", "--pipeline", "8", "--value-size", "100",
                   "--request", "70:get %k", "--request", "30:set %k 0 0 %n\\r\\n%v", "--json"]
        let run = try LoadToolRun(mix)
        XCTAssertEqual(run.status, 0, run.stderr)
        XCTAssertEqual(try run.json()["errors"] as? Int, 0, run.stdout)
        let client = try LineClient(port: port)
        try client.send("set key:7 0 0 5\r\nother\r\n")
        XCTAssertEqual(try client.readLine(), "STORED\r")
        let wrong = try LoadToolRun(["--port", "\(port)", "--protocol", "memcached", "--requests", "50", "--keys", "100",
                                     "--value-size", "100", "--request", "get key:7", "--request", "set key:8 0 0 %n\\r\\n%v", "--json"])
        XCTAssertNotEqual(wrong.status, 0)
        XCTAssertGreaterThan(try XCTUnwrap(wrong.json()["errors"] as? Int), 0, wrong.stdout)
    }

    func testBadFlagsAreOneClearLine() throws {
        for arguments in [["--pipeline", "0"], ["--bogus"], ["--request", "QUIT"], ["--duration", "1", "--requests", "5"],
                          ["--connect-per-request", "--pipeline", "4"], ["--protocol", "gopher"]] {
            let run = try LoadToolRun(arguments)
            XCTAssertEqual(run.status, 64, "\(arguments): \(run.stderr)")
            let lines = run.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, "\(arguments): \(run.stderr)")
            XCTAssertTrue(run.stderr.hasPrefix("carriage-load: "), run.stderr)
            XCTAssertEqual(run.stdout, "")
        }
    }
}

/// One finished run of `carriage-load` (stdout and stderr through files, so a chatty run
/// can never block on a full pipe).
struct LoadToolRun {
    let status: Int32
    let stdout: String
    let stderr: String

    init(_ arguments: [String], timeout: TimeInterval = 120) throws {
        let directory = FileManager.default.temporaryDirectory
            .appendingPathComponent("carriage-load-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max))")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let outURL = directory.appendingPathComponent("out")
        let errURL = directory.appendingPathComponent("err")
        _ = FileManager.default.createFile(atPath: outURL.path, contents: nil)
        _ = FileManager.default.createFile(atPath: errURL.path, contents: nil)
        let process = Process()
        process.executableURL = productsDirectory().appendingPathComponent("carriage-load")
        process.arguments = arguments
        process.standardOutput = try FileHandle(forWritingTo: outURL)
        process.standardError = try FileHandle(forWritingTo: errURL)
        let exit = ExitWatch(process)
        try process.run()
        if !exit.wait(timeout: timeout) {
            kill(process.processIdentifier, SIGKILL)
            XCTFail("carriage-load \(arguments) ran over \(timeout) s")
        }
        process.waitUntilExit()
        status = process.terminationStatus
        stdout = (try? String(contentsOf: outURL, encoding: .utf8)) ?? ""
        stderr = (try? String(contentsOf: errURL, encoding: .utf8)) ?? ""
        XCTAssertFalse(stderr.contains("Sanitizer"), "sanitizer report from carriage-load:\n\(stderr)")
    }

    /// The `--json` object on stdout.
    func json() throws -> [String: Any] {
        let object = try JSONSerialization.jsonObject(with: Data(stdout.utf8))
        return try XCTUnwrap(object as? [String: Any], "not a JSON object: \(stdout)")
    }
}
