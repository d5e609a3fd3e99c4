import Glibc

/// A fixed pool of named pthreads that run jobs from one bounded FIFO queue.
///
/// The queue is a ring guarded by one pthread mutex (glibc's adaptive kind, which spins
/// briefly before it sleeps) and two condition variables (not-empty, not-full). A
/// submitter signals a worker only when one sleeps that no earlier signal is already
/// waking, at most once per job; a worker that frees a slot signals a blocked submitter
/// once half the queue is free. A worker that finds the queue empty watches it for
/// ``defaultIdleSpin`` before it sleeps (one worker at a time; see `idleSpin` in
/// ``init(workers:queueCapacity:name:measuresTimings:idleSpin:)``), and a job queued
/// meanwhile needs no signal. Broadcasts happen only at shutdown. The ring
/// starts at 16 slots and doubles on demand up to the queue's capacity, so a large
/// capacity costs memory only when used.
///
/// ```swift
/// let pool = try WorkerPool(workers: 4, queueCapacity: 64)
/// try pool.submit { print("hello from worker", WorkerPool.currentWorker!) }
/// pool.shutdown(.drain)
/// pool.join()
/// ```
///
/// A job that throws is counted in ``Stats/failed`` and its worker goes on with the
/// next job; a job that traps ends the process, as anywhere else.
///
/// `@unchecked Sendable`: its mutable state lives in the queue, under the queue's lock,
/// and in `joinLock`; the thread handles are written once, in `init`.
public final class WorkerPool: @unchecked Sendable {
    /// A unit of work. It runs once, on one worker thread.
    public typealias Job = @Sendable () throws -> Void

    /// A unit of work that is told which worker runs it: the worker's index, 0 for
    /// `<name>-0`. A job that keeps state per worker (buffers, counters) finds it by this
    /// index instead of asking a thread-local, which cannot tell two pools apart.
    public typealias IndexedJob = @Sendable (_ worker: Int) throws -> Void

    /// What ``shutdown(_:)`` does with jobs that are queued but not started.
    public enum ShutdownMode: Sendable {
        /// Run every queued job, then let the workers exit.
        case drain
        /// Drop the queued jobs unrun (counted in ``Stats/discarded``); jobs already
        /// running finish.
        case discardPending
    }

    /// The thread-name prefix: workers are named `<name>-0`, `<name>-1`, ...
    public let name: String
    /// The number of worker threads.
    public let workerCount: Int
    /// The most jobs the queue holds before `submit` waits and `trySubmit` refuses.
    public var queueCapacity: Int { queue.capacity }

    @usableFromInline
    let queue: JobQueue
    private let threads: [pthread_t]
    /// Serialises ``join()``: held while joining, which is its purpose, so that a
    /// second caller waits for the first instead of joining a thread twice.
    /// Protects `joined`.
    private let joinLock = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private var joined = false

    /// How long, by default, a worker that finds the queue empty watches it before it
    /// sleeps: 100 microseconds.
    ///
    /// Waking a sleeping thread takes the submitter a system call and the job 5 to 30
    /// microseconds or more before it starts (30 on a virtual machine whose idle CPUs
    /// halt); a job queued while a worker watches starts in under a microsecond, with no
    /// system call. The price is CPU: each time the queue runs empty, one worker (never
    /// more) spends up to this long on its core, yielding it between looks to any
    /// thread waiting to run there. A pool fed at least every 100
    /// microseconds keeps one core busy; a pool idle for longer costs nothing once the
    /// watch ends.
    public static let defaultIdleSpin: Duration = .microseconds(100)

    /// Starts `workers` threads named `<name>-<index>` that take jobs from a queue of
    /// `queueCapacity` slots (allocated as they are first needed, 16 bytes each).
    ///
    /// - Parameters:
    ///   - workers: The number of threads, at least 1.
    ///   - queueCapacity: The most jobs queued and not yet started, at least 1.
    ///   - name: The threads' name prefix.
    ///   - measuresTimings: Every job's queue wait and run time go into ``timings``
    ///     (three clock reads per job, one of them under the lock as the job is queued, a
    ///     few instructions under the lock, and 8 bytes per queue slot).
    ///   - idleSpin: How long a worker that finds the queue empty watches it before it
    ///     sleeps (see ``defaultIdleSpin``); `.zero` sleeps at once, for a program that
    ///     must not spend CPU while it waits, and a shorter spin suits a pool that shares
    ///     its cores with busy threads of its own.
    ///
    /// - Throws: ``WorkerPoolError/invalidWorkerCount(_:)`` or
    ///   ``WorkerPoolError/invalidQueueCapacity(_:)`` for a count below 1,
    ///   ``WorkerPoolError/invalidIdleSpin(_:)`` for a negative spin, and
    ///   ``WorkerPoolError/threadStartFailed(index:errno:)`` when a thread cannot be
    ///   started (those already started are stopped and joined first).
    public init(
        workers: Int, queueCapacity: Int, name: String = "worker", measuresTimings: Bool = false,
        idleSpin: Duration = WorkerPool.defaultIdleSpin
    ) throws(WorkerPoolError) {
        guard workers >= 1 else { throw .invalidWorkerCount(workers) }
        guard queueCapacity >= 1 else { throw .invalidQueueCapacity(queueCapacity) }
        guard idleSpin >= .zero else { throw .invalidIdleSpin(idleSpin) }
        self.name = name
        self.workerCount = workers
        // Whole seconds beyond an hour are as good as an hour, and cannot overflow.
        let (seconds, attoseconds) = min(idleSpin, .seconds(3_600)).components
        let spinNanoseconds = UInt64(seconds) * 1_000_000_000 + UInt64(attoseconds / 1_000_000_000)
        let queue = JobQueue(
            capacity: queueCapacity, workers: workers, measuresTimings: measuresTimings,
            spinNanoseconds: spinNanoseconds)
        self.queue = queue
        var threads: [pthread_t] = []
        threads.reserveCapacity(workers)
        for index in 0..<workers {
            do {
                threads.append(try WorkerThread.start(name: "\(name)-\(index)", index: index) {
                    queue.work(index: index)
                })
            } catch {
                queue.shutdown(discardPending: true)
                for thread in threads { pthread_join(thread, nil) }
                throw error
            }
        }
        self.threads = threads
        pthread_mutex_init(joinLock, nil)
    }

    /// Shuts the pool down (draining the queue) and joins its threads if nobody did.
    /// When the last reference is dropped on one of the pool's own workers, the
    /// threads are left to exit alone, since a thread cannot join itself.
    deinit {
        queue.shutdown(discardPending: false)
        pthread_mutex_lock(joinLock)
        let mustJoin = !joined
        pthread_mutex_unlock(joinLock)
        if mustJoin {
            let me = pthread_self()
            if threads.contains(where: { pthread_equal($0, me) != 0 }) {
                for thread in threads { pthread_detach(thread) }
            } else {
                for thread in threads { pthread_join(thread, nil) }
            }
        }
        pthread_mutex_destroy(joinLock)
        joinLock.deallocate()
    }

    /// Queues `job`, waiting while the queue is full.
    ///
    /// - Throws: ``WorkerPoolError/shutDown`` once ``shutdown(_:)`` has been called,
    ///   including when it is called while this call waits.
    public func submit(_ job: @escaping Job) throws(WorkerPoolError) {
        try queue.submit(.plain(job))
    }

    /// Queues a job that is told its worker's index, waiting while the queue is full.
    ///
    /// - Throws: ``WorkerPoolError/shutDown`` once ``shutdown(_:)`` has been called.
    public func submit(indexed job: @escaping IndexedJob) throws(WorkerPoolError) {
        try queue.submit(.indexed(job))
    }

    /// Queues every job in order, taking the queue's lock once when they all fit, and
    /// wakes at most one sleeping worker per job. Waits while the queue is full.
    ///
    /// - Throws: ``WorkerPoolError/shutDown`` once the pool is shut down; jobs queued
    ///   before that stay queued.
    @inlinable
    public func submit(contentsOf jobs: some Collection<Job>) throws(WorkerPoolError) {
        try queue.submit(contentsOf: jobs) { .plain($0) }
    }

    /// Queues `job(item)` for every item, in order, like ``submit(contentsOf:)``.
    ///
    /// A closure stored in an array is re-abstracted through an allocated thunk each
    /// time it is stored or read; jobs kept as fields of the items (`item.job`) and
    /// queued through this method are not, so a hot path can queue without allocating.
    ///
    /// `job` runs on the calling thread, outside the pool's lock, before its job is
    /// queued; it may call into the pool (even submit to it).
    ///
    /// - Throws: ``WorkerPoolError/shutDown`` once the pool is shut down; jobs queued
    ///   before that stay queued.
    @inlinable
    public func submit<Items: Collection>(contentsOf items: Items, job: (Items.Element) -> Job) throws(WorkerPoolError) {
        try queue.submit(contentsOf: items) { .plain(job($0)) }
    }

    /// Queues `job(item)` for every item, in order, each told its worker's index when it
    /// runs: ``submit(contentsOf:job:)`` for ``IndexedJob``s.
    ///
    /// - Throws: ``WorkerPoolError/shutDown`` once the pool is shut down.
    @inlinable
    public func submit<Items: Collection>(contentsOf items: Items, indexedJob job: (Items.Element) -> IndexedJob) throws(WorkerPoolError) {
        try queue.submit(contentsOf: items) { .indexed(job($0)) }
    }

    /// Queues `job` if there is room now, without waiting.
    ///
    /// - Returns: `false` when the queue is full or the pool shut down (counted in
    ///   ``Stats/rejected``); the caller decides what "busy" means.
    @discardableResult
    public func trySubmit(_ job: @escaping Job) -> Bool {
        queue.trySubmit(.plain(job))
    }

    /// Stops taking jobs and returns at once; see ``ShutdownMode``. Calling it again is
    /// harmless, and `.discardPending` after `.drain` drops what is still queued.
    public func shutdown(_ mode: ShutdownMode) {
        queue.shutdown(discardPending: mode == .discardPending)
    }

    /// Waits until every worker thread has exited. Call ``shutdown(_:)`` first, or it
    /// waits for ever. Safe to call more than once and from several threads.
    /// Must not be called from one of this pool's own jobs (a thread cannot join itself).
    public func join() {
        let me = pthread_self()
        precondition(!threads.contains(where: { pthread_equal($0, me) != 0 }),
                     "WorkerPool.join() called from one of the pool's own workers")
        pthread_mutex_lock(joinLock)
        if !joined {
            for thread in threads { pthread_join(thread, nil) }
            joined = true
        }
        pthread_mutex_unlock(joinLock)
    }

    /// Whether ``shutdown(_:)`` has been called.
    public var isShutDown: Bool { queue.isShutDown }

    /// A consistent snapshot of the pool's counters.
    public var stats: Stats { queue.stats() }

    /// The calling thread's index in its pool (0 for `worker-0`), or `nil` when the
    /// caller is not a pool worker.
    public static var currentWorker: Int? { WorkerThread.currentIndex }
}
