import Foundation
import Glibc
import XCTest

/// The directory holding the built executables (`carriaged`, `carriage-load`): the
/// test bundle is built next to them.
func productsDirectory() -> URL {
    let executable = URL(fileURLWithPath: (try? FileManager.default.destinationOfSymbolicLink(atPath: "/proc/self/exe")) ?? CommandLine.arguments[0])
    return executable.deletingLastPathComponent()
}

/// A real `carriaged` process on a kernel-chosen port, for one test.
final class TestDaemon: @unchecked Sendable {  // safe: `log` is guarded by `lock`
    let process = Process()
    private(set) var port = 0
    private let errorPipe = Pipe()
    private let lock = NSLock()
    private var log = Data()
    private let drained = DispatchSemaphore(value: 0)
    /// Signalled on every append to `log`, for `awaitLog`.
    private let logged = NSCondition()
    /// The daemon's exit, as an event.
    let exit: ExitWatch

    var pid: Int32 { process.processIdentifier }
    /// Loop threads it runs.
    let loops: Int

    /// Starts `carriaged --host 127.0.0.1 --port 0 <arguments>` and waits for its
    /// `listening on` line.
    /// `launcher` runs before the daemon (e.g. `prlimit ... --`).
    init(_ arguments: [String] = [], workers: Int = 2, launcher: [String] = [], environment: [String: String] = [:],
         file: StaticString = #filePath, line: UInt = #line) throws {
        let binary = productsDirectory().appendingPathComponent("carriaged").path
        // CARRIAGE_TEST_LOOPS runs every daemon with that many loops (scripts/test.sh does 3).
        var arguments = arguments
        if let loops = ProcessInfo.processInfo.environment["CARRIAGE_TEST_LOOPS"], !arguments.contains("--loops") {
            arguments += ["--loops", loops]
        }
        self.loops = arguments.firstIndex(of: "--loops").flatMap { Int(arguments[$0 + 1]) } ?? 1
        let command = launcher + [binary, "--host", "127.0.0.1", "--port", "0", "--workers", "\(workers)"] + arguments
        process.executableURL = URL(fileURLWithPath: command[0])
        process.arguments = Array(command.dropFirst())
        if !environment.isEmpty {
            process.environment = ProcessInfo.processInfo.environment.merging(environment) { $1 }
        }
        process.standardError = errorPipe
        process.standardOutput = FileHandle.nullDevice
        exit = ExitWatch(process)
        try process.run()
        let reader = errorPipe.fileHandleForReading
        var seen = Data()
        // Reads until the start-up line; EOF first means the daemon died.
        while true {
            let chunk = reader.availableData
            if chunk.isEmpty {
                process.waitUntilExit()
                XCTFail("carriaged exited (\(process.terminationStatus)) before listening: \(String(decoding: seen, as: UTF8.self))", file: file, line: line)
                throw CocoaError(.fileReadUnknown)
            }
            seen.append(chunk)
            let text = String(decoding: seen, as: UTF8.self)
            if let range = text.range(of: #"listening on [^ \n]+:([0-9]+)"#, options: .regularExpression) {
                let match = text[range]
                port = Int(match[match.index(after: match.lastIndex(of: ":")!)...])!
                break
            }
        }
        append(seen)
        // Keep draining standard error so logging never blocks the daemon.
        Thread.detachNewThread { [self] in
            while true {
                let chunk = reader.availableData
                if chunk.isEmpty { break }
                append(chunk)
            }
            drained.signal()
        }
    }

    private func append(_ data: Data) {
        lock.lock(); log.append(data); lock.unlock()
        logged.broadcast()
    }

    /// Waits (at most `timeout` s) until the daemon's standard error contains `text`, at
    /// least `occurrences` times.
    func awaitLog(containing text: String, occurrences: Int = 1, timeout: Double = 5) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        func seen() -> Bool { stderrText.components(separatedBy: text).count - 1 >= occurrences }
        logged.lock()
        defer { logged.unlock() }
        while !seen() {
            if !logged.wait(until: deadline) { return seen() }
        }
        return true
    }

    /// Everything the daemon wrote to standard error so far.
    var stderrText: String {
        lock.lock(); defer { lock.unlock() }
        return String(decoding: log, as: UTF8.self)
    }

    func connect(file: StaticString = #filePath, line: UInt = #line) throws -> LineClient {
        try LineClient(port: port)
    }

    /// Sends `signal` and waits (at most `timeout` s) for the exit; returns the status.
    @discardableResult
    func stop(signal: Int32 = SIGTERM, timeout: Double = 20, file: StaticString = #filePath, line: UInt = #line) -> Int32 {
        if !exit.hasExited { kill(pid, signal) }
        if !exit.wait(timeout: timeout) {
            XCTFail("carriaged did not exit within \(timeout) s of signal \(signal)", file: file, line: line)
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
        _ = drained.wait(timeout: .now() + 5)
        let log = stderrText
        XCTAssertFalse(log.contains("ThreadSanitizer") || log.contains("AddressSanitizer"), "sanitizer report:\n\(log)", file: file, line: line)
        return process.terminationStatus
    }

    /// Stops the daemon and requires a clean exit.
    func stopCleanly(file: StaticString = #filePath, line: UInt = #line) {
        let status = stop(file: file, line: line)
        XCTAssertEqual(status, 0, "carriaged exit status; log:\n\(stderrText)", file: file, line: line)
    }

    deinit {
        if !exit.hasExited {
            kill(pid, SIGKILL)
            process.waitUntilExit()
        }
    }

    /// Runs carriaged to its exit (its output is small: it fits the pipes), failing the
    /// test instead of hanging it when the exit does not come.
    static func runToExit(_ arguments: [String], timeout: Double = 60,
                           file: StaticString = #filePath, line: UInt = #line) throws -> (status: Int32, stderr: String, stdout: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: productsDirectory().appendingPathComponent("carriaged").path)
        process.arguments = arguments
        let errors = Pipe()
        let output = Pipe()
        process.standardError = errors
        process.standardOutput = output
        let exit = ExitWatch(process)
        try process.run()
        if !exit.wait(timeout: timeout) {
            XCTFail("carriaged \(arguments) did not exit within \(timeout) s", file: file, line: line)
            kill(process.processIdentifier, SIGKILL)
        }
        process.waitUntilExit()
        let out = output.fileHandleForReading.readDataToEndOfFile()
        let err = errors.fileHandleForReading.readDataToEndOfFile()
        return (process.terminationStatus, String(decoding: err, as: UTF8.self), String(decoding: out, as: UTF8.self))
    }

    // MARK: /proc views of the daemon

    var threadCount: Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task").count) ?? -1 }
    var fdCount: Int { (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/fd").count) ?? -1 }

    /// The port of memcached's protocol, from its start-up line (started with
    /// `--memcached-port`); nil when it has none.
    var memcachedPort: Int? {
        guard awaitLog(containing: "memcached protocol listening on") else { return nil }
        let text = stderrText
        guard let range = text.range(of: #"memcached protocol listening on [^ \n]+:([0-9]+)"#, options: .regularExpression) else {
            return nil
        }
        let match = text[range]
        return Int(match[match.index(after: match.lastIndex(of: ":")!)...])
    }

    /// VmRSS from /proc/PID/status, in bytes.
    var residentBytes: Int? {
        let status = (try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8)) ?? ""
        guard let line = status.split(separator: "\n").first(where: { $0.hasPrefix("VmRSS:") }),
              let kib = line.split(separator: " ").dropFirst().first.flatMap({ Int($0) }) else { return nil }
        return kib * 1024
    }

    /// Waits (at most `timeout` s) until `count` of the daemon's threads block in a sleep
    /// system call (`SLEEP` running), read from /proc/PID/task/TID/syscall.
    func awaitSleepingThreads(_ count: Int, timeout: Double = 5) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeout)
        repeat {
            let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/\(pid)/task")) ?? []
            let sleeping = tasks.filter { tid in
                let call = (try? String(contentsOfFile: "/proc/\(pid)/task/\(tid)/syscall", encoding: .utf8)) ?? ""
                let number = call.split(separator: " ").first ?? ""
                return number == "35" || number == "230"  // nanosleep, clock_nanosleep
            }
            if sleeping.count >= count { return true }
            usleep(1000)
        } while Date() < deadline
        return false
    }

    /// Resident memory in KiB.
    var rssKiB: Int {
        guard let status = try? String(contentsOfFile: "/proc/\(pid)/status", encoding: .utf8) else { return -1 }
        for line in status.split(separator: "\n") where line.hasPrefix("VmRSS:") {
            return Int(line.split(separator: " ", omittingEmptySubsequences: true)[1]) ?? -1
        }
        return -1
    }

    /// User + system CPU seconds the daemon has used.
    var cpuSeconds: Double {
        guard let stat = try? String(contentsOfFile: "/proc/\(pid)/stat", encoding: .utf8),
              let close = stat.lastIndex(of: ")") else { return -1 }
        let fields = stat[stat.index(after: close)...].split(separator: " ")
        // After the command: state is field 3, utime 14, stime 15 (1-based in proc(5)).
        let ticks = (Double(fields[11]) ?? 0) + (Double(fields[12]) ?? 0)
        return ticks / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
