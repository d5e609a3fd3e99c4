import Foundation

/// CPU time the hypervisor gave to other guests while this VM's CPUs wanted to run
/// ("steal" in `/proc/stat`), over all CPUs. A measurement the host stole from reads
/// slow for reasons no pool controls: the driver measures it again, and names the
/// worst it kept.
enum HostSteal {
    /// Milliseconds since boot; 0 where `/proc/stat` has no steal field (not a VM, or not
    /// Linux).
    static func milliseconds() -> Double {
        guard let text = try? String(contentsOfFile: "/proc/stat", encoding: .utf8),
              let first = text.split(separator: "\n").first
        else { return 0 }
        // cpu user nice system idle iowait irq softirq steal ...
        let fields = first.split(separator: " ")
        guard fields.count > 8, fields[0] == "cpu", let ticks = Double(fields[8]) else { return 0 }
        return ticks * 1_000 / Double(sysconf(Int32(_SC_CLK_TCK)))
    }
}
