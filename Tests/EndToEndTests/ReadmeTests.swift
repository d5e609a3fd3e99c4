import CarriagePosix
import Foundation
import Glibc
import XCTest

/// Every command in the README's `sh` blocks is run here, or names a script and flags that
/// exist: the README cannot drift from what the code does.
final class ReadmeTests: XCTestCase {
    private var repository: URL {
        URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    }

    /// The README's `sh` lines, comments and blank lines dropped.
    private func commands() throws -> [String] {
        let readme = try String(contentsOf: repository.appendingPathComponent("README.md"), encoding: .utf8)
        var inBlock = false
        var lines: [String] = []
        for line in readme.split(separator: "\n", omittingEmptySubsequences: false) {
            if line.hasPrefix("```") {
                inBlock = line == "```sh"
                continue
            }
            guard inBlock else { continue }
            var command = String(line)
            if let comment = command.range(of: #"\s+#\s"#, options: .regularExpression) { command = String(command[..<comment.lowerBound]) }
            command = command.trimmingCharacters(in: .whitespaces)
            if !command.isEmpty && !command.hasPrefix("#") { lines.append(command) }
        }
        return lines
    }

    private func run(_ command: String, timeout: Double = 60) throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command]
        process.currentDirectoryURL = repository
        let output = Pipe()
        process.standardOutput = output
        process.standardError = output
        let exit = ExitWatch(process)
        try process.run()
        let data = output.fileHandleForReading.readDataToEndOfFile()
        if !exit.wait(timeout: timeout) { kill(process.processIdentifier, SIGKILL) }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: data, as: UTF8.self))
    }

    private static func flags(in command: String) -> [String] {
        command.split(separator: " ").map(String.init).filter { $0.hasPrefix("--") }.map { String($0.prefix { $0 != "=" }) }
    }

    func testEveryReadmeCommandRuns() throws {
        OpenFileLimit.raise()
        let commands = try commands()
        XCTAssertGreaterThan(commands.count, 20, "the README's sh blocks were not found")
        let daemon = try TestDaemon(["--memcached-port", "0"])
        defer { daemon.stopCleanly() }
        let port = daemon.port
        let memcachedPort = try XCTUnwrap(daemon.memcachedPort)
        let binaries = productsDirectory().path
        let daemonHelp = try run("\(binaries)/carriaged --help").output

        for command in commands {
            let words = command.split(separator: " ").map(String.init)
            switch words[0] {
            case let script where script.hasPrefix("scripts/"):
                // A script that exists, with the flags it is shown with (run.sh passes its
                // flags to carriaged).
                let path = repository.appendingPathComponent(script).path
                XCTAssertTrue(FileManager.default.isExecutableFile(atPath: path), "README runs \(script), which is not an executable script")
                let text = (try? String(contentsOfFile: path, encoding: .utf8)) ?? ""
                for flag in Self.flags(in: command) {
                    let known = script == "scripts/run.sh" ? daemonHelp.contains(flag) : text.contains(flag)
                    XCTAssertTrue(known, "README: \(command): \(script) has no \(flag)")
                }
            case "printf":
                // Run for real against the test daemon.
                let line = command.replacingOccurrences(of: " 8000", with: " \(port)")
                    .replacingOccurrences(of: " 11211", with: " \(memcachedPort)")
                let result = try run(line)
                XCTAssertEqual(result.status, 0, "README: \(command): \(result.output)")
                XCTAssertFalse(result.output.isEmpty, "README: \(command): no reply")
                XCTAssertFalse(result.output.contains("ERR") || result.output.contains("ERROR"), "README: \(command): \(result.output)")
            case "carriage-load":
                // Run for real, shortened: a second of load, a few thousand requests, a few
                // hundred idle connections.
                var arguments: [String] = []
                var index = 1
                var hasPort = false
                var hasLength = false
                while index < words.count {
                    let word = words[index]
                    let value = index + 1 < words.count ? words[index + 1] : ""
                    switch word {
                    case "--port":
                        arguments += ["--port", value == "11211" ? "\(memcachedPort)" : "\(port)"]
                        hasPort = true
                        index += 2
                    case "--duration":
                        arguments += ["--duration", "1"]
                        hasLength = true
                        index += 2
                    case "--requests":
                        arguments += ["--requests", "2000"]
                        hasLength = true
                        index += 2
                    case "--idle":
                        arguments += ["--idle", "200"]
                        index += 2
                    default:
                        arguments.append(word)
                        index += 1
                    }
                }
                if !hasPort { arguments += ["--port", "\(port)"] }
                if !hasLength { arguments += ["--duration", "1"] }
                let result = try run("\(binaries)/carriage-load " + arguments.joined(separator: " "))
                XCTAssertEqual(result.status, 0, "README: \(command): \(result.output)")
            case "swift", "export", "man":
                // Build and shell steps, run by scripts/test.sh and scripts/docs.sh.
                break
            default:
                XCTFail("README: '\(command)' is neither run here nor a known step: add it to ReadmeTests")
            }
        }
    }
}
