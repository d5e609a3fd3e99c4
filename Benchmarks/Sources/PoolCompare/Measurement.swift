import Glibc

/// One figure, with the process's voluntary context switches and CPU time per 1,000 jobs
/// over the measured part.
struct Measurement {
    var value: Double
    var contextSwitches: Double
    var cpuMicroseconds: Double
    /// The most jobs that ran at once, where the scenario counts it (0 where it does not):
    /// a pool that runs more than its W is not a pool of W workers in that row.
    var mostAtOnce = 0
    /// The share of the VM's CPU time the host took for itself meanwhile (see `HostSteal`):
    /// 0.1 means a tenth of every core's time was stolen.
    var stolenShare = 0.0

    /// Times `body`; `value` turns the elapsed nanoseconds into the figure.
    static func timed(jobs: Int, _ body: () -> Void, value: (UInt64) -> Double) -> Measurement {
        let stolenBefore = HostSteal.milliseconds()
        let usageBefore = usage()
        let start = Clock.nanoseconds()
        body()
        let elapsed = Clock.nanoseconds() - start
        let usageAfter = usage()
        let stolenAfter = HostSteal.milliseconds()
        let perThousand = 1_000 / Double(jobs)
        return Measurement(
            value: value(elapsed),
            contextSwitches: Double(usageAfter.switches - usageBefore.switches) * perThousand,
            cpuMicroseconds: (usageAfter.cpu - usageBefore.cpu) * 1e6 * perThousand,
            stolenShare: (stolenAfter - stolenBefore) / (Double(elapsed) / 1e6 * Double(sysconf(Int32(_SC_NPROCESSORS_ONLN)))))
    }

    private static func usage() -> (switches: Int, cpu: Double) {
        var usage = rusage()
        getrusage(RUSAGE_SELF.rawValue, &usage)
        func seconds(_ t: timeval) -> Double { Double(t.tv_sec) + Double(t.tv_usec) / 1e6 }
        return (usage.ru_nvcsw, seconds(usage.ru_utime) + seconds(usage.ru_stime))
    }

    /// The line a measuring process prints, and the driver parses.
    var line: String { "result \(value) \(contextSwitches) \(cpuMicroseconds) \(mostAtOnce) \(stolenShare)" }

    init(value: Double, contextSwitches: Double, cpuMicroseconds: Double, mostAtOnce: Int = 0, stolenShare: Double = 0) {
        self.value = value
        self.contextSwitches = contextSwitches
        self.cpuMicroseconds = cpuMicroseconds
        self.mostAtOnce = mostAtOnce
        self.stolenShare = stolenShare
    }

    init?(line: String) {
        let fields = line.split(separator: " ")
        guard fields.count == 6, fields[0] == "result",
              let value = Double(fields[1]), let switches = Double(fields[2]), let cpu = Double(fields[3]),
              let mostAtOnce = Int(fields[4]), let stolen = Double(fields[5])
        else { return nil }
        self.init(value: value, contextSwitches: switches, cpuMicroseconds: cpu, mostAtOnce: mostAtOnce, stolenShare: stolen)
    }
}
