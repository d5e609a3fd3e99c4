import Synchronization

/// What a load thread publishes for the progress line while it runs. The thread stores
/// these from its 100 ms tick (relaxed atomics: one plain store each on x86); the main
/// thread reads them once a second.
final class ProgressCounters: Sendable {
    let requests = Atomic<Int>(0)
    let errors = Atomic<Int>(0)
    let idleOpen = Atomic<Int>(0)
    let done = Atomic<Bool>(false)
}
