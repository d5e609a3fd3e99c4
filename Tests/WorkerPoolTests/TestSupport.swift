import Foundation
import Glibc
import WorkerPool

/// A lock-protected array of counters; the test's own shared state.
final class Counters: @unchecked Sendable {  // safe: every access holds `lock`
    private let lock = NSLock()
    private var storage: [Int]
    init(count: Int) { storage = [Int](repeating: 0, count: count) }
    func increment(_ i: Int) { lock.lock(); storage[i] += 1; lock.unlock() }
    func decrement(_ i: Int) { lock.lock(); storage[i] -= 1; lock.unlock() }
    func set(_ i: Int, to value: Int) { lock.lock(); storage[i] = value; lock.unlock() }
    func values() -> [Int] { lock.lock(); defer { lock.unlock() }; return storage }
}

final class Log: @unchecked Sendable {  // safe: every access holds `lock`
    private let lock = NSLock()
    private var storage: [Int] = []
    func append(_ v: Int) { lock.lock(); storage.append(v); lock.unlock() }
    var entries: [Int] { lock.lock(); defer { lock.unlock() }; return storage }
}

final class NameLog: @unchecked Sendable {  // safe: every access holds `lock`
    private let lock = NSLock()
    private var storage: [String] = []
    func append(_ v: String) { lock.lock(); storage.append(v); lock.unlock() }
    var entries: [String] { lock.lock(); defer { lock.unlock() }; return storage }
}

final class ResultBox: @unchecked Sendable {  // safe: every access holds `lock`
    private let lock = NSLock()
    private var storage = ""
    func set(_ v: String) { lock.lock(); storage = v; lock.unlock() }
    var value: String { lock.lock(); defer { lock.unlock() }; return storage }
}

/// A one-shot latch: `wait` returns once `open` has been called.
final class Gate: @unchecked Sendable {  // safe: NSCondition guards `isOpen`
    private let condition = NSCondition()
    private var isOpen = false
    func open() { condition.lock(); isOpen = true; condition.broadcast(); condition.unlock() }
    func wait() { _ = wait(timeoutSeconds: 3600) }
    @discardableResult
    func wait(timeoutSeconds: Double) -> Bool {
        let deadline = Date(timeIntervalSinceNow: timeoutSeconds)
        condition.lock()
        defer { condition.unlock() }
        while !isOpen {
            if !condition.wait(until: deadline) { return isOpen }
        }
        return true
    }
}

/// Releases its callers once `count` of them have arrived.
final class Barrier: @unchecked Sendable {  // safe: NSCondition guards `arrived`
    private let condition = NSCondition()
    private var arrived = 0
    private let count: Int
    init(count: Int) { self.count = count }
    func arrive() {
        condition.lock()
        arrived += 1
        condition.broadcast()
        while arrived < count { condition.wait() }
        condition.unlock()
    }
}

/// Whether the threads named `<prefix>-*` are gone from /proc/self/task. The kernel
/// drops a thread's entry a moment after `pthread_join` returns (the join wakes at the
/// thread's exit, before the task is reaped), so this waits up to two seconds for it.
func awaitNoThreads(named prefix: String) -> Bool {
    let deadline = Date(timeIntervalSinceNow: 2)
    while threadCount(named: prefix) > 0 {
        if Date() > deadline { return false }
        sched_yield()
    }
    return true
}

/// Holds one of `pool`'s workers in a job until the returned gate opens; returns once the
/// job runs.
func holdAWorker(of pool: WorkerPool) throws -> Gate {
    let gate = Gate()
    let started = Gate()
    try pool.submit { started.open(); gate.wait() }
    started.wait()
    return gate
}

/// Polls the pool's stats until `condition` holds (there is no event to wait on for
/// "blocked in submit"); false after ten seconds.
func awaitStats(of pool: WorkerPool, _ condition: (WorkerPool.Stats) -> Bool) -> Bool {
    let deadline = Date(timeIntervalSinceNow: 10)
    while !condition(pool.stats) {
        if Date() > deadline { return false }
        usleep(1_000)
    }
    return true
}

/// Threads of this process named `<prefix>-<index>`.
func threadCount(named prefix: String) -> Int {
    taskNames().filter { $0.hasPrefix(prefix + "-") }.count
}

func taskNames() -> [String] {
    let tasks = (try? FileManager.default.contentsOfDirectory(atPath: "/proc/self/task")) ?? []
    return tasks.compactMap { tid in
        (try? String(contentsOfFile: "/proc/self/task/\(tid)/comm", encoding: .utf8)).map(dropKernelNewline)
    }
}

func currentThreadName() -> String {
    dropKernelNewline((try? String(contentsOfFile: "/proc/thread-self/comm", encoding: .utf8)) ?? "")
}

/// The kernel ends `comm` with one newline; anything else is part of the name.
private func dropKernelNewline(_ comm: String) -> String {
    comm.hasSuffix("\n") ? String(comm.dropLast()) : comm
}
