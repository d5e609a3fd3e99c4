import Dispatch
import WorkerPool

/// WorkerPool's `async` `run`, called from tasks: a producer keeps up to `window` runs in
/// flight in a task group (a task awaits its job's result, so one task alone would run
/// one job at a time); paced jobs are awaited one by one, as an idle caller would.
final class WorkerPoolAsyncPeer: Peer, Sendable {
    let pool: WorkerPool
    private let window = 256

    init(workers: Int, capacity: Int) {
        pool = try! WorkerPool(workers: workers, queueCapacity: capacity)
    }

    func submit(_ job: @escaping Job) {
        submit(1, of: job)
    }

    func submit(_ count: Int, of job: @escaping Job) {
        let pool = pool
        let window = window
        blockOn {
            await withTaskGroup(of: Void.self) { group in
                for i in 0..<count {
                    if i >= window { await group.next() }
                    group.addTask { try! await pool.run(job) }
                }
            }
        }
    }

    func submitPaced(_ count: Int, every interval: UInt64, stamp: @escaping (Int) -> Void, job: @escaping (Int) -> Job) {
        // The stamps and jobs are made here, on this thread, in order; the task only runs them.
        nonisolated(unsafe) let stamp = stamp
        nonisolated(unsafe) let job = job
        let pool = pool
        blockOn {
            var deadline = Clock.nanoseconds()
            for i in 0..<count {
                deadline += interval
                Clock.sleep(until: deadline)
                let made = job(i)
                stamp(i)
                try! await pool.run(made)
            }
        }
    }

    func finish() {
        pool.shutdown(.drain)
        pool.join()
    }

    /// Runs `body` in a task and waits for it on this (non-cooperative) thread.
    private func blockOn(_ body: @escaping @Sendable () async -> Void) {
        let done = DispatchSemaphore(value: 0)
        Task {
            await body()
            done.signal()
        }
        done.wait()
    }
}
