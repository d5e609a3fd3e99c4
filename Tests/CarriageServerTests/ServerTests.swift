import CarriageServer
import Foundation
import Glibc
import Logging
import XCTest

/// The server in-process (so ThreadSanitizer sees the loop and the workers together),
/// driven over real sockets.
final class ServerTests: XCTestCase {
    /// Runs a server on port 0 on its own thread until `shutdown`.
    private final class Running: @unchecked Sendable {  // safe: `server` is set before the thread starts
        let server: Server
        let stopped = DispatchSemaphore(value: 0)

        init(workers: Int = 2, idleTimeoutSeconds: Int = 300) throws {
            var configuration = ServerConfiguration()
            configuration.port = 0
            configuration.workers = workers
            configuration.idleTimeoutSeconds = idleTimeoutSeconds
            configuration.maxConnections = 200
            // CARRIAGE_TEST_LOOPS: scripts/test.sh runs these with 3 loops too.
            configuration.loops = ProcessInfo.processInfo.environment["CARRIAGE_TEST_LOOPS"].flatMap(Int.init) ?? 1
            server = try Server(configuration: configuration, logger: Logger(label: "test"))
            Thread.detachNewThread { [server, stopped] in
                server.run()
                stopped.signal()
            }
        }

        func stop() -> Bool {
            server.shutdown()
            return stopped.wait(timeout: .now() + 20) == .success
        }
    }

    func testConcurrentClientsGetTheirOwnRepliesAndExactCounts() throws {
        let running = try Running(workers: 3)
        let port = running.server.port
        XCTAssertGreaterThan(port, 0)
        let errors = ErrorLog()
        DispatchQueue.concurrentPerform(iterations: 16) { client in
            do {
                let socket = try BlockingSocket(port: port)
                var batch = ""
                for i in 0..<200 { batch += "ECHO \(client)-\(i)\nINCR shared\n" }
                try socket.write(batch)
                for i in 0..<200 {
                    let echo = try socket.line()
                    let incr = try socket.line()
                    if echo != "OK \(client)-\(i)" || !incr.hasPrefix("OK ") { errors.add("\(echo) / \(incr)") }
                }
            } catch {
                errors.add("\(error)")
            }
        }
        XCTAssertEqual(errors.entries, [])
        let socket = try BlockingSocket(port: port)
        try socket.write("GET shared\n")
        XCTAssertEqual(try socket.line(), "OK 3200")
        XCTAssertTrue(running.stop(), "run() did not return after shutdown()")
    }

    func testShutdownClosesIdleConnectionsAndRunReturns() throws {
        let running = try Running()
        let idle = try (0..<20).map { _ in try BlockingSocket(port: running.server.port) }
        try idle[0].write("PING\n")
        XCTAssertEqual(try idle[0].line(), "OK PONG")
        XCTAssertTrue(running.stop())
        for socket in idle { XCTAssertEqual(try socket.line(), "") }  // end of stream
    }

    /// The once-a-second sweeps (loop 0's expiry reclaim, each loop's idle sweep) run from
    /// their timerfds: an expired key nobody reads is removed, and an idle client closed.
    func testSweepsRunWithoutTraffic() throws {
        let running = try Running(idleTimeoutSeconds: 1)
        let client = try BlockingSocket(port: running.server.port)
        try client.write("SET doomed 1\nEXPIRE doomed 1\n")
        XCTAssertEqual(try client.line(), "OK")
        XCTAssertEqual(try client.line(), "OK 1")
        // Nothing reads the key: only the reclaim can take it. The idle sweep closes
        // the client a second or two after its last request (the read bound is 20 s).
        XCTAssertEqual(try client.line(), "", "the idle sweep did not close the connection")
        // The reclaim runs on its own second: ask until it has (no signal to wait on).
        let checker = try BlockingSocket(port: running.server.port)
        let deadline = Date().addingTimeInterval(10)
        var stats: [String: String] = [:]
        repeat {
            try checker.write("STATS\n")
            while case let line = try checker.line(), line != "END", !line.isEmpty {
                let fields = line.split(separator: " ")
                if fields.count == 3 { stats[String(fields[1])] = String(fields[2]) }
            }
            if stats["keys"] == "0" { break }
            usleep(50_000)
        } while Date() < deadline
        XCTAssertEqual(stats["keys"], "0", "the expired key was not reclaimed")
        XCTAssertEqual(stats["expired"], "1")
        XCTAssertTrue(running.stop())
    }

    /// Stopped and released, a server has closed every descriptor it opened: listener,
    /// connections, and each loop's epoll, eventfd and timerfds (nothing keeps a loop alive).
    func testAReleasedServerLeavesNoDescriptorOpen() throws {
        let before = try openDescriptors()
        do {
            let running = try Running()
            let clients = try (0..<5).map { _ in try BlockingSocket(port: running.server.port) }
            for client in clients {
                try client.write("PING\n")
                XCTAssertEqual(try client.line(), "OK PONG")
            }
            XCTAssertGreaterThan(try openDescriptors(), before + 5)
            XCTAssertTrue(running.stop())
        }
        // The thread that ran the server lets go of it just after run() returns.
        let deadline = Date().addingTimeInterval(10)
        while try openDescriptors() != before && Date() < deadline { usleep(10_000) }
        XCTAssertEqual(try openDescriptors(), before)
    }

    private func openDescriptors() throws -> Int {
        try FileManager.default.contentsOfDirectory(atPath: "/proc/self/fd").count
    }

    func testInvalidConfigurationIsAnErrorNotATrap() {
        var configuration = ServerConfiguration()
        configuration.workers = 0
        XCTAssertThrowsError(try Server(configuration: configuration, logger: Logger(label: "test"))) { error in
            XCTAssertEqual("\(error)", "--workers must be 1 to 1024 (got 0)")
        }
        configuration = ServerConfiguration()
        configuration.maxClientMemoryBytes = 1000
        XCTAssertThrowsError(try Server(configuration: configuration, logger: Logger(label: "test"))) { error in
            XCTAssertEqual("\(error)", "--max-client-memory must be 0 (no bound) or at least the largest request, 1048576 bytes (--max-item-size, --max-line-bytes); got 1000")
        }
        configuration = ServerConfiguration()
        configuration.host = "no.such.host.invalid"
        XCTAssertThrowsError(try Server(configuration: configuration, logger: Logger(label: "test"))) { error in
            XCTAssertTrue("\(error)".hasPrefix("cannot resolve --host no.such.host.invalid"), "\(error)")
        }
    }
}

/// A blocking client socket: write text, read a line ("" at end of stream).
private final class BlockingSocket {
    let fd: Int32
    private var pending: [UInt8] = []

    init(port: Int) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        var timeout = timeval(tv_sec: 20, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in(sin_family: sa_family_t(AF_INET), sin_port: UInt16(port).bigEndian,
                                  sin_addr: in_addr(s_addr: UInt32(0x7F00_0001).bigEndian), sin_zero: (0, 0, 0, 0, 0, 0, 0, 0))
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        if rc != 0 { throw POSIXError(.ECONNREFUSED) }
    }

    deinit { close(fd) }

    func write(_ text: String) throws {
        let bytes = Array(text.utf8)
        var done = 0
        while done < bytes.count {
            let n = bytes[done...].withUnsafeBytes { send(fd, $0.baseAddress, $0.count, Int32(MSG_NOSIGNAL)) }
            guard n > 0 else { throw POSIXError(.EPIPE) }
            done += n
        }
    }

    func line() throws -> String {
        while true {
            if let end = pending.firstIndex(of: 10) {
                defer { pending.removeFirst(end + 1) }
                return String(decoding: pending[..<end], as: UTF8.self)
            }
            var chunk = [UInt8](repeating: 0, count: 4096)
            let n = chunk.withUnsafeMutableBytes { recv(fd, $0.baseAddress, $0.count, 0) }
            if n == 0 { return "" }
            guard n > 0 else { throw POSIXError(.ETIMEDOUT) }
            pending += chunk[..<n]
        }
    }
}

private final class ErrorLog: @unchecked Sendable {  // safe: `lock` guards `items`
    private let lock = NSLock()
    private var items: [String] = []
    func add(_ item: String) { lock.lock(); items.append(item); lock.unlock() }
    var entries: [String] { lock.lock(); defer { lock.unlock() }; return items }
}
