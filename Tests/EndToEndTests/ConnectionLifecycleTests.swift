import CarriagePosix
import Foundation
import Glibc
import XCTest

/// The connection lifecycle (CarriageServer.docc, ThreadModel.md): many idle connections, blocking requests,
/// slow readers, limits and faults.
final class ConnectionLifecycleTests: XCTestCase {
    override func setUp() {
        OpenFileLimit.raise()
    }

    func testTwoThousandIdleConnectionsCostNoThreads() throws {
        let daemon = try TestDaemon(workers: 2)
        defer { daemon.stopCleanly() }
        var idle: [LineClient] = []
        for _ in 0..<2000 { idle.append(try daemon.connect()) }
        let client = try daemon.connect()
        let start = Date()
        XCTAssertEqual(try client.request("PING"), "OK PONG")
        // At once, not after the idle ones (generous: ThreadSanitizer runs this too).
        XCTAssertLessThan(Date().timeIntervalSince(start), 2.0)
        let stats = try client.stats()
        XCTAssertEqual(stats["connections_current"], 2001)
        // The main thread, the loop threads and the two workers (and, under ThreadSanitizer,
        // its own); nothing per connection.
        XCTAssertLessThanOrEqual(daemon.threadCount, 1 + daemon.loops + 2 + 2)
        XCTAssertEqual(stats["threads"], daemon.threadCount)
        // Every idle connection is still served.
        XCTAssertEqual(try idle[1234].request("ECHO still here"), "OK still here")
    }

    func testSleepHoldsItsWorkerAndOthersAreStillServed() throws {
        let daemon = try TestDaemon(workers: 3)
        defer { daemon.stopCleanly() }
        let sleepers = try (0..<2).map { _ in try daemon.connect() }
        for sleeper in sleepers { try sleeper.send("SLEEP 1500\n") }
        let observer = try daemon.connect()
        // Wait (bounded by the sleep) until both SLEEPs run.
        var busy = 0
        let deadline = Date(timeIntervalSinceNow: 1.4)
        // Two SLEEPs, and the worker running this STATS.
        while busy < 3 && Date() < deadline {
            busy = try observer.stats()["workers_busy"] ?? 0
        }
        XCTAssertEqual(busy, 3)
        let start = Date()
        XCTAssertEqual(try observer.request("PING"), "OK PONG")
        XCTAssertLessThan(Date().timeIntervalSince(start), 1.0)  // well before the SLEEPs end
        for sleeper in sleepers { XCTAssertEqual(try sleeper.readLine(), "OK") }
    }

    func testAFullPoolQueuesTheRestUntilAWorkerFrees() throws {
        let daemon = try TestDaemon(workers: 1)
        defer { daemon.stopCleanly() }
        let sleeper = try daemon.connect()
        try sleeper.send("SLEEP 800\n")
        XCTAssertTrue(daemon.awaitSleepingThreads(1))
        let waiting = try daemon.connect()
        let start = Date()
        XCTAssertEqual(try waiting.request("PING"), "OK PONG")
        XCTAssertEqual(try sleeper.readLine(), "OK")
        // The PING waited in the queue for the only worker (allow for scheduling).
        XCTAssertGreaterThan(Date().timeIntervalSince(start), 0.3)
    }

    func testAClientThatDoesNotReadCannotGrowServerMemory() throws {
        let daemon = try TestDaemon(workers: 2)
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        let payload = String(repeating: "p", count: 1000)
        let line = Array("ECHO \(payload)\n".utf8)
        let lines = 40_000  // 40 MB of replies
        var request: [UInt8] = []
        request.reserveCapacity(line.count * 1000)
        for _ in 0..<1000 { request += line }
        _ = try client.request("PING")
        let before = daemon.rssKiB

        // Send without reading until the server stops taking bytes.
        let flags = fcntl(client.fd, F_GETFL)
        _ = fcntl(client.fd, F_SETFL, flags | O_NONBLOCK)
        var sentLines = 0
        var offset = 0
        var stalled = 0
        while sentLines < lines && stalled < 20 {
            let n = request.withUnsafeBytes { send(client.fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n > 0 {
                offset += n
                stalled = 0
                if offset == request.count { offset = 0; sentLines += 1000 }
            } else {
                var pfd = pollfd(fd: client.fd, events: Int16(POLLOUT), revents: 0)
                if poll(&pfd, 1, 50) == 0 { stalled += 1 }  // 1 s without room: the server stopped reading
            }
        }
        XCTAssertLessThan(sentLines, lines, "the server kept reading although nobody read its replies")
        let during = daemon.rssKiB
        XCTAssertLessThan(during - before, 16 * 1024, "server RSS grew from \(before) to \(during) KiB")

        // Now read: every reply arrives, in order, and the rest can be sent.
        _ = fcntl(client.fd, F_SETFL, flags)
        let rest = Array(request[offset...])
        let sender = Thread {
            try? client.send(rest)
        }
        sender.start()
        let total = sentLines + 1000
        let expected = "OK \(payload)"
        for i in 0..<total {
            guard let reply = try client.readLine() else { return XCTFail("connection closed at reply \(i)") }
            if reply != expected { return XCTFail("reply \(i): \(reply.prefix(40))") }
        }
        XCTAssertEqual(try client.request("PING"), "OK PONG")
        XCTAssertLessThan(daemon.rssKiB - before, 16 * 1024)
    }

    func testMaxConnectionsRefusesWithBusy() throws {
        let daemon = try TestDaemon(["--max-connections", "5"])
        defer { daemon.stopCleanly() }
        let admitted = try (0..<5).map { _ in try daemon.connect() }
        for client in admitted { XCTAssertEqual(try client.request("PING"), "OK PONG") }
        let refused = try daemon.connect()
        XCTAssertEqual(try refused.readLine(), "BUSY too many connections")
        XCTAssertTrue(try refused.isClosedByServer())
        let stats = try admitted[0].stats()
        XCTAssertEqual(stats["connections_rejected"], 1)
        XCTAssertEqual(stats["connections_current"], 5)
        // A freed slot is taken again.
        admitted[4].close()
        var again: LineClient?
        let deadline = Date(timeIntervalSinceNow: 5)
        while Date() < deadline {
            let client = try daemon.connect()
            if try client.request("PING") == "OK PONG" { again = client; break }
        }
        XCTAssertNotNil(again)
        // The log comes through a pipe another thread reads: wait for it, then count.
        XCTAssertTrue(daemon.awaitLog(containing: "max-connections 5 reached"), daemon.stderrText)
        XCTAssertEqual(daemon.stderrText.components(separatedBy: "max-connections 5 reached").count - 1, 1,
                       "logged once per burst")
    }

    func testIdleTimeoutClosesSilentConnections() throws {
        let daemon = try TestDaemon(["--idle-timeout", "1"])
        defer { daemon.stopCleanly() }
        let silent = try daemon.connect()
        let start = Date()
        XCTAssertTrue(try silent.isClosedByServer())
        let elapsed = Date().timeIntervalSince(start)
        XCTAssertGreaterThan(elapsed, 0.5)
        XCTAssertLessThan(elapsed, 4)
        XCTAssertEqual(try daemon.connect().stats()["connections_current"], 1)
    }

    func testAResetMidRequestIsHarmless() throws {
        let daemon = try TestDaemon()
        defer { daemon.stopCleanly() }
        for i in 0..<100 {
            let client = try daemon.connect()
            // A request cut off (no LF), or a whole one whose reply meets a reset.
            try client.send(i % 2 == 0 ? "SET half" : "PING\n")
            client.reset()
        }
        for _ in 0..<50 {
            // A request and the FIN in one go: answered, then closed by the server.
            let client = try daemon.connect()
            try client.send("PING\n")
            client.shutdownWrite()
            XCTAssertEqual(try client.readLine(), "OK PONG")
            XCTAssertNil(try client.readLine())
        }
        let client = try daemon.connect()
        XCTAssertEqual(try client.request("PING"), "OK PONG")
        var current = 0
        let deadline = Date(timeIntervalSinceNow: 5)
        repeat { current = try client.stats()["connections_current"] ?? -1 } while current != 1 && Date() < deadline
        XCTAssertEqual(current, 1)
    }

    func testThousandsOfConnectionsLeakNoDescriptorsOrThreads() throws {
        let daemon = try TestDaemon(workers: 2)
        defer { daemon.stopCleanly() }
        let probe = try daemon.connect()
        _ = try probe.request("PING")
        let fds = daemon.fdCount
        let threads = daemon.threadCount
        let port = daemon.port
        let failures = Failures()
        DispatchQueue.concurrentPerform(iterations: 8) { lane in
            for i in 0..<500 {
                do {
                    let client = try LineClient(port: port)
                    if i % 3 == 0 {
                        client.reset()
                    } else {
                        guard try client.request("ECHO \(lane)") == "OK \(lane)" else { failures.add("bad reply"); return }
                    }
                } catch { failures.add("\(error)"); return }
            }
        }
        XCTAssertEqual(failures.all, [])
        var current = 0
        let deadline = Date(timeIntervalSinceNow: 10)
        repeat { current = try probe.stats()["connections_current"] ?? -1 } while current != 1 && Date() < deadline
        XCTAssertEqual(current, 1)
        XCTAssertEqual(daemon.fdCount, fds)
        XCTAssertEqual(daemon.threadCount, threads)
        XCTAssertEqual(try probe.stats()["connections_total"], 4001)
    }

    func testRunningOutOfDescriptorsPausesAcceptInsteadOfSpinning() throws {
        // The daemon gets a hard limit of 64 descriptors: it says it cannot raise it.
        let daemon = try TestDaemon(["--max-connections", "1000"], launcher: ["/usr/bin/prlimit", "--nofile=64:64", "--"])
        defer { daemon.stopCleanly() }
        XCTAssertTrue(daemon.stderrText.contains("open-file limit is 64"), daemon.stderrText)
        let first = try daemon.connect()
        XCTAssertEqual(try first.request("PING"), "OK PONG")
        var clients: [LineClient] = []
        for _ in 0..<80 { clients.append(try daemon.connect()) }  // connect succeeds: the backlog holds them
        // Wait until the server has hit the limit.
        var stats = try first.stats()
        let deadline = Date(timeIntervalSinceNow: 5)
        while (stats["listen_disabled"] ?? 0) == 0 && Date() < deadline { stats = try first.stats() }
        XCTAssertGreaterThanOrEqual(stats["listen_disabled"] ?? 0, 1)
        let accepted = stats["connections_current"] ?? 0
        XCTAssertLessThan(accepted, 81)
        // Paused, not spinning: little CPU over half a second.
        let cpu = daemon.cpuSeconds
        usleep(500_000)
        XCTAssertLessThan(daemon.cpuSeconds - cpu, 0.3)  // a spinning accept loop would use ~0.5
        // Free the accepted ones; the ones in the backlog get served.
        let waiting = clients.suffix(10)
        for client in clients.prefix(70) { client.close() }
        for client in waiting { XCTAssertEqual(try client.request("PING"), "OK PONG") }
        XCTAssertEqual(daemon.stderrText.components(separatedBy: "out of file descriptors").count - 1,
                       try first.stats()["listen_disabled"], "one log line per episode")
    }
}
