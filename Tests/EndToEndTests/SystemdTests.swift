import Foundation
import Glibc
import XCTest

/// Running as a systemd service: the unit in scripts/ verifies, and the daemon speaks
/// `Type=notify` through `$NOTIFY_SOCKET`.
final class SystemdTests: XCTestCase {
    private var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    func testTheUnitVerifies() throws {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/systemd-analyze") else {
            throw XCTSkip("systemd-analyze is not installed (Debian's systemd package)")
        }
        var unit = try String(contentsOf: repository.appendingPathComponent("scripts/carriaged.service"), encoding: .utf8)
        // verify checks that ExecStart's binary exists: point it at the one just built.
        unit = unit.replacingOccurrences(of: "/usr/local/bin/carriaged", with: productsDirectory().appendingPathComponent("carriaged").path)
        let directory = NSTemporaryDirectory() + "carriage-unit-\(getpid())"
        try FileManager.default.createDirectory(atPath: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(atPath: directory) }
        let path = directory + "/carriaged.service"
        try unit.write(toFile: path, atomically: true, encoding: .utf8)
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/systemd-analyze")
        process.arguments = ["verify", path]
        let errors = Pipe()
        process.standardError = errors
        process.standardOutput = errors
        try process.run()
        process.waitUntilExit()
        let output = String(decoding: errors.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        XCTAssertEqual(process.terminationStatus, 0, output)
        XCTAssertEqual(output, "", "systemd-analyze verify has something to say")
        XCTAssertTrue(unit.contains("Type=notify"))
        XCTAssertTrue(unit.contains("StateDirectory=carriaged"))
    }

    /// READY=1 once listening, STOPPING=1 when the shutdown begins.
    func testNotifySocketGetsReadyAndStopping() throws {
        let path = NSTemporaryDirectory() + "carriage-notify-\(getpid()).sock"
        unlink(path)
        let fd = socket(AF_UNIX, Int32(SOCK_DGRAM.rawValue), 0)
        XCTAssertGreaterThanOrEqual(fd, 0)
        defer { close(fd); unlink(path) }
        var address = sockaddr_un()
        address.sun_family = sa_family_t(AF_UNIX)
        withUnsafeMutableBytes(of: &address.sun_path) { $0.copyBytes(from: Array(path.utf8)) }
        let bound = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(fd, $0, socklen_t(MemoryLayout<sockaddr_un>.size)) }
        }
        XCTAssertEqual(bound, 0, String(cString: strerror(errno)))
        var timeout = timeval(tv_sec: 10, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        func receive() -> String {
            var buffer = [UInt8](repeating: 0, count: 256)
            let n = recv(fd, &buffer, buffer.count, 0)
            return n > 0 ? String(decoding: buffer[..<n], as: UTF8.self) : "(nothing: \(String(cString: strerror(errno))))"
        }

        let daemon = try TestDaemon([], environment: ["NOTIFY_SOCKET": path])
        XCTAssertEqual(receive(), "READY=1")
        XCTAssertEqual(try daemon.connect().request("PING"), "OK PONG")
        kill(daemon.pid, SIGTERM)
        XCTAssertEqual(receive(), "STOPPING=1")
        XCTAssertEqual(daemon.stop(), 0)
    }
}
