import WorkerPool

/// WorkerPool, one `submit` per job.
final class WorkerPoolPeer: Peer, Sendable {
    let pool: WorkerPool

    init(workers: Int, capacity: Int) {
        pool = try! WorkerPool(workers: workers, queueCapacity: capacity)
    }

    func submit(_ job: @escaping Job) {
        try! pool.submit(job)
    }

    func finish() {
        pool.shutdown(.drain)
        pool.join()
    }
}

/// WorkerPool, a producer's share through `submit(contentsOf:job:)`.
final class WorkerPoolBatchPeer: Peer, Sendable {
    let pool: WorkerPool

    init(workers: Int, capacity: Int) {
        pool = try! WorkerPool(workers: workers, queueCapacity: capacity)
    }

    func submit(_ job: @escaping Job) {
        try! pool.submit(job)
    }

    func submit(_ count: Int, of job: @escaping Job) {
        try! pool.submit(contentsOf: 0..<count) { _ in job }
    }

    func finish() {
        pool.shutdown(.drain)
        pool.join()
    }
}
