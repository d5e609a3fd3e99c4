import Foundation
import Glibc
import XCTest

/// `--snapshot`: the store survives a restart; a file that cannot be trusted stops start-up.
final class SnapshotTests: XCTestCase {
    private var directory = ""
    private var path: String { directory + "/store.snapshot" }

    override func setUpWithError() throws {
        directory = NSTemporaryDirectory() + "carriage-snapshot-\(UUID().uuidString)"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
    }

    override func tearDownWithError() throws {
        try? FileManager.default.removeItem(atPath: directory)
    }

    /// Stores `count` keys `key:<i>` = `value-<i>` over `client`, pipelined in batches.
    private func fill(_ client: LineClient, count: Int, prefix: String = "key") throws {
        let batch = 5_000
        for first in stride(from: 0, to: count, by: batch) {
            let last = min(first + batch, count)
            try client.send((first..<last).map { "SET \(prefix):\($0) value-\($0)\n" }.joined())
            for _ in first..<last { XCTAssertEqual(try client.readLine(), "OK") }
        }
    }

    /// Checks every key `fill` stored.
    private func check(_ client: LineClient, count: Int, prefix: String = "key") throws {
        let batch = 5_000
        var missing = 0
        for first in stride(from: 0, to: count, by: batch) {
            let last = min(first + batch, count)
            try client.send((first..<last).map { "GET \(prefix):\($0)\n" }.joined())
            for i in first..<last where try client.readLine() != "OK value-\(i)" { missing += 1 }
        }
        XCTAssertEqual(missing, 0, "\(missing) of \(count) keys lost")
    }

    func testAHundredThousandKeysSurviveARestart() throws {
        let arguments = ["--snapshot", path, "--memcached-port", "0"]
        var daemon = try TestDaemon(arguments)
        XCTAssertTrue(daemon.awaitLog(containing: "does not exist yet; starting empty"), daemon.stderrText)
        try fill(try daemon.connect(), count: 100_000)
        // memcached's view: flags, expiry and CAS unique come back as they were.
        var memcached = try LineClient(port: try XCTUnwrap(daemon.memcachedPort))
        try memcached.send("set flagged 4242 3600 5\r\nhello\r\ngets flagged\r\n")
        XCTAssertEqual(try memcached.readLine(), "STORED\r")
        let before = try XCTUnwrap(try memcached.readLine())
        XCTAssertEqual(try memcached.readLine(), "hello\r")
        XCTAssertEqual(try memcached.readLine(), "END\r")
        XCTAssertEqual(daemon.stop(), 0, daemon.stderrText)
        XCTAssertTrue(daemon.stderrText.contains("snapshot: wrote 100001 items"), daemon.stderrText)

        daemon = try TestDaemon(arguments)
        defer { daemon.stopCleanly() }
        XCTAssertTrue(daemon.awaitLog(containing: "snapshot: loaded 100001 items"), daemon.stderrText)
        let client = try daemon.connect()
        try check(client, count: 100_000)
        memcached = try LineClient(port: try XCTUnwrap(daemon.memcachedPort))
        try memcached.send("gets flagged\r\n")
        XCTAssertEqual(try memcached.readLine(), before, "flags, length and CAS unique")
        XCTAssertEqual(try memcached.readLine(), "hello\r")
        XCTAssertEqual(try memcached.readLine(), "END\r")
        let ttl = Int(try client.request("TTL flagged").dropFirst(3)) ?? 0
        XCTAssertTrue((3500...3600).contains(ttl), "TTL \(ttl) after a restart of an item set with 3600")
        // A new write gets a CAS unique the restored ones never had.
        try memcached.send("set flagged 0 0 1\r\nx\r\ngets flagged\r\n")
        XCTAssertEqual(try memcached.readLine(), "STORED\r")
        let after = try XCTUnwrap(try memcached.readLine())
        XCTAssertGreaterThan(UInt64(after.split(separator: " ")[4].dropLast()) ?? 0,
                             UInt64(before.split(separator: " ")[4].dropLast()) ?? .max)
    }

    /// A kill -9 loses at most what came after the last interval's snapshot.
    func testKillNineLosesAtMostTheInterval() throws {
        let arguments = ["--snapshot", path, "--snapshot-interval", "1"]
        var daemon = try TestDaemon(arguments)
        let client = try daemon.connect()
        try fill(client, count: 2_000)
        // A snapshot that began after the last write has finished once two more are written.
        let written = try client.stats()["snapshots_written"] ?? 0
        let deadline = Date(timeIntervalSinceNow: 20)
        while (try client.stats()["snapshots_written"] ?? 0) < written + 2 && Date() < deadline { usleep(50_000) }
        XCTAssertGreaterThanOrEqual(try client.stats()["snapshot_items"] ?? 0, 2_000)
        XCTAssertEqual(daemon.stop(signal: SIGKILL), SIGKILL)

        daemon = try TestDaemon(arguments)
        defer { daemon.stopCleanly() }
        XCTAssertTrue(daemon.awaitLog(containing: "snapshot: loaded 2000 items"), daemon.stderrText)
        try check(try daemon.connect(), count: 2_000)
    }

    /// Cut at every tenth of its length, or one byte changed, a snapshot is refused with one
    /// line and exit status 1, and left as it was.
    func testATruncatedOrCorruptSnapshotStopsStartUp() throws {
        let daemon = try TestDaemon(["--snapshot", path])
        try fill(try daemon.connect(), count: 3_000)
        XCTAssertEqual(daemon.stop(), 0, daemon.stderrText)
        let whole = try Data(contentsOf: URL(fileURLWithPath: path))
        let broken = directory + "/broken.snapshot"

        func refused(_ bytes: Data, saying expected: String..., file: StaticString = #filePath, line: UInt = #line) throws {
            try bytes.write(to: URL(fileURLWithPath: broken))
            let result = try TestDaemon.runToExit(["--port", "0", "--snapshot", broken], timeout: 30)
            XCTAssertEqual(result.status, 1, result.stderr, file: file, line: line)
            let lines = result.stderr.split(separator: "\n")
            XCTAssertEqual(lines.count, 1, result.stderr, file: file, line: line)
            XCTAssertTrue(expected.contains { result.stderr.contains($0) }, result.stderr, file: file, line: line)
            XCTAssertFalse(result.stderr.contains("listening on"), file: file, line: line)
            XCTAssertEqual(try Data(contentsOf: URL(fileURLWithPath: broken)), bytes, "left untouched", file: file, line: line)
        }
        for tenth in 0..<10 {
            let cut = whole.prefix(whole.count * tenth / 10)
            try refused(cut, saying: "is truncated")
        }
        var flipped = whole
        flipped[whole.count / 2] ^= 0x01
        // Items are in hash order, which is seeded per process: the byte may be a length.
        try refused(flipped, saying: "corrupt", "is truncated")
        try refused(Data("hello, world\n".utf8), saying: "not a carriaged snapshot")

        // The intact file loads.
        let again = try TestDaemon(["--snapshot", path])
        defer { again.stopCleanly() }
        XCTAssertTrue(again.awaitLog(containing: "snapshot: loaded 3000 items"), again.stderrText)
    }

    func testAnUnwritableDirectoryStopsStartUp() throws {
        let result = try TestDaemon.runToExit(["--port", "0", "--snapshot", "/proc/no-such-dir/store.snapshot"], timeout: 30)
        XCTAssertEqual(result.status, 1, result.stderr)
        XCTAssertTrue(result.stderr.contains("cannot"), result.stderr)
        let interval = try TestDaemon.runToExit(["--port", "0", "--snapshot-interval", "5"], timeout: 30)
        XCTAssertEqual(interval.status, 1)
        XCTAssertTrue(interval.stderr.contains("--snapshot-interval needs --snapshot PATH"), interval.stderr)
    }
}
