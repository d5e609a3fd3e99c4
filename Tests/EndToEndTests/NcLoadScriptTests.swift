import Foundation
import Glibc
import XCTest

/// `scripts/nc-load.sh`: scripted `nc -N` clients whose every reply is checked.
final class NcLoadScriptTests: XCTestCase {
    /// The repository root (this file is Tests/EndToEndTests/NcLoadScriptTests.swift).
    private var repositoryRoot: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// Runs the script with `arguments`; it starts the built carriaged itself (CARRIAGED
    /// points it at the binary next to this test bundle, so it never runs `swift build`
    /// while `swift test` holds the build folder).
    private func runScript(_ arguments: [String]) throws -> (status: Int32, output: String) {
        let script = repositoryRoot.appendingPathComponent("scripts/nc-load.sh")
        guard FileManager.default.isExecutableFile(atPath: "/bin/nc") || FileManager.default.isExecutableFile(atPath: "/usr/bin/nc") else {
            throw XCTSkip("nc (netcat-openbsd) is not installed")
        }
        let log = FileManager.default.temporaryDirectory.appendingPathComponent("nc-load-test-\(getpid())-\(UInt32.random(in: 0...UInt32.max)).log")
        _ = FileManager.default.createFile(atPath: log.path, contents: nil)
        defer { try? FileManager.default.removeItem(at: log) }
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = [script.path] + arguments
        var environment = ProcessInfo.processInfo.environment
        environment["CARRIAGED"] = productsDirectory().appendingPathComponent("carriaged").path
        process.environment = environment
        let handle = try FileHandle(forWritingTo: log)
        process.standardOutput = handle
        process.standardError = handle
        let exit = ExitWatch(process)
        try process.run()
        if !exit.wait(timeout: 180) {
            kill(process.processIdentifier, SIGTERM)
            XCTFail("nc-load.sh \(arguments) ran over 180 s")
        }
        process.waitUntilExit()
        return (process.terminationStatus, (try? String(contentsOf: log, encoding: .utf8)) ?? "")
    }

    func testFiveClientsAgainstItsOwnDaemonAllPass() throws {
        let (status, output) = try runScript(["--clients", "5"])
        XCTAssertEqual(status, 0, output)
        // 5 clients plus the shared-counter check.
        XCTAssertTrue(output.split(separator: "\n").contains("nc-load: 6 passed, 0 failed"), output)
        XCTAssertTrue(output.contains("counter 20 as expected"), output)
    }

    func testAServerThatIsNotThereFailsLoudly() throws {
        // Port 1 on loopback: nothing listens there, so every reply is missing.
        let (status, output) = try runScript(["--clients", "2", "--port", "1"])
        XCTAssertEqual(status, 1, output)
        XCTAssertTrue(output.contains("nc-load: 0 passed, 3 failed"), output)
    }
}
