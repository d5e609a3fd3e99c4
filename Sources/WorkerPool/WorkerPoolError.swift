/// Why a ``WorkerPool`` could not be made or would not take a job.
public enum WorkerPoolError: Error, Equatable, CustomStringConvertible {
    /// `workers` was less than 1.
    case invalidWorkerCount(Int)
    /// `queueCapacity` was less than 1.
    case invalidQueueCapacity(Int)
    /// `idleSpin` was negative.
    case invalidIdleSpin(Duration)
    /// `pthread_create` failed for worker `index`; `errno` is its result (`EAGAIN`: the
    /// process or system thread limit was reached).
    case threadStartFailed(index: Int, errno: Int32)
    /// The pool has been shut down and takes no new jobs.
    case shutDown

    /// A sentence saying what went wrong and what to change.
    public var description: String {
        switch self {
        case .invalidWorkerCount(let n):
            return "a worker pool needs at least 1 worker (asked for \(n))"
        case .invalidQueueCapacity(let n):
            return "a worker pool needs a queue capacity of at least 1 (asked for \(n))"
        case .invalidIdleSpin(let spin):
            return "a worker pool's idle spin cannot be negative (asked for \(spin)); use .zero to sleep at once"
        case .threadStartFailed(let index, let errno):
            return "could not start worker thread \(index): errno \(errno)"
        case .shutDown:
            return "the worker pool is shut down and takes no new jobs"
        }
    }
}
