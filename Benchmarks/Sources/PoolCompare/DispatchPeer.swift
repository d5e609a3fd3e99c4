import Dispatch

/// A concurrent `DispatchQueue`: unbounded, and Dispatch chooses its threads (about one
/// per core), so neither `workers` nor `capacity` applies.
final class DispatchPeer: Peer, Sendable {
    let queue = DispatchQueue(label: "pool-compare", attributes: .concurrent)

    init(workers: Int, capacity: Int) {}

    func submit(_ job: @escaping Job) {
        queue.async(execute: job)
    }

    /// Workers held in jobs would make Dispatch start more threads: suspend the queue.
    func hold(workers: Int) { queue.suspend() }
    func release(workers: Int) { queue.resume() }

    func finish() {
        queue.sync(flags: .barrier) {}
    }
}
