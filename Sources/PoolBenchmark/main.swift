// Measures WorkerPool's hand-off cost (jobs/s, ns/job for empty jobs) next to
// Dispatch and a thread-per-job baseline, in the same run.
// Run: swift run -c release carriage-pool-bench [jobs [runs]]  (scripts/pool-bench.sh)
import CarriagePosix
import Dispatch
import Glibc
import WorkerPool

func pad(_ value: Int, _ width: Int) -> String {
    let text = String(value)
    return String(repeating: " ", count: max(0, width - text.count)) + text
}

struct Row {
    var name: String
    var jobs: Int
    var nanoseconds: UInt64
}

func report(_ row: Row) {
    let perJob = Double(row.nanoseconds) / Double(row.jobs)
    let perSecond = Double(row.jobs) / (Double(row.nanoseconds) / 1e9)
    let name = row.name + String(repeating: " ", count: max(0, 44 - row.name.count))
    print("\(name) \(pad(Int(perSecond), 12)) jobs/s \(pad(Int(perJob.rounded()), 8)) ns/job")
}

/// `submitters` threads each submit `jobs / submitters` empty jobs, one at a time or in
/// batches; timed from the first submit until every job has run and the pool joined.
func measurePool(workers: Int, submitters: Int, jobs: Int, batch: Int) -> Row {
    let pool = try! WorkerPool(workers: workers, queueCapacity: 1024)
    let perSubmitter = jobs / submitters
    let start = MonotonicClock.nanoseconds()
    let threads = (0..<submitters).map { index in
        try! PosixThread(name: "submitter-\(index)") {
            if batch == 1 {
                for _ in 0..<perSubmitter { try! pool.submit {} }
            } else {
                let jobs = [WorkerPool.Job](repeating: {}, count: batch)
                for _ in 0..<(perSubmitter / batch) { try! pool.submit(contentsOf: jobs) }
            }
        }
    }
    threads.forEach { $0.join() }
    pool.shutdown(.drain)
    pool.join()
    let elapsed = MonotonicClock.nanoseconds() - start
    let label = batch == 1 ? "submit" : "submit(contentsOf:) x\(batch)"
    return Row(name: "WorkerPool \(workers)w \(submitters)s \(label)", jobs: pool.stats.completed, nanoseconds: elapsed)
}

/// The same empty jobs through `DispatchQueue.global().async`, `submitters` at a time.
func measureDispatchAsync(submitters: Int, jobs: Int) -> Row {
    let group = DispatchGroup()
    let perSubmitter = jobs / submitters
    let start = MonotonicClock.nanoseconds()
    DispatchQueue.concurrentPerform(iterations: submitters) { _ in
        for _ in 0..<perSubmitter {
            group.enter()
            DispatchQueue.global().async { group.leave() }
        }
    }
    group.wait()
    return Row(name: "DispatchQueue.global().async \(submitters)s", jobs: perSubmitter * submitters, nanoseconds: MonotonicClock.nanoseconds() - start)
}

func measureConcurrentPerform(jobs: Int) -> Row {
    let start = MonotonicClock.nanoseconds()
    DispatchQueue.concurrentPerform(iterations: jobs) { _ in }
    return Row(name: "DispatchQueue.concurrentPerform", jobs: jobs, nanoseconds: MonotonicClock.nanoseconds() - start)
}

/// One pthread per job, created and joined: the model a pool replaces.
func measureThreadPerJob(jobs: Int) -> Row {
    let start = MonotonicClock.nanoseconds()
    for _ in 0..<jobs {
        var thread = pthread_t()
        pthread_create(&thread, nil, { _ in nil }, nil)
        pthread_join(thread, nil)
    }
    return Row(name: "thread per job (pthread_create + join)", jobs: jobs, nanoseconds: MonotonicClock.nanoseconds() - start)
}

/// Runs `measure` `runs` times, interleaved with nothing else, and keeps the median.
func median(_ runs: Int, _ measure: () -> Row) -> Row {
    let rows = (0..<runs).map { _ in measure() }.sorted { $0.nanoseconds < $1.nanoseconds }
    return rows[rows.count / 2]
}

let arguments = CommandLine.arguments.dropFirst().compactMap { Int($0) }
let jobs = arguments.first ?? 400_000
let runs = arguments.dropFirst().first ?? 5
print("empty jobs: \(jobs) per row (thread per job: \(jobs / 40)); median of \(runs) runs; cores: \(sysconf(Int32(_SC_NPROCESSORS_ONLN)))")
for workers in [1, 2, 4] {
    for submitters in [1, 4] {
        report(median(runs) { measurePool(workers: workers, submitters: submitters, jobs: jobs, batch: 1) })
    }
}
report(median(runs) { measurePool(workers: 2, submitters: 1, jobs: jobs, batch: 64) })
report(median(runs) { measureDispatchAsync(submitters: 1, jobs: jobs) })
report(median(runs) { measureDispatchAsync(submitters: 4, jobs: jobs) })
report(median(runs) { measureConcurrentPerform(jobs: jobs) })
report(median(runs) { measureThreadPerJob(jobs: jobs / 40) })
