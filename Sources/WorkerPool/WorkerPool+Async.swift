import Synchronization

extension WorkerPool {
    /// Runs `body` on a worker and returns its value, or rethrows its error: blocking work
    /// (file I/O, a C library, a long computation) called from Swift concurrency without
    /// blocking one of its cooperative threads.
    ///
    /// The calling task suspends until the job has run. When the queue is full, the job
    /// waits in line behind it (oldest first, ahead of blocked ``submit(_:)`` callers) and
    /// the task stays suspended: no thread blocks, whatever the number of tasks.
    ///
    /// ```swift
    /// let pool = try WorkerPool(workers: 4, queueCapacity: 64)
    /// let digest = try await pool.run { try sha256(contentsOf: path) }  // blocking I/O
    /// ```
    ///
    /// - Throws: what `body` throws; `CancellationError` when the task is cancelled before
    ///   the job starts (it then never runs; once started, it runs to its end); and
    ///   ``WorkerPoolError/shutDown`` after ``shutdown(_:)``, or when a
    ///   ``ShutdownMode/discardPending`` shutdown drops the job.
    public func run<Value: Sendable>(_ body: @escaping @Sendable () throws -> Value) async throws -> Value {
        let job = AsyncJob<Value>()
        return try await withTaskCancellationHandler {
            try await withCheckedThrowingContinuation { (continuation: CheckedContinuation<Value, any Error>) in
                guard job.arm(continuation) else { return }  // cancelled already: resumed
                // Only the queued closure holds the ticket: dropped unrun, it fails the job.
                let ticket = AsyncJob.Ticket(job)
                if !queue.submitWithoutWaiting(.plain({ try ticket.job.run(body) })) {
                    job.fail(WorkerPoolError.shutDown)
                }
            }
        } onCancel: {
            job.cancel()
        }
    }
}

/// One `run` call's job and its continuation, resumed exactly once: by the worker that
/// runs the job, by a cancellation before it starts, or, for a job dropped unrun (a
/// discarding shutdown), when the queue lets its ``Ticket`` go.
///
/// `@unchecked Sendable`: `continuation` is written once, before `state` becomes `armed`
/// (a releasing store), and read only by whoever then wins the one compare-and-swap away
/// from `armed` (acquiring).
final class AsyncJob<Value: Sendable>: @unchecked Sendable {
    private enum State: UInt8, AtomicRepresentable {
        /// Made; no continuation yet.
        case new
        /// Cancelled before it had a continuation: `arm` resumes it.
        case cancelledEarly
        /// Waiting to run, its continuation set.
        case armed
        /// Resumed, or being run by a worker (which resumes it).
        case taken
    }

    /// What the queued closure holds: when the queue releases it, run or not, the job
    /// is failed with `shutDown`, which does nothing to a job already resumed.
    final class Ticket: Sendable {
        let job: AsyncJob

        init(_ job: AsyncJob) {
            self.job = job
        }

        deinit {
            job.fail(WorkerPoolError.shutDown)
        }
    }

    private let state = Atomic<State>(.new)
    private var continuation: CheckedContinuation<Value, any Error>?

    init() {}

    /// Sets the continuation. False when the task was cancelled first: it is resumed with
    /// `CancellationError` here, and must not be queued.
    func arm(_ continuation: CheckedContinuation<Value, any Error>) -> Bool {
        self.continuation = continuation
        let (armed, _) = state.compareExchange(expected: .new, desired: .armed, ordering: .acquiringAndReleasing)
        if !armed { continuation.resume(throwing: CancellationError()) }
        return armed
    }

    /// On a worker: runs `body` unless the job was cancelled or failed first.
    func run(_ body: () throws -> Value) throws {
        guard take() else { return }
        do {
            continuation?.resume(returning: try body())
        } catch {
            continuation?.resume(throwing: error)
            throw error  // counted in the pool's `failed`, as any job's error
        }
    }

    func cancel() {
        let (early, seen) = state.compareExchange(expected: .new, desired: .cancelledEarly, ordering: .acquiringAndReleasing)
        if early || seen != .armed { return }
        if take() { continuation?.resume(throwing: CancellationError()) }
    }

    func fail(_ error: any Error) {
        if take() { continuation?.resume(throwing: error) }
    }

    /// Wins the right to resume.
    private func take() -> Bool {
        state.compareExchange(expected: .armed, desired: .taken, ordering: .acquiringAndReleasing).exchanged
    }
}
