import Foundation

/// Foundation's `OperationQueue` with `maxConcurrentOperationCount = workers`: unbounded.
final class OperationQueuePeer: Peer, @unchecked Sendable {  // OperationQueue is thread-safe
    let queue = OperationQueue()

    init(workers: Int, capacity: Int) {
        queue.maxConcurrentOperationCount = workers
    }

    func submit(_ job: @escaping Job) {
        queue.addOperation(job)
    }

    func hold(workers: Int) { queue.isSuspended = true }
    func release(workers: Int) { queue.isSuspended = false }

    func finish() {
        queue.waitUntilAllOperationsAreFinished()
    }
}
