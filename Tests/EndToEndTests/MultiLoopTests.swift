import Foundation
import Glibc
import XCTest

/// `--loops N`: connections dealt to every loop, and each loop's part of the lifecycle.
final class MultiLoopTests: XCTestCase {
    private func loopConnections(_ stats: [String: Int], loops: Int) -> [Int] {
        (0..<loops).map { stats["loop.\($0).connections"] ?? -1 }
    }

    /// `count` connections, each after a round trip, so each has reached its loop before
    /// the next is accepted.
    private func connect(_ count: Int, to daemon: TestDaemon) throws -> [LineClient] {
        try (0..<count).map { index in
            let client = try daemon.connect()
            XCTAssertEqual(try client.request("ECHO \(index)"), "OK \(index)")
            return client
        }
    }

    func testConnectionsAreDealtToEveryLoopInTurn() throws {
        let daemon = try TestDaemon(["--loops", "3"])
        defer { daemon.stopCleanly() }
        let clients = try connect(30, to: daemon)
        let stats = try clients[0].stats()
        XCTAssertEqual(stats["loops"], 3)
        XCTAssertEqual(loopConnections(stats, loops: 3), [10, 10, 10])
        // Every connection on every loop is served, and they share one store.
        for (index, client) in clients.enumerated() {
            XCTAssertEqual(try client.request("INCR shared"), "OK \(index + 1)")
        }
        let names = try FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/task").map {
            (try? String(contentsOfFile: "/proc/\(daemon.pid)/task/\($0)/comm", encoding: .utf8)) ?? ""
        }
        for loop in 0..<3 { XCTAssertTrue(names.contains("loop-\(loop)\n"), "\(names)") }
    }

    /// SIGTERM with connections open on every loop, some mid-request: every reply goes
    /// out, every connection is closed, and the daemon exits 0.
    func testShutdownWithConnectionsOnEveryLoop() throws {
        let daemon = try TestDaemon(["--loops", "3"])
        let clients = try connect(9, to: daemon)
        XCTAssertEqual(loopConnections(try clients[0].stats(), loops: 3), [3, 3, 3])
        for client in clients.prefix(3) { try client.send("SLEEP 300\n") }
        XCTAssertTrue(daemon.awaitSleepingThreads(2))
        XCTAssertEqual(daemon.stop(), 0, daemon.stderrText)
        for client in clients.prefix(3) { XCTAssertEqual(try client.readLine(), "OK") }
        for client in clients { XCTAssertTrue(try client.isClosedByServer()) }
    }

    /// The kernel scheduling policy (field 41 of /proc/PID/task/TID/stat) of each of the
    /// daemon's threads, by thread name.
    private func schedulingPolicies(of daemon: TestDaemon) throws -> [String: Int] {
        var policies: [String: Int] = [:]
        for task in try FileManager.default.contentsOfDirectory(atPath: "/proc/\(daemon.pid)/task") {
            let stat = try String(contentsOfFile: "/proc/\(daemon.pid)/task/\(task)/stat", encoding: .utf8)
            // "tid (comm) state ...": the comm may hold spaces; fields resume after ')'.
            guard let close = stat.lastIndex(of: ")"), let open = stat.firstIndex(of: "(") else { continue }
            let fields = stat[stat.index(after: close)...].split(separator: " ")
            policies[String(stat[stat.index(after: open)..<close])] = Int(fields[38])
        }
        return policies
    }

    /// Loops run as SCHED_BATCH (3) unless told otherwise; the workers keep SCHED_OTHER (0).
    func testLoopThreadsRunUnderTheChosenSchedulingPolicy() throws {
        for (flag, expected) in [([String](), 3), (["--loop-scheduling", "normal"], 0)] {
            let daemon = try TestDaemon(["--loops", "2"] + flag)
            defer { daemon.stopCleanly() }
            // A connection served on each loop: both threads have run, so both are named.
            let clients = try connect(2, to: daemon)
            XCTAssertEqual(loopConnections(try clients[0].stats(), loops: 2), [1, 1])
            let policies = try schedulingPolicies(of: daemon)
            XCTAssertEqual(policies["loop-0"], expected, "\(flag): \(policies)")
            XCTAssertEqual(policies["loop-1"], expected, "\(flag): \(policies)")
            XCTAssertEqual(policies["worker-0"], 0, "\(flag): \(policies)")
        }
    }

    func testIdleTimeoutOnEveryLoop() throws {
        let daemon = try TestDaemon(["--loops", "3", "--idle-timeout", "1"])
        defer { daemon.stopCleanly() }
        let clients = try connect(6, to: daemon)
        // Each loop's sweep closes its own silent connections.
        for client in clients { XCTAssertTrue(try client.isClosedByServer()) }
        let stats = try daemon.connect().stats()
        XCTAssertEqual(loopConnections(stats, loops: 3).reduce(0, +), 1)
    }
}
