import Glibc
import WorkerPool
import XCTest

final class WorkerPoolTests: XCTestCase {
    // MARK: Counting

    func testEveryJobRunsExactlyOnceFromEightSubmitters() throws {
        let jobsPerSubmitter = 12_500
        let submitters = 8
        let pool = try WorkerPool(workers: 4, queueCapacity: 256)
        let runs = Counters(count: submitters * jobsPerSubmitter)
        let done = DispatchGroup()
        for s in 0..<submitters {
            done.enter()
            Thread.detachNewThread {
                for i in 0..<jobsPerSubmitter {
                    let slot = s * jobsPerSubmitter + i
                    try! pool.submit { runs.increment(slot) }
                }
                done.leave()
            }
        }
        done.wait()
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(runs.values(), [Int](repeating: 1, count: submitters * jobsPerSubmitter))
        let stats = pool.stats
        XCTAssertEqual(stats.completed, 100_000)
        XCTAssertEqual(stats.completedPerWorker.reduce(0, +), stats.completed)
        XCTAssertEqual(stats.failed, 0)
        XCTAssertEqual(stats.queued, 0)
        XCTAssertEqual(stats.busy, 0)
    }

    func testBatchSubmitRunsEveryJobOnceEvenWhenLargerThanTheQueue() throws {
        let pool = try WorkerPool(workers: 3, queueCapacity: 7)
        let runs = Counters(count: 1000)
        let jobs: [WorkerPool.Job] = (0..<1000).map { i in { runs.increment(i) } }
        try pool.submit(contentsOf: jobs)
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(runs.values(), [Int](repeating: 1, count: 1000))
        XCTAssertEqual(pool.stats.completed, 1000)
    }

    func testBatchSubmitOfItemsRunsEachItemsJobInOrder() throws {
        final class Item: Sendable {
            let job: WorkerPool.Job
            init(_ i: Int, _ log: Log) { job = { log.append(i) } }
        }
        let log = Log()
        let items = (0..<300).map { Item($0, log) }
        let pool = try WorkerPool(workers: 1, queueCapacity: 16)
        try pool.submit(contentsOf: items) { $0.job }
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(log.entries, Array(0..<300))
    }

    /// The batch closure runs outside the pool's lock: it may submit to the same pool
    /// (with the lock held, this deadlocked).
    func testBatchClosureMaySubmitToThePool() throws {
        let pool = try WorkerPool(workers: 2, queueCapacity: 256)
        let runs = Counters(count: 200)
        try pool.submit(contentsOf: Array(0..<100)) { i -> WorkerPool.Job in
            try! pool.submit { runs.increment(100 + i) }
            return { runs.increment(i) }
        }
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(runs.values(), [Int](repeating: 1, count: 200))
    }

    /// An indexed job is told the index of the worker that runs it, the same index the
    /// pool counts its work under.
    func testIndexedJobsAreToldTheirWorker() throws {
        let pool = try WorkerPool(workers: 3, queueCapacity: 64)
        let perWorker = Counters(count: 3)
        let mismatches = Counters(count: 1)
        for _ in 0..<300 {
            try pool.submit(indexed: { worker in
                perWorker.increment(worker)
                if WorkerPool.currentWorker != worker { mismatches.increment(0) }
            })
        }
        try pool.submit(contentsOf: Array(0..<300), indexedJob: { _ in { worker in perWorker.increment(worker) } })
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(mismatches.values(), [0])
        XCTAssertEqual(perWorker.values(), pool.stats.completedPerWorker)
        XCTAssertEqual(perWorker.values().reduce(0, +), 600)
    }

    /// Jobs made by a batch closure after a shutdown are released, not leaked or run.
    func testBatchAfterShutdownThrowsAndRunsNothing() throws {
        let pool = try WorkerPool(workers: 1, queueCapacity: 4)
        pool.shutdown(.drain)
        let runs = Counters(count: 1)
        XCTAssertThrowsError(try pool.submit(contentsOf: Array(0..<100)) { _ in { runs.increment(0) } }) {
            XCTAssertEqual($0 as? WorkerPoolError, .shutDown)
        }
        pool.join()
        XCTAssertEqual(runs.values(), [0])
    }

    /// The seed lesson: 100 jobs each decrement a shared counter under a lock.
    func testLockedDecrementsLoseNothing() throws {
        let pool = try WorkerPool(workers: 8, queueCapacity: 16)
        let counter = Counters(count: 1)
        counter.set(0, to: 101)
        for _ in 0..<100 { try pool.submit { counter.decrement(0) } }
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(counter.values(), [1])
    }

    // MARK: Order

    func testOneWorkerRunsJobsInSubmissionOrder() throws {
        let pool = try WorkerPool(workers: 1, queueCapacity: 10)
        let log = Log()
        for i in 0..<500 { try pool.submit { log.append(i) } }
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(log.entries, Array(0..<500))
        XCTAssertEqual(pool.stats.completedPerWorker, [500])
    }

    // MARK: Backpressure

    func testSubmitWaitsWhileFullAndTrySubmitRefusesAtOnce() throws {
        let pool = try WorkerPool(workers: 1, queueCapacity: 2)
        let gate = try holdAWorker(of: pool)  // the only one
        try pool.submit {}
        try pool.submit {}                                 // queue now full (2 of 2)
        XCTAssertEqual(pool.stats.queued, 2)

        XCTAssertFalse(pool.trySubmit {})
        XCTAssertEqual(pool.stats.rejected, 1)

        let submitted = Gate()
        Thread.detachNewThread {
            try! pool.submit {}
            submitted.open()
        }
        // The blocked submitter cannot finish while the worker is held...
        XCTAssertFalse(submitted.wait(timeoutSeconds: 0.2))
        // ...and finishes once the worker frees a slot.
        gate.open()
        XCTAssertTrue(submitted.wait(timeoutSeconds: 10))
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(pool.stats.completed, 4)
    }

    /// Eight producers blocked on a full 4-slot queue while two workers drain 100,000
    /// jobs: every job runs once, and no submitter is left waiting (a freed slot wakes a
    /// waiting submitter once, and a woken one is no longer counted as waiting).
    func testEightProducersOnAFullFourSlotQueueAllGetThrough() throws {
        let producers = 8
        let jobsPerProducer = 12_500
        let pool = try WorkerPool(workers: 2, queueCapacity: 4)
        let gate = Gate()
        let holding = Barrier(count: 3)
        for _ in 0..<2 { try pool.submit { holding.arrive(); gate.wait() } }
        holding.arrive()
        for _ in 0..<4 { try pool.submit {} }
        let runs = Counters(count: producers * jobsPerProducer)
        let done = DispatchGroup()
        for p in 0..<producers {
            done.enter()
            Thread.detachNewThread {
                for i in 0..<jobsPerProducer {
                    let slot = p * jobsPerProducer + i
                    try! pool.submit { runs.increment(slot) }
                }
                done.leave()
            }
        }
        XCTAssertTrue(awaitStats(of: pool) { $0.waitingSubmitters == producers }, "\(pool.stats)")
        gate.open()
        XCTAssertEqual(done.wait(timeout: .now() + 120), .success, "a submitter was left waiting: \(pool.stats)")
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(runs.values(), [Int](repeating: 1, count: producers * jobsPerProducer))
        let stats = pool.stats
        XCTAssertEqual(stats.completed, 2 + 4 + producers * jobsPerProducer)
        XCTAssertEqual(stats.waitingSubmitters, 0)
        XCTAssertEqual(stats.queued, 0)
        XCTAssertEqual(stats.queueSlots, 4)
    }

    /// A `trySubmit` refused on a full queue takes nothing from the accounting: the next
    /// blocked submitter is still woken by the next freed slot.
    func testARefusedTrySubmitLeavesTheNextSubmitterItsWakeUp() throws {
        let pool = try WorkerPool(workers: 1, queueCapacity: 1)
        let gate = try holdAWorker(of: pool)
        try pool.submit {}
        for _ in 0..<3 { XCTAssertFalse(pool.trySubmit {}) }
        let ran = Counters(count: 1)
        let submitted = Gate()
        Thread.detachNewThread {
            try! pool.submit { ran.increment(0) }
            submitted.open()
        }
        XCTAssertTrue(awaitStats(of: pool) { $0.waitingSubmitters == 1 })
        XCTAssertFalse(pool.trySubmit {})
        gate.open()
        XCTAssertTrue(submitted.wait(timeoutSeconds: 10), "\(pool.stats)")
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(ran.values(), [1])
        let stats = pool.stats
        XCTAssertEqual(stats.rejected, 4)
        XCTAssertEqual(stats.completed, 3)
        XCTAssertEqual(stats.waitingSubmitters, 0)
    }

    // MARK: Growing

    /// A million-slot queue starts at 16 slots and doubles as jobs wait, keeping their
    /// order and kind across the wrap of the ring (with timings, their queue times too).
    func testTheRingGrowsOnDemandAndKeepsTheOrder() throws {
        for timings in [false, true] {
            let pool = try WorkerPool(workers: 1, queueCapacity: 1_000_000, measuresTimings: timings)
            XCTAssertEqual(pool.stats.queueSlots, 16)
            // The held job leaves the ring's head at 1, so the queue wraps before it grows.
            let gate = try holdAWorker(of: pool)
            let log = Log()
            for i in 0..<100 {
                // Plain and indexed jobs alike: each slot remembers which it holds.
                if i % 3 == 0 {
                    try pool.submit(indexed: { worker in log.append(i + 1_000 * (worker + 1)) })
                } else {
                    try pool.submit { log.append(i) }
                }
            }
            XCTAssertEqual(pool.stats.queueSlots, 128)
            XCTAssertEqual(pool.stats.queued, 100)
            gate.open()
            pool.shutdown(.drain)
            pool.join()
            XCTAssertEqual(log.entries, (0..<100).map { $0 % 3 == 0 ? $0 + 1_000 : $0 })
            if timings {
                XCTAssertEqual(pool.timings?.queueWait.count, 101)
            }
        }
    }

    // MARK: Shutdown

    func testDrainRunsWhatIsQueued() throws {
        let pool = try WorkerPool(workers: 1, queueCapacity: 100)
        let gate = Gate()
        let runs = Counters(count: 1)
        try pool.submit { gate.wait() }
        for _ in 0..<50 { try pool.submit { runs.increment(0) } }
        pool.shutdown(.drain)
        XCTAssertThrowsError(try pool.submit {}) { XCTAssertEqual($0 as? WorkerPoolError, .shutDown) }
        XCTAssertFalse(pool.trySubmit {})
        gate.open()
        pool.join()
        XCTAssertEqual(runs.values(), [50])
        XCTAssertEqual(pool.stats.completed, 51)
        XCTAssertEqual(pool.stats.discarded, 0)
    }

    func testDiscardPendingDropsWhatIsQueuedAndFinishesWhatRuns() throws {
        let pool = try WorkerPool(workers: 1, queueCapacity: 100)
        let gate = Gate()
        let started = Gate()
        let runs = Counters(count: 2)
        try pool.submit { started.open(); gate.wait(); runs.increment(0) }
        for _ in 0..<50 { try pool.submit { runs.increment(1) } }
        started.wait()
        pool.shutdown(.discardPending)
        XCTAssertThrowsError(try pool.submit {})
        gate.open()
        pool.join()
        XCTAssertEqual(runs.values(), [1, 0])
        let stats = pool.stats
        XCTAssertEqual(stats.completed, 1)
        XCTAssertEqual(stats.discarded, 50)
        XCTAssertEqual(stats.queued, 0)
    }

    /// Either shutdown wakes every submitter blocked on a full queue, each with
    /// `shutDown`, and leaves none counted as waiting.
    func testShutdownInEitherModeWakesEveryBlockedSubmitter() throws {
        for mode in [WorkerPool.ShutdownMode.drain, .discardPending] {
            let pool = try WorkerPool(workers: 1, queueCapacity: 2)
            let gate = try holdAWorker(of: pool)
            try pool.submit {}
            try pool.submit {}
            let errors = Log()
            let done = DispatchGroup()
            for _ in 0..<5 {
                done.enter()
                Thread.detachNewThread {
                    do { try pool.submit {} } catch { errors.append(error as? WorkerPoolError == .shutDown ? 1 : 0) }
                    done.leave()
                }
            }
            XCTAssertTrue(awaitStats(of: pool) { $0.waitingSubmitters == 5 }, "\(mode)")
            pool.shutdown(mode)
            XCTAssertEqual(done.wait(timeout: .now() + 10), .success, "\(mode): a submitter still waits")
            XCTAssertEqual(errors.entries, [1, 1, 1, 1, 1], "\(mode)")
            XCTAssertEqual(pool.stats.waitingSubmitters, 0)
            gate.open()
            pool.join()
            let stats = pool.stats
            XCTAssertEqual(stats.completed, mode == .drain ? 3 : 1, "\(mode)")
            XCTAssertEqual(stats.discarded, mode == .drain ? 0 : 2, "\(mode)")
        }
    }

    // Threads are counted by the pool's own name: other threads of the test process
    // (Dispatch's, or those of earlier tests still exiting) come and go on their own.

    func testJoinLeavesNoThreadBehind() throws {
        XCTAssertEqual(threadCount(named: "joincheck"), 0)
        let pool = try WorkerPool(workers: 6, queueCapacity: 6, name: "joincheck")
        try awaitEveryWorker(of: pool)
        XCTAssertEqual(threadCount(named: "joincheck"), 6)
        for _ in 0..<100 { try pool.submit {} }
        pool.shutdown(.drain)
        pool.join()
        pool.join()  // a second join is harmless
        XCTAssertTrue(awaitNoThreads(named: "joincheck"))
    }

    func testJoinWaitsForRunningJobs() throws {
        let pool = try WorkerPool(workers: 2, queueCapacity: 4)
        let gate = try holdAWorker(of: pool)
        pool.shutdown(.drain)
        let joined = Gate()
        Thread.detachNewThread {
            pool.join()
            joined.open()
        }
        XCTAssertFalse(joined.wait(timeoutSeconds: 0.2), "join returned while a job still ran")
        gate.open()
        XCTAssertTrue(joined.wait(timeoutSeconds: 10))
    }

    func testDroppingThePoolJoinsItsThreads() throws {
        do {
            let pool = try WorkerPool(workers: 3, queueCapacity: 4, name: "dropcheck")
            try awaitEveryWorker(of: pool)
            XCTAssertEqual(threadCount(named: "dropcheck"), 3)
            try pool.submit {}
        }
        XCTAssertTrue(awaitNoThreads(named: "dropcheck"))
    }

    /// Returns once every worker of `pool` runs a job at the same time, so every one has
    /// started (and named itself).
    private func awaitEveryWorker(of pool: WorkerPool) throws {
        let barrier = Barrier(count: pool.workerCount)
        let all = DispatchGroup()
        for _ in 0..<pool.workerCount {
            all.enter()
            try pool.submit { barrier.arrive(); all.leave() }
        }
        all.wait()
    }

    // MARK: Failures

    func testAThrowingJobIsCountedAndTheWorkerGoesOn() throws {
        struct Boom: Error {}
        let pool = try WorkerPool(workers: 1, queueCapacity: 10)
        let runs = Counters(count: 1)
        try pool.submit { throw Boom() }
        try pool.submit { runs.increment(0) }
        try pool.submit { throw Boom() }
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(runs.values(), [1])
        XCTAssertEqual(pool.stats.failed, 2)
        XCTAssertEqual(pool.stats.completed, 3)
    }

    func testInvalidSizesThrowInsteadOfTrapping() {
        XCTAssertThrowsError(try WorkerPool(workers: 0, queueCapacity: 1)) {
            XCTAssertEqual($0 as? WorkerPoolError, .invalidWorkerCount(0))
        }
        XCTAssertThrowsError(try WorkerPool(workers: 1, queueCapacity: 0)) {
            XCTAssertEqual($0 as? WorkerPoolError, .invalidQueueCapacity(0))
        }
        XCTAssertThrowsError(try WorkerPool(workers: 1, queueCapacity: 1, idleSpin: .microseconds(-1))) {
            XCTAssertEqual($0 as? WorkerPoolError, .invalidIdleSpin(.microseconds(-1)))
            XCTAssertTrue("\($0)".contains(".zero"), "\($0)")
        }
    }

    // MARK: Watching an empty queue

    /// Once its job is counted the worker is watching (it starts to in the same critical
    /// section), for 30 s: a job queued now must reach it through the watch, or it would
    /// wait out the 30 s (no sleeper is signalled while a worker watches).
    func testAJobQueuedWhileAWorkerWatchesStartsWithoutWaitingOutTheWatch() throws {
        let pool = try WorkerPool(workers: 1, queueCapacity: 4, idleSpin: .seconds(30))
        for round in 1...3 {
            let ran = Gate()
            try pool.submit { ran.open() }
            XCTAssertTrue(ran.wait(timeoutSeconds: 10), "round \(round)")
            XCTAssertTrue(awaitStats(of: pool) { $0.completed == round && $0.busy == 0 })
        }
        pool.shutdown(.drain)
        pool.join()
    }

    func testAShutdownEndsAWorkersWatchAtOnce() throws {
        let pool = try WorkerPool(workers: 2, queueCapacity: 4, idleSpin: .seconds(30))
        try pool.submit {}
        XCTAssertTrue(awaitStats(of: pool) { $0.completed == 1 && $0.busy == 0 })
        let started = Date()
        pool.shutdown(.drain)
        pool.join()
        XCTAssertLessThan(Date().timeIntervalSince(started), 10, "join waited out the 30 s watch")
    }

    func testAPoolThatDoesNotWatchStillRunsEveryJob() throws {
        let pool = try WorkerPool(workers: 2, queueCapacity: 4, idleSpin: .zero)
        let runs = Counters(count: 1)
        for _ in 0..<1_000 { try pool.submit { runs.increment(0) } }
        let ran = Gate()
        try pool.submit { ran.open() }
        XCTAssertTrue(ran.wait(timeoutSeconds: 10))
        pool.shutdown(.drain)
        pool.join()
        XCTAssertEqual(runs.values(), [1_000])
    }

    // MARK: Identity

    func testThreadsAreNamedAndKnowTheirIndex() throws {
        let pool = try WorkerPool(workers: 2, queueCapacity: 4, name: "io")
        XCTAssertNil(WorkerPool.currentWorker)
        let seen = Log()
        let names = NameLog()
        let both = DispatchGroup()
        // Hold each worker until both have a job, so both indices show.
        let barrier = Barrier(count: 2)
        for _ in 0..<2 {
            both.enter()
            try pool.submit {
                barrier.arrive()
                seen.append(WorkerPool.currentWorker ?? -1)
                names.append(currentThreadName())
                both.leave()
            }
        }
        both.wait()
        XCTAssertEqual(seen.entries.sorted(), [0, 1])
        XCTAssertEqual(names.entries.sorted(), ["io-0", "io-1"])
        let comms = taskNames()
        XCTAssertTrue(comms.contains("io-0") && comms.contains("io-1"), "\(comms)")
        pool.shutdown(.drain)
        pool.join()
    }
}
