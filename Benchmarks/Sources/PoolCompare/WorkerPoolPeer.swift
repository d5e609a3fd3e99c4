import WorkerPool

/// WorkerPool, one `submit` per job.
class WorkerPoolPeer: Peer, @unchecked Sendable {  // immutable after init; the pool is Sendable
    let pool: WorkerPool

    required init(workers: Int, capacity: Int) {
        pool = try! WorkerPool(workers: workers, queueCapacity: capacity)
    }

    final func submit(_ job: @escaping Job) {
        try! pool.submit(job)
    }

    /// Declared here, not only in the protocol's extension, so that the subclass's
    /// override is what a call through `any Peer` reaches.
    func submit(_ count: Int, of job: @escaping Job) {
        for _ in 0..<count { submit(job) }
    }

    final func finish() {
        pool.shutdown(.drain)
        pool.join()
    }
}

/// WorkerPool, a producer's share through `submit(contentsOf:job:)`.
final class WorkerPoolBatchPeer: WorkerPoolPeer, @unchecked Sendable {
    override func submit(_ count: Int, of job: @escaping Job) {
        try! pool.submit(contentsOf: 0..<count) { _ in job }
    }
}
