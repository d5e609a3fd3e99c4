import Foundation

/// Awaits a child process's exit as an event: `terminationHandler` signals a semaphore,
/// so a test waits for the exit instead of polling `isRunning`. Make it before `run()`.
final class ExitWatch: @unchecked Sendable {  // safe: `exited` is guarded by `lock`
    private let semaphore = DispatchSemaphore(value: 0)
    private let lock = NSLock()
    private var exited = false

    init(_ process: Process) {
        process.terminationHandler = { [semaphore] _ in semaphore.signal() }
    }

    /// Waits at most `timeout` seconds for the exit; true once the process has exited.
    func wait(timeout: Double) -> Bool {
        lock.lock()
        defer { lock.unlock() }
        if !exited && semaphore.wait(timeout: .now() + timeout) == .success { exited = true }
        return exited
    }

    var hasExited: Bool { wait(timeout: 0) }
}
