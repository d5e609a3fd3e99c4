import Dispatch

/// A thread pool under test, behind the few calls the scenarios make.
protocol Peer: AnyObject, Sendable {
    /// `workers` threads (where the pool lets one choose) and, for bounded pools, a queue
    /// of `capacity` jobs.
    init(workers: Int, capacity: Int)
    /// Queues `job`, waiting while a bounded queue is full.
    func submit(_ job: @escaping Job)
    /// Queues `count` times `job`: one producer's share.
    func submit(_ count: Int, of job: @escaping Job)
    /// Queues `count` jobs `job(i)`, one every `interval` nanoseconds, each after
    /// `stamp(i)` (the submit time); returns once the last is queued.
    func submitPaced(_ count: Int, every interval: UInt64, stamp: @escaping (Int) -> Void, job: @escaping (Int) -> Job)
    /// Keeps queued jobs from starting until ``release(workers:)``; returns once that holds.
    func hold(workers: Int)
    func release(workers: Int)
    /// Stops the threads once every queued job has run.
    func finish()
}

typealias Job = @Sendable () -> Void

extension Peer {
    /// By default, a job on every worker that waits for the release.
    func hold(workers: Int) {
        for _ in 0..<workers { submit { Gate.holding.signal(); Gate.open.wait() } }
        for _ in 0..<workers { Gate.holding.wait() }
    }

    func release(workers: Int) {
        for _ in 0..<workers { Gate.open.signal() }
    }

    func submit(_ count: Int, of job: @escaping Job) {
        for _ in 0..<count { submit(job) }
    }

    func submitPaced(_ count: Int, every interval: UInt64, stamp: @escaping (Int) -> Void, job: @escaping (Int) -> Job) {
        var deadline = Clock.nanoseconds()
        for i in 0..<count {
            deadline += interval
            Clock.sleep(until: deadline)
            let made = job(i)
            stamp(i)
            submit(made)
        }
    }
}

/// The pools compared, in the order of the table's columns.
enum PeerKind: String, CaseIterable {
    case workerPool = "WorkerPool"
    case workerPoolBatch = "WorkerPool batch"
    case workerPoolAsync = "WorkerPool async run"
    case nioThreadPool = "NIOThreadPool"
    case dispatch = "Dispatch concurrent queue"
    case operationQueue = "OperationQueue"
    case textbook = "textbook pool"

    /// The name on the command line.
    var argument: String {
        switch self {
        case .workerPool: "workerpool"
        case .workerPoolBatch: "workerpool-batch"
        case .workerPoolAsync: "workerpool-async"
        case .nioThreadPool: "nio"
        case .dispatch: "dispatch"
        case .operationQueue: "operationqueue"
        case .textbook: "textbook"
        }
    }

    init?(argument: String) {
        guard let kind = Self.allCases.first(where: { $0.argument == argument }) else { return nil }
        self = kind
    }

    func make(workers: Int, capacity: Int) -> any Peer {
        switch self {
        case .workerPool: WorkerPoolPeer(workers: workers, capacity: capacity)
        case .workerPoolBatch: WorkerPoolBatchPeer(workers: workers, capacity: capacity)
        case .workerPoolAsync: WorkerPoolAsyncPeer(workers: workers, capacity: capacity)
        case .nioThreadPool: NIOThreadPoolPeer(workers: workers, capacity: capacity)
        case .dispatch: DispatchPeer(workers: workers, capacity: capacity)
        case .operationQueue: OperationQueuePeer(workers: workers, capacity: capacity)
        case .textbook: TextbookPool(workers: workers, capacity: capacity)
        }
    }
}

/// What ``Peer/hold(workers:)`` waits on.
enum Gate {
    static let holding = DispatchSemaphore(value: 0)
    static let open = DispatchSemaphore(value: 0)
}
