import Foundation
import Glibc

/// The pool from a textbook: a bounded FIFO, one mutex, two condition variables, each
/// signalled once per job. The baseline any pool with more code must beat.
///
/// `@unchecked Sendable`: `jobs`, `head` and `stopping` are touched only under `mutex`.
final class TextbookPool: Peer, @unchecked Sendable {
    private let mutex = UnsafeMutablePointer<pthread_mutex_t>.allocate(capacity: 1)
    private let notEmpty = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let notFull = UnsafeMutablePointer<pthread_cond_t>.allocate(capacity: 1)
    private let capacity: Int
    /// Queued jobs are `jobs[head...]`; the front is dropped once it is half the array.
    private var jobs: [Item] = []
    private var head = 0
    private var stopping = false
    private let exited = DispatchSemaphore(value: 0)
    private let workers: Int

    init(workers: Int, capacity: Int) {
        self.capacity = capacity
        self.workers = workers
        pthread_mutex_init(mutex, nil)
        pthread_cond_init(notEmpty, nil)
        pthread_cond_init(notFull, nil)
        for _ in 0..<workers {
            Thread { [self] in
                work()
                exited.signal()
            }.start()
        }
    }

    deinit {
        pthread_cond_destroy(notFull)
        pthread_cond_destroy(notEmpty)
        pthread_mutex_destroy(mutex)
        notFull.deallocate()
        notEmpty.deallocate()
        mutex.deallocate()
    }

    func submit(_ job: @escaping Job) {
        pthread_mutex_lock(mutex)
        while jobs.count - head == capacity { pthread_cond_wait(notFull, mutex) }
        jobs.append(Item(job: job))
        pthread_cond_signal(notEmpty)
        pthread_mutex_unlock(mutex)
    }

    private func work() {
        pthread_mutex_lock(mutex)
        while true {
            while jobs.count == head && !stopping { pthread_cond_wait(notEmpty, mutex) }
            if jobs.count == head { break }
            let job = jobs[head].job
            head += 1
            if head == jobs.count {
                jobs.removeAll(keepingCapacity: true)
                head = 0
            } else if head * 2 >= jobs.count && head >= 64 {
                jobs.removeFirst(head)
                head = 0
            }
            pthread_cond_signal(notFull)
            pthread_mutex_unlock(mutex)
            job()
            pthread_mutex_lock(mutex)
        }
        pthread_mutex_unlock(mutex)
    }

    /// A closure in a struct: stored in an array as it is, not through a reabstraction
    /// thunk allocated per element.
    private struct Item {
        let job: Job
    }

    func finish() {
        pthread_mutex_lock(mutex)
        stopping = true
        pthread_cond_broadcast(notEmpty)
        pthread_mutex_unlock(mutex)
        for _ in 0..<workers { exited.wait() }
    }
}
