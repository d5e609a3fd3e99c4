import Synchronization

/// Who may touch a connection now. Stored in one atomic per connection; the loop
/// and the workers move it only by the transitions listed here.
///
/// - `idle`: nobody works on it; the loop may queue it (on an event) or close it
///   (idle timeout, shutdown).
/// - `queued`: on the pool's queue (at most once); a worker will pick it up.
/// - `running`: one worker owns its buffers and its fd.
/// - `dirty`: running, and an event came meanwhile: the worker must look again
///   before it hands the connection back.
/// - `closed`: on its way to the loop, which frees the event and the fd.
enum ConnectionState: UInt8, AtomicRepresentable {
    case idle
    case queued
    case running
    case dirty
    case closed
}
