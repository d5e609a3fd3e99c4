import CarriagePosix
import Foundation
import Glibc
import XCTest

/// The line protocol (CarriageProtocol.docc, LineProtocol.md), spoken to a real daemon over real sockets.
final class ProtocolOverSocketTests: XCTestCase {
    func testEveryCommandAnswersAsTheProtocolSays() throws {
        let daemon = try TestDaemon()
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        let exchanges: [(String, String)] = [
            ("PING", "OK PONG"),
            ("ping", "OK PONG"),
            ("ECHO  two  spaces ", "OK  two  spaces "),
            ("CAP hELLO wORLD", "OK Hello world"),
            ("CAP élan", "OK Élan"),
            ("GET missing", "NONE"),
            ("SET k v with spaces", "OK"),
            ("GET k", "OK v with spaces"),
            ("DEL k", "OK 1"),
            ("DEL k", "OK 0"),
            ("SET n 5", "OK"),
            ("INCR n", "OK 6"),
            ("GET n", "OK 6"),
            ("DECR n 10", "OK -4"),
            ("INCR n -1", "OK -5"),
            ("SET big 9223372036854775807", "OK"),
            ("INCR big", "ERR overflow"),
            ("GET big", "OK 9223372036854775807"),
            ("SET s abc", "OK"),
            ("INCR s", "ERR value is not an integer"),
            ("INCR n x", "ERR delta is not an integer"),
            ("FROB", "ERR unknown command"),
            ("GET", "ERR usage: GET <key>"),
            ("SLEEP 60001", "ERR usage: SLEEP <ms>"),
            ("SLEEP 1", "OK"),
            ("GET \(String(repeating: "k", count: 251))", "ERR invalid key"),
            ("TTL s", "OK -1"),
            ("EXPIRE missing 10", "OK 0"),
            ("TTL missing", "NONE"),
            ("EXPIRE s 0", "OK 1"),
            ("GET s", "NONE"),
            ("EXPIRE n x", "ERR usage: EXPIRE <key> <seconds>"),
        ]
        for (request, reply) in exchanges {
            XCTAssertEqual(try client.request(request), reply, request)
        }
        // A TTL counts down from what EXPIRE set (the server's second may tick between).
        XCTAssertEqual(try client.request("EXPIRE n 100"), "OK 1")
        XCTAssertTrue(["OK 100", "OK 99"].contains(try client.request("TTL n")))
        let thread = try client.request("THREAD").split(separator: " ")
        XCTAssertEqual(thread.count, 3)
        XCTAssertEqual(thread[0], "OK")
        XCTAssertTrue(thread[1] == "worker-0" || thread[1] == "worker-1", "\(thread)")
        XCTAssertEqual(Int32(thread[2]), daemon.pid)
        XCTAssertEqual(try client.request("QUIT"), "OK BYE")
        XCTAssertTrue(try client.isClosedByServer())
    }

    func testStatsNamesEveryRequiredCounter() throws {
        let daemon = try TestDaemon(workers: 3)
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        for _ in 0..<10 { _ = try client.request("PING") }
        _ = try client.request("SET key value")
        let stats = try client.stats()
        for name in ["pid", "uptime_seconds", "workers", "workers_busy", "queue_depth", "threads",
                     "connections_current", "connections_total", "connections_rejected", "requests_total",
                     "keys", "bytes_stored", "memory_used", "memory_limit", "evictions", "get_hits",
                     "get_misses", "expired",
                     "worker.0.requests", "worker.1.requests", "worker.2.requests"] {
            XCTAssertNotNil(stats[name], name)
        }
        XCTAssertEqual(stats["pid"], Int(daemon.pid))
        XCTAssertEqual(stats["workers"], 3)
        XCTAssertEqual(stats["connections_current"], 1)
        XCTAssertEqual(stats["keys"], 1)
        XCTAssertEqual(stats["bytes_stored"], 8)
        // The 11 requests before STATS, and STATS itself.
        XCTAssertEqual(stats["requests_total"], 12)
        XCTAssertEqual((0..<3).map { stats["worker.\($0).requests"]! }.reduce(0, +), 12)
        XCTAssertEqual(stats["threads"], daemon.threadCount)
    }

    /// Sends `count` SETs of `value` (keys `prefix0`, `prefix1`, ...) pipelined in batches
    /// and returns the replies.
    private func pipelineSets(
        _ client: LineClient, prefix: String, count: Int, value: String
    ) throws -> [String] {
        var replies: [String] = []
        for start in stride(from: 0, to: count, by: 500) {
            let batch = start..<min(count, start + 500)
            try client.send(batch.map { "SET \(prefix)\($0) \(value)\n" }.joined())
            for _ in batch { replies.append(try XCTUnwrap(client.readLine())) }
        }
        return replies
    }

    /// `--eviction none` (the default): a full store refuses writes and loses nothing.
    func testMaxMemoryRefusesWritesWhenFull() throws {
        let daemon = try TestDaemon(["--max-memory", "1MiB"])
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        let value = String(repeating: "v", count: 1000)
        let replies = try pipelineSets(client, prefix: "k", count: 2_000, value: value)
        let stored = replies.firstIndex(of: "ERR out of memory") ?? replies.count
        XCTAssertGreaterThan(stored, 500)
        XCTAssertLessThan(stored, 1_100)
        XCTAssertEqual(Set(replies[stored...]), ["ERR out of memory"])
        XCTAssertEqual(try client.request("GET k0"), "OK " + value)
        XCTAssertEqual(try client.request("GET k\(stored - 1)"), "OK " + value)
        XCTAssertEqual(try client.request("GET k\(stored)"), "NONE")
        let stats = try client.stats()
        XCTAssertEqual(stats["keys"], stored)
        XCTAssertEqual(stats["memory_limit"], 1 << 20)
        XCTAssertLessThanOrEqual(try XCTUnwrap(stats["memory_used"]), 1 << 20)
        XCTAssertEqual(stats["evictions"], 0)
    }

    /// `--eviction lru`: a full store keeps accepting, evicts the oldest, and stays within
    /// its bound, by its own account and (with a wide margin) by RSS.
    func testLRUKeepsAcceptingWithinTheBound() throws {
        let daemon = try TestDaemon(["--max-memory", "16MiB", "--eviction", "lru"])
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        let rssBefore = try XCTUnwrap(daemon.residentBytes)
        let value = String(repeating: "v", count: 2000)
        // 64 MB of values into a 16 MiB store.
        let replies = try pipelineSets(client, prefix: "key:", count: 32_000, value: value)
        XCTAssertEqual(Set(replies), ["OK"])
        XCTAssertEqual(try client.request("GET key:31999"), "OK " + value)
        XCTAssertEqual(try client.request("GET key:0"), "NONE")
        let stats = try client.stats()
        let keys = try XCTUnwrap(stats["keys"])
        XCTAssertGreaterThan(keys, 5_000)
        XCTAssertEqual(keys + (stats["evictions"] ?? 0), 32_000)
        XCTAssertLessThanOrEqual(try XCTUnwrap(stats["memory_used"]), 16 << 20)
        // ThreadSanitizer's shadow memory counts in RSS too.
        guard ProcessInfo.processInfo.environment["CARRIAGE_TSAN"] == nil else { return }
        let growth = try XCTUnwrap(daemon.residentBytes) - rssBefore
        XCTAssertLessThan(growth, 32 << 20, "RSS grew \(growth) bytes for a 16 MiB bound")
    }

    func testHalfCloseAnswersEverythingIncludingAFinalUnterminatedLine() throws {
        let daemon = try TestDaemon()
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        try client.send("PING\nECHO a\nPING")
        client.shutdownWrite()
        XCTAssertEqual(try client.readLine(), "OK PONG")
        XCTAssertEqual(try client.readLine(), "OK a")
        XCTAssertEqual(try client.readLine(), "OK PONG")
        XCTAssertNil(try client.readLine())
    }

    func testCRLFAndEmptyLines() throws {
        let daemon = try TestDaemon()
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        try client.send("PING\r\n\n\r\nECHO x\r\n\nCAP ab\n")
        XCTAssertEqual(try client.readLine(), "OK PONG")
        XCTAssertEqual(try client.readLine(), "OK x")
        XCTAssertEqual(try client.readLine(), "OK Ab")
        XCTAssertEqual(try client.request("PING"), "OK PONG")  // nothing extra was queued
    }

    func testInvalidUTF8IsAnErrorAndTheConnectionStays() throws {
        let daemon = try TestDaemon()
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        try client.send(Array("ECHO ".utf8) + [0xC3, 0x28] + [10])
        XCTAssertEqual(try client.readLine(), "ERR invalid utf-8")
        XCTAssertEqual(try client.request("PING"), "OK PONG")
    }

    func testLineTooLongIsRefusedThenClosed() throws {
        let daemon = try TestDaemon(["--max-line-bytes", "100"])
        defer { daemon.stopCleanly() }
        let fits = try daemon.connect()
        let hundred = "ECHO " + String(repeating: "x", count: 95)
        XCTAssertEqual(try fits.request(hundred), "OK " + String(repeating: "x", count: 95))

        // A terminated line one byte over.
        let over = try daemon.connect()
        try over.send(hundred + "y\nPING\n")
        XCTAssertEqual(try over.readLine(), "ERR line too long")
        XCTAssertTrue(try over.isClosedByServer())

        // An unterminated line that keeps growing: refused without waiting for its LF.
        let endless = try daemon.connect()
        try endless.send(String(repeating: "z", count: 5000))
        XCTAssertEqual(try endless.readLine(), "ERR line too long")
        XCTAssertTrue(try endless.isClosedByServer())
    }

    func testTwentyThousandPipelinedRequestsInOneWriteComeBackInOrder() throws {
        let daemon = try TestDaemon()
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        let count = 20_000
        var batch = ""
        for i in 0..<count { batch += "ECHO \(i)\n" }
        let bytes = Array(batch.utf8)
        let sender = Thread { try? client.send(bytes) }
        sender.start()
        for i in 0..<count {
            let line = try XCTUnwrap(try client.readLine(), "reply \(i) missing")
            if line != "OK \(i)" {
                XCTFail("reply \(i) was \(line)")
                return
            }
        }
        XCTAssertEqual(try client.request("PING"), "OK PONG")
    }

    func testHundredClientsIncrementingOneKeyLoseNothing() throws {
        OpenFileLimit.raise()
        let daemon = try TestDaemon(workers: 4)
        defer { daemon.stopCleanly() }
        let port = daemon.port
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 100) { _ in
            do {
                let client = try LineClient(port: port)
                // Pipelined in one write, then read: every INCR still runs alone.
                try client.send(String(repeating: "INCR hot\n", count: 100))
                for _ in 0..<100 {
                    guard let reply = try client.readLine(), reply.hasPrefix("OK ") else {
                        failures.add("bad reply"); return
                    }
                }
            } catch {
                failures.add("\(error)")
            }
        }
        XCTAssertEqual(failures.all, [])
        XCTAssertEqual(try daemon.connect().request("GET hot"), "OK 10000")
    }

    func testARealNetcatClient() throws {
        let daemon = try TestDaemon()
        defer { daemon.stopCleanly() }
        let nc = Process()
        nc.executableURL = URL(fileURLWithPath: "/bin/sh")
        nc.arguments = ["-c", "printf 'PING\\nCAP élan\\nSET greeting hi there\\nGET greeting\\nECHO last' | nc -N 127.0.0.1 \(daemon.port)"]
        let output = Pipe()
        nc.standardOutput = output
        try nc.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        nc.waitUntilExit()
        XCTAssertEqual(nc.terminationStatus, 0)
        XCTAssertEqual(String(decoding: data, as: UTF8.self), "OK PONG\nOK Élan\nOK\nOK hi there\nOK last\n")
    }
}

/// Errors collected from many threads.
final class Failures: @unchecked Sendable {  // safe: `lock` guards `items`
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var all: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
