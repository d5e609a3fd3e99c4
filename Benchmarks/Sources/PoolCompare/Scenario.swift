import CMallocInfo
import Dispatch
import Foundation
import Glibc
import Synchronization

/// What is measured: the rows of the table.
enum Scenario: String, CaseIterable {
    case oneProducer = "one-producer"
    case fourProducers = "four-producers"
    case idleLatency = "idle-latency"
    case sleepingJobs = "sleeping-jobs"
    case bytesPerJob = "bytes-per-job"

    var title: String {
        switch self {
        case .oneProducer: "1 producer, empty jobs: jobs/s"
        case .fourProducers: "4 producers, empty jobs: jobs/s"
        case .idleLatency: "idle pool, one job per 50 us: submit-to-start p50, ns"
        case .sleepingJobs: "jobs of 1 ms sleep: total time, ms"
        case .bytesPerJob: "heap bytes per queued job"
        }
    }

    /// Whether a larger value is better (throughput), so WorkerPool leads when the ratio
    /// peer / WorkerPool is at most 1; else at least 1.
    var higherIsBetter: Bool { self == .oneProducer || self == .fourProducers }

    /// Whether `peer` can run it: an `async` `run` caller waits for its job, so it cannot
    /// queue jobs behind held workers.
    func applies(to peer: PeerKind) -> Bool {
        !(self == .bytesPerJob && peer == .workerPoolAsync)
    }

    /// Jobs per measurement.
    func jobs(quick: Bool) -> Int {
        switch self {
        case .oneProducer, .fourProducers: quick ? 100_000 : 1_000_000
        case .idleLatency: quick ? 1_000 : 10_000
        case .sleepingJobs: quick ? 200 : 2_000
        case .bytesPerJob: 1_000
        }
    }

    /// Runs once on a new pool of `kind`.
    func measure(_ kind: PeerKind, workers: Int, capacity: Int, quick: Bool) -> Measurement {
        let jobs = jobs(quick: quick)
        let peer = kind.make(workers: workers, capacity: capacity)
        defer { peer.finish() }
        Completion.expect(jobs)
        switch self {
        case .oneProducer, .fourProducers:
            let producers = self == .oneProducer ? 1 : 4
            return Measurement.timed(jobs: jobs) {
                let started = DispatchSemaphore(value: 0)
                for _ in 0..<producers - 1 {
                    Thread.detachNewThread {
                        peer.submit(jobs / producers, of: Completion.tick)
                        started.signal()
                    }
                }
                peer.submit(jobs - (producers - 1) * (jobs / producers), of: Completion.tick)
                for _ in 0..<producers - 1 { started.wait() }
                Completion.wait()
            } value: { elapsed in Double(jobs) / (Double(elapsed) / 1e9) }

        case .idleLatency:
            let submitted = UnsafeMutablePointer<UInt64>.allocate(capacity: jobs)
            let started = Stamps(count: jobs)
            defer { submitted.deallocate() }
            return Measurement.timed(jobs: jobs) {
                peer.submitPaced(jobs, every: 50_000, stamp: { submitted[$0] = Clock.nanoseconds() }) { i in
                    { started.stamp(i); Completion.tick() }
                }
                Completion.wait()
            } value: { _ in
                var delays = (0..<jobs).map { started.value(at: $0) &- submitted[$0] }
                delays.sort()
                return Double(delays[jobs / 2])
            }

        case .sleepingJobs:
            Running.reset()
            var measurement = Measurement.timed(jobs: jobs) {
                peer.submit(jobs, of: { Running.enter(); usleep(1_000); Running.leave(); Completion.tick() })
                Completion.wait()
            } value: { elapsed in Double(elapsed) / 1e6 }
            measurement.mostAtOnce = Running.most
            return measurement

        case .bytesPerJob:
            peer.hold(workers: workers)
            let before = carriage_heap_bytes_in_use()
            peer.submit(jobs, of: Completion.tick)
            let after = carriage_heap_bytes_in_use()
            let queued = jobs - Completion.count  // none, unless a pool ran some anyway
            peer.release(workers: workers)
            Completion.wait()
            return Measurement(value: Double(Int(after) - Int(before)) / Double(max(1, queued)), contextSwitches: 0, cpuMicroseconds: 0)
        }
    }
}

/// The jobs' shared counter, and a semaphore signalled when the last expected job ran.
enum Completion {
    private static let run = Atomic<Int>(0)
    nonisolated(unsafe) private static var expected = 0
    private static let done = DispatchSemaphore(value: 0)

    /// Before any job runs.
    static func expect(_ jobs: Int) {
        run.store(0, ordering: .sequentiallyConsistent)
        expected = jobs
    }

    /// The empty job: a global function, so that it captures nothing.
    @Sendable static func tick() {
        if run.add(1, ordering: .relaxed).newValue == expected { done.signal() }
    }

    static var count: Int { run.load(ordering: .relaxed) }

    static func wait() { done.wait() }
}

/// How many jobs run at once, and the most that ever did: a pool that starts threads of
/// its own beyond W (Dispatch does, for jobs that block) is not measured at W.
enum Running {
    private static let now = Atomic<Int>(0)
    private static let peak = Atomic<Int>(0)

    static func reset() {
        now.store(0, ordering: .sequentiallyConsistent)
        peak.store(0, ordering: .sequentiallyConsistent)
    }

    @Sendable static func enter() {
        let running = now.add(1, ordering: .relaxed).newValue
        var seen = peak.load(ordering: .relaxed)
        while running > seen {
            let (exchanged, original) = peak.compareExchange(expected: seen, desired: running, ordering: .relaxed)
            if exchanged { break }
            seen = original
        }
    }

    @Sendable static func leave() { now.subtract(1, ordering: .relaxed) }

    /// Read after `Completion.wait()`.
    static var most: Int { peak.load(ordering: .sequentiallyConsistent) }
}

/// When each paced job started, written by whichever worker ran it.
final class Stamps: @unchecked Sendable {  // each slot written once, read after `Completion.wait()`
    private let stamps: UnsafeMutablePointer<UInt64>

    init(count: Int) {
        stamps = .allocate(capacity: count)
    }

    deinit { stamps.deallocate() }

    func stamp(_ i: Int) { stamps[i] = Clock.nanoseconds() }
    func value(at i: Int) -> UInt64 { stamps[i] }
}
