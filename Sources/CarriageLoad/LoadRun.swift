import CarriagePosix
import Glibc

/// Runs a plan: starts the load threads, prints progress while they run (on a terminal),
/// joins them and merges what they measured.
struct LoadRun {
    let plan: LoadPlan

    func execute() throws(LoadError) -> Report {
        InterruptFlag.install()
        let limit = OpenFileLimit.raise().soft
        let needed = plan.connections + plan.idle + 32
        if needed > limit {
            throw .badOption("\(plan.connections) connections and \(plan.idle) idle need about \(needed) file descriptors, but the limit is \(limit) (raise the hard limit: ulimit -Hn)")
        }

        var threads: [LoadThread] = []
        for index in 0..<plan.threads {
            threads.append(try LoadThread(
                index: index, plan: plan,
                connections: plan.share(of: plan.connections, thread: index),
                idle: plan.share(of: plan.idle, thread: index),
                requests: plan.requests.map { plan.share(of: $0, thread: index) }))
        }
        var running: [PosixThread] = []
        for thread in threads {
            do {
                running.append(try PosixThread(name: "load-\(thread.index)") { thread.run() })
            } catch {
                InterruptFlag.raised.store(true, ordering: .relaxed)
                running.forEach { $0.join() }
                throw .thread(error)
            }
        }

        watch(threads)
        running.forEach { $0.join() }
        return merge(threads)
    }

    /// Waits for the threads; on a terminal, prints a progress line on stderr each second.
    private func watch(_ threads: [LoadThread]) {
        let showProgress = StandardError.isTerminal
        let start = MonotonicClock.nanoseconds()
        var nextLine = start + 1_000_000_000
        var previous = 0
        while !threads.allSatisfy({ $0.progress.done.load(ordering: .acquiring) }) {
            var pause = timespec(tv_sec: 0, tv_nsec: 50_000_000)
            nanosleep(&pause, nil)
            let now = MonotonicClock.nanoseconds()
            guard showProgress, now >= nextLine else { continue }
            nextLine += 1_000_000_000
            let requests = threads.reduce(0) { $0 + $1.progress.requests.load(ordering: .relaxed) }
            let errors = threads.reduce(0) { $0 + $1.progress.errors.load(ordering: .relaxed) }
            let idle = threads.reduce(0) { $0 + $1.progress.idleOpen.load(ordering: .relaxed) }
            let seconds = MonotonicClock.seconds(fromNanoseconds: now - start)
            var line = "[\(Report.fixed(seconds, 0)) s] \(requests) requests, \(requests - previous)/s now, \(Report.fixed(Double(requests) / seconds, 0))/s so far, errors \(errors)"
            if plan.idle > 0 { line += ", idle open \(idle)" }
            previous = requests
            StandardError.write(line: line)
        }
    }

    private func merge(_ threads: [LoadThread]) -> Report {
        var stats = ThreadStats()
        for thread in threads { stats.add(thread.stats) }
        let start = threads.map(\.loadStart).filter { $0 > 0 }.min() ?? 0
        let end = threads.map(\.loadEnd).max() ?? 0
        let reasons = threads.map(\.stopReason)
        let reason: LoadThread.StopReason
        if reasons.contains(.interrupted) {
            reason = .interrupted
        } else if stats.connects == 0 && reasons.contains(.unreachable) {
            reason = .unreachable
        } else if reasons.contains(.stalled) {
            reason = .stalled
        } else {
            reason = reasons.first ?? .duration
        }
        let cpu = ProcessResources.cpuSeconds()
        return Report(plan: plan, stats: stats, elapsed: end > start ? MonotonicClock.seconds(fromNanoseconds: end - start) : 0,
                      cpuUser: cpu.user, cpuSystem: cpu.system,
                      idleOpen: threads.reduce(0) { $0 + $1.idleOpenAtEnd }, stopReason: reason)
    }
}
