import Foundation
import Glibc
import XCTest

/// `--auth-file` on both protocols, and the refusal to serve a non-loopback address
/// unprotected.
final class AuthenticationTests: XCTestCase {
    private var directory: URL!

    override func setUpWithError() throws {
        directory = FileManager.default.temporaryDirectory.appendingPathComponent("carriage-auth-\(getpid())-\(UUID().uuidString)")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(at: directory)
    }

    /// An auth file holding `text`, mode `mode`.
    private func authFile(_ text: String = "alice:secret\nbob:pa:ss\n", mode: Int = 0o600) throws -> String {
        let path = directory.appendingPathComponent("users").path
        try Data(text.utf8).write(to: URL(fileURLWithPath: path))
        chmod(path, mode_t(mode))
        return path
    }

    // MARK: Line protocol

    func testLineProtocolBeforeWrongAndRightLogin() throws {
        let daemon = try TestDaemon(["--auth-file", try authFile()])
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        XCTAssertEqual(try client.request("PING"), "OK PONG")
        for line in ["GET k", "SET k v", "STATS", "THREAD", "bogus", "AUTH"] {
            XCTAssertEqual(try client.request(line), "ERR auth required", line)
        }
        XCTAssertEqual(try client.request("AUTH alice wrong"), "ERR auth failed")
        XCTAssertEqual(try client.request("AUTH nobody secret"), "ERR auth failed")
        XCTAssertEqual(try client.request("AUTH bob pa:ss"), "OK")
        XCTAssertEqual(try client.request("SET k v"), "OK")
        XCTAssertEqual(try client.request("GET k"), "OK v")
        let stats = try client.stats()
        XCTAssertEqual(stats["auth_cmds"], 3)
        XCTAssertEqual(stats["auth_errors"], 2)
        XCTAssertTrue(daemon.awaitLog(containing: "authentication failed for 127.0.0.1:"), daemon.stderrText)
        // Another connection starts logged out.
        XCTAssertEqual(try daemon.connect().request("GET k"), "ERR auth required")
        XCTAssertEqual(try client.request("QUIT"), "OK BYE")
    }

    func testLineProtocolClosesAfterThreeFailures() throws {
        let daemon = try TestDaemon(["--auth-file", try authFile()])
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        for _ in 0..<2 { XCTAssertEqual(try client.request("AUTH alice guess"), "ERR auth failed") }
        try client.send("AUTH alice guess\nPING\n")
        XCTAssertEqual(try client.readLine(), "ERR auth failed")
        XCTAssertTrue(try client.isClosedByServer())
        XCTAssertTrue(daemon.awaitLog(containing: "(attempt 3 of 3); closing the connection"), daemon.stderrText)
    }

    func testAuthWithoutAnAuthFile() throws {
        let daemon = try TestDaemon()
        defer { daemon.stopCleanly() }
        XCTAssertEqual(try daemon.connect().request("AUTH alice secret"), "ERR auth not enabled")
    }

    // MARK: memcached's protocol

    /// Each exchange on a fresh connection to memcached -Y and to carriaged, same bytes
    /// back: memcached is the oracle for its ASCII authentication.
    func testMemcachedLoginMatchesARealMemcached() throws {
        let users = try authFile()
        let daemon = try TestDaemon(["--memcached-port", "0", "--auth-file", users])
        defer { daemon.stopCleanly() }
        let ours = try XCTUnwrap(daemon.memcachedPort)
        let reference = try RealMemcached(arguments: ["-Y", users])
        _ = try reference.connect()
        // One request at a time, one reply line each (memcached drops what is pipelined
        // behind a refused command).
        let sessions: [[String]] = [
            ["get foo\r\n", "set k 0 0 12\r\nalice secret\r\n", "get foo\r\n", "set a 0 0 1\r\nx\r\n", "get a\r\n"],
            ["quit\r\n"], ["version\r\n"], ["stats\r\n"], ["mg foo v\r\n"], ["add k 0 0 12\r\nalice secret\r\n"],
            ["set k 0 0 9\r\nalice bad\r\n"], ["set k 0 0 12\r\nmallory xyzw\r\n"], ["set k 0 0 5\r\nalice\r\n"],
            ["set k 0 0 12\r\nalice:secret\r\n"], ["set k x y z\r\n"], ["set k 0 0 13\r\nalice secret \r\n", "get zz\r\n"],
            ["set k 0 0 12 noreply\r\nalice secret\r\n", "get zz\r\n"], ["set k 0 0 9\r\nbob pa:ss\r\n", "get zz\r\n"],
            ["set k 0 0 3\r\nabcde\r\n"],
        ]
        for session in sessions {
            let memcached = try reference.connect()
            let carriaged = try LineClient(port: ours)
            for request in session {
                try memcached.send(request)
                try carriaged.send(request)
                let expected = try Self.reply(from: memcached)
                XCTAssertEqual(try Self.reply(from: carriaged), expected, "\(session): \(request.debugDescription)")
            }
        }
    }

    /// One reply: a line, or the lines of a `get` up to END.
    private static func reply(from client: LineClient) throws -> String {
        guard let first = try client.readLine() else { return "<closed>" }
        var lines = [first]
        if first.hasPrefix("VALUE ") {
            while let line = try client.readLine() {
                lines.append(line)
                if line == "END\r" { break }
            }
        }
        return lines.joined(separator: "\n")
    }

    func testMemcachedClosesAfterThreeFailures() throws {
        let daemon = try TestDaemon(["--memcached-port", "0", "--auth-file", try authFile()])
        defer { daemon.stopCleanly() }
        let client = try LineClient(port: try XCTUnwrap(daemon.memcachedPort))
        for _ in 0..<2 {
            try client.send("set k 0 0 10\r\nalice nope\r\n")
            XCTAssertEqual(try client.readLine(), "CLIENT_ERROR authentication failure\r")
        }
        try client.send("set k 0 0 10\r\nalice nope\r\nversion\r\n")
        XCTAssertEqual(try client.readLine(), "CLIENT_ERROR authentication failure\r")
        XCTAssertTrue(try client.isClosedByServer())
    }

    /// pymemcache sends the login as memcached documents it: a `set` of `user password`.
    func testPythonClientLogsInAndStoresBinaryValues() throws {
        guard (try? Self.python(["-c", "import pymemcache"]).status) == 0 else {
            throw XCTSkip("python3 with pymemcache is not available (scripts/test.sh installs it)")
        }
        let daemon = try TestDaemon(["--memcached-port", "0", "--auth-file", try authFile()])
        defer { daemon.stopCleanly() }
        let port = try XCTUnwrap(daemon.memcachedPort)
        let script = """
        from pymemcache.client.base import Client
        from pymemcache.exceptions import MemcacheClientError
        c = Client(("127.0.0.1", \(port)))
        try:
            c.get("k")
            raise SystemExit("a get before login succeeded")
        except MemcacheClientError as error:
            assert "unauthenticated" in str(error), error
        c = Client(("127.0.0.1", \(port)))
        assert c.set("login", b"alice secret", noreply=False) is True
        assert c.set("k", b"\\x00\\xff\\r\\nbinary", noreply=False) is True
        assert c.get("k") == b"\\x00\\xff\\r\\nbinary"
        print("ok")
        """
        let result = try Self.python(["-c", script])
        XCTAssertEqual(result.status, 0, result.output)
        XCTAssertEqual(result.output, "ok\n")
    }

    private static func python(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = ["python3"] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = pipe
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    // MARK: The auth file

    func testAMalformedAuthFileStopsStartUpNamingTheLine() throws {
        let path = try authFile("alice:secret\n# a comment\n\nbroken\n")
        let (status, stderr, _) = try TestDaemon.runToExit(["--port", "0", "--auth-file", path])
        XCTAssertEqual(status, 1)
        XCTAssertEqual(stderr, "carriaged: --auth-file \(path): line 4 is not 'user:password' (no ':' between user and password)\n")
        let empty = try authFile("# nobody\n")
        let (emptyStatus, emptyError, _) = try TestDaemon.runToExit(["--port", "0", "--auth-file", empty])
        XCTAssertEqual(emptyStatus, 1)
        XCTAssertTrue(emptyError.contains("nobody could log in"), emptyError)
    }

    func testAnAuthFileOthersCanReadIsWarnedAbout() throws {
        let daemon = try TestDaemon(["--auth-file", try authFile(mode: 0o644)])
        defer { daemon.stopCleanly() }
        XCTAssertTrue(daemon.stderrText.contains("is readable by every user (mode 644)"), daemon.stderrText)
        let quiet = try TestDaemon(["--auth-file", try authFile(mode: 0o600)])
        defer { quiet.stopCleanly() }
        XCTAssertFalse(quiet.stderrText.contains("readable by"), quiet.stderrText)
    }

    // MARK: Safe by default

    func testANonLoopbackAddressNeedsProtection() throws {
        let (status, stderr, _) = try TestDaemon.runToExit(["--host", "0.0.0.0", "--port", "0"])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(stderr.hasPrefix("carriaged: refusing to serve 0.0.0.0:"), stderr)
        XCTAssertTrue(stderr.contains("Add --auth-file PATH"), stderr)
        XCTAssertEqual(stderr.split(separator: "\n").count, 1, stderr)
        let metrics = try TestDaemon.runToExit(["--host", "0.0.0.0", "--port", "0", "--auth-file", try authFile(), "--metrics-port", "0"])
        XCTAssertEqual(metrics.status, 1)
        XCTAssertTrue(metrics.stderr.contains("refusing to serve --metrics-port on 0.0.0.0"), metrics.stderr)

        // Protected, or unprotected on purpose: it starts (reached here through 127.0.0.1).
        let protected = try TestDaemon(["--host", "0.0.0.0", "--auth-file", try authFile()])
        defer { protected.stopCleanly() }
        XCTAssertEqual(try protected.connect().request("GET k"), "ERR auth required")
        let insecure = try TestDaemon(["--host", "0.0.0.0", "--insecure"])
        defer { insecure.stopCleanly() }
        XCTAssertTrue(insecure.stderrText.contains("--insecure: serving 0.0.0.0:"), insecure.stderrText)
        XCTAssertEqual(try insecure.connect().request("PING"), "OK PONG")
    }
}
