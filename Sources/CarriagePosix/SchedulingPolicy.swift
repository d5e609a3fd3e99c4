import Glibc

/// The Linux scheduling policy of a thread (sched(7)); both run at the normal priority.
public enum SchedulingPolicy: String, CaseIterable, Sendable {
    /// `SCHED_OTHER`: a thread woken from its wait preempts the one running, if the
    /// scheduler finds that fair.
    case normal
    /// `SCHED_BATCH`: same share of the CPU, but a woken thread never preempts another;
    /// it runs on an idle core at once, or when the running thread sleeps or its slice
    /// ends. An event loop that is woken for every arriving request then finds more
    /// of them ready per wake-up when the cores are busy, and stops interrupting the
    /// workers it feeds (measured in the README, "How far it scales").
    case batch

    /// `SCHED_BATCH` from <linux/sched.h>: Glibc's Swift module hides it (it needs
    /// `_GNU_SOURCE`). Part of the kernel's ABI since 2.6.16.
    private static let schedBatch: Int32 = 3

    /// The kernel's number for the policy.
    var kernelValue: Int32 { self == .batch ? Self.schedBatch : SCHED_OTHER }

    /// The policy of the calling thread, if it is one of these.
    public static var currentThread: SchedulingPolicy? {
        allCases.first { $0.kernelValue == sched_getscheduler(0) }
    }
}
