import Foundation
import Glibc
import XCTest

@testable import WorkerPool

/// `WorkerPool.run`: blocking work from Swift concurrency, with no cooperative thread
/// blocked.
final class WorkerPoolAsyncTests: XCTestCase {
    private struct Boom: Error, Equatable {}

    func testRunReturnsTheValueOrRethrows() async throws {
        let pool = try WorkerPool(workers: 2, queueCapacity: 4)
        let name = try await pool.run { WorkerPool.currentWorker.map { "worker \($0)" } ?? "not a worker" }
        XCTAssertTrue(name.hasPrefix("worker "), name)
        do {
            _ = try await pool.run { () throws -> Int in throw Boom() }
            XCTFail("no error")
        } catch {
            XCTAssertEqual(error as? Boom, Boom())
        }
        // The caller is resumed before the worker counts the job: count once it is done.
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(pool.stats.failed, 1)
    }

    /// 10,000 tasks at once on a pool whose queue holds 8: every one gets its own value.
    func testTenThousandTasksOnAQueueOfEight() async throws {
        let pool = try WorkerPool(workers: 2, queueCapacity: 8)
        defer { pool.shutdown(.drain); pool.join() }
        let sum = try await withThrowingTaskGroup(of: Int.self) { group in
            for i in 0..<10_000 {
                group.addTask { try await pool.run { i * 2 } }
            }
            return try await group.reduce(0, +)
        }
        XCTAssertEqual(sum, 2 * (0..<10_000).reduce(0, +))
        XCTAssertEqual(pool.stats.completed, 10_000)
    }

    /// With every worker blocked and the queue full, more `run` calls suspend their tasks
    /// and block no thread: other tasks still run meanwhile.
    func testAFullQueueSuspendsTheTaskAndBlocksNoThread() async throws {
        let pool = try WorkerPool(workers: 1, queueCapacity: 2)
        let gate = Gate()
        XCTAssertTrue(pool.trySubmit { gate.wait() })
        let callers = 200  // far more than the cooperative pool has threads
        let results = Task {
            try await withThrowingTaskGroup(of: Int.self) { group in
                for i in 0..<callers { group.addTask { try await pool.run { i } } }
                return try await group.reduce(0, +)
            }
        }
        // If those tasks blocked their threads, nothing else could run now: the test would
        // hang, so a watchdog thread ends it instead.
        let done = DispatchSemaphore(value: 0)
        Thread.detachNewThread {
            if done.wait(timeout: .now() + 30) == .timedOut {
                fatalError("no task could run: WorkerPool.run blocked the cooperative threads")
            }
        }
        let other = await Task { 42 }.value
        done.signal()
        XCTAssertEqual(other, 42)
        gate.open()
        let sum = try await results.value
        XCTAssertEqual(sum, (0..<callers).reduce(0, +))
        pool.shutdown(.drain)
        pool.join()
    }

    /// Cancelled before its job starts: `CancellationError`, and the job never runs.
    func testCancellingBeforeTheJobStartsRemovesIt() async throws {
        let pool = try WorkerPool(workers: 1, queueCapacity: 1)
        let gate = Gate()
        XCTAssertTrue(pool.trySubmit { gate.wait() })
        let ran = Counters(count: 1)
        let queued = Task { try await pool.run { ran.increment(0) } }        // in the ring
        let behind = Task { try await pool.run { ran.increment(0) } }        // behind the ring
        while pool.stats.queued < 1 { await Task.yield() }
        queued.cancel()
        behind.cancel()
        for task in [queued, behind] {
            do {
                try await task.value
                XCTFail("not cancelled")
            } catch {
                XCTAssertTrue(error is CancellationError, "\(error)")
            }
        }
        // An already cancelled task's job is not queued at all.
        let early = Task {
            withUnsafeCurrentTask { $0?.cancel() }
            return try await pool.run { ran.increment(0) }
        }
        do {
            try await early.value
            XCTFail("not cancelled")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        gate.open()
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(ran.values(), [0], "a cancelled job ran")
    }

    /// A `run` cancelled while it waits behind a full ring leaves the accounting right:
    /// a submitter blocked after it still gets in once slots free, and the cancelled job
    /// never runs.
    func testACancelledRunLeavesTheNextSubmitterItsSlot() async throws {
        let pool = try WorkerPool(workers: 1, queueCapacity: 1)
        let gate = try holdAWorker(of: pool)
        try pool.submit {}
        let ran = Counters(count: 2)
        let behind = Task { try await pool.run { ran.increment(0) } }
        behind.cancel()
        do {
            try await behind.value
            XCTFail("not cancelled")
        } catch {
            XCTAssertTrue(error is CancellationError, "\(error)")
        }
        let submitted = Gate()
        Thread.detachNewThread {
            try! pool.submit { ran.increment(1) }
            submitted.open()
        }
        XCTAssertTrue(awaitStats(of: pool) { $0.waitingSubmitters == 1 })
        gate.open()
        XCTAssertTrue(submitted.wait(timeoutSeconds: 10), "\(pool.stats)")
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(ran.values(), [0, 1])
        XCTAssertEqual(pool.stats.waitingSubmitters, 0)
        XCTAssertEqual(pool.stats.queued, 0)
    }

    func testAfterShutdownItThrows() async throws {
        let pool = try WorkerPool(workers: 1, queueCapacity: 1)
        pool.shutdown(.drain)
        pool.join()
        do {
            _ = try await pool.run { 1 }
            XCTFail("ran after shutdown")
        } catch {
            XCTAssertEqual(error as? WorkerPoolError, .shutDown)
        }
    }

    /// Jobs a discarding shutdown drops fail their callers instead of leaving them waiting.
    func testADiscardingShutdownFailsTheWaitingCallers() async throws {
        let pool = try WorkerPool(workers: 1, queueCapacity: 1)
        let gate = Gate()
        XCTAssertTrue(pool.trySubmit { gate.wait() })
        let tasks = (0..<5).map { i in Task { try await pool.run { i } } }
        while pool.stats.queued < 1 { await Task.yield() }
        pool.shutdown(.discardPending)
        gate.open()
        pool.join()
        // None ran: queued ones were dropped, later ones found the pool shut down.
        for task in tasks {
            do {
                let value = try await task.value
                XCTFail("job \(value) ran after a discarding shutdown")
            } catch {
                XCTAssertEqual(error as? WorkerPoolError, .shutDown)
            }
        }
    }
}
