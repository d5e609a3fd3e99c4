import NIOPosix

/// SwiftNIO's `NIOThreadPool`: an unbounded queue (`capacity` does not apply).
final class NIOThreadPoolPeer: Peer, Sendable {
    let pool: NIOThreadPool

    init(workers: Int, capacity: Int) {
        pool = NIOThreadPool(numberOfThreads: workers)
        pool.start()
    }

    func submit(_ job: @escaping Job) {
        pool.submit { _ in job() }
    }

    /// The adapting closure made once, not per job (it captures `job`: a heap context).
    func submit(_ count: Int, of job: @escaping Job) {
        let item: @Sendable (NIOThreadPool.WorkItemState) -> Void = { _ in job() }
        for _ in 0..<count { pool.submit(item) }
    }

    func finish() {
        try! pool.syncShutdownGracefully()
    }
}
