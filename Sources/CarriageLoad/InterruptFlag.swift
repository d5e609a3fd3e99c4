import Glibc
import Synchronization

/// Set by SIGINT/SIGTERM so a run stops early and still prints what it measured.
enum InterruptFlag {
    static let raised = Atomic<Bool>(false)

    /// Installs the handlers (an atomic store is async-signal-safe).
    static func install() {
        signal(SIGINT) { _ in InterruptFlag.raised.store(true, ordering: .relaxed) }
        signal(SIGTERM) { _ in InterruptFlag.raised.store(true, ordering: .relaxed) }
        signal(SIGPIPE, SIG_IGN)
    }
}
