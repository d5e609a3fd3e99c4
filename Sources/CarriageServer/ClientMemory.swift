import Synchronization

/// The bound on memory held for clients (`--max-client-memory`): partial requests and
/// unsent replies, across every connection. A connection holds buffers of its own only
/// for those (a worker reads into, and replies from, buffers of its own), so this is the
/// memory that grows with slow or hostile clients.
///
/// Past the bound a worker no longer reads from a connection that holds a partial
/// request (it waits, and the kernel's window pushes back on the client), and reads
/// from the others at most ``readSlice`` bytes at a time, so ordinary requests still
/// run. If that is not enough, each loop's once-a-second sweep closes the connections
/// holding the most until the total is back under seven eighths of the bound; once it
/// is under, the sweep gives the paused connections a turn again (each loop its own: see
/// ``ServerLoop/notePaused()``).
///
/// Workers add what a turn changed (capacity after minus before); a loop subtracts what
/// a connection held when it frees it.
final class ClientMemory: Sendable {
    /// The bound in bytes; 0 for none.
    let limit: Int
    /// Bytes of connection buffers (their capacity) held now.
    private let held = Atomic<Int>(0)
    /// Turns that left a connection's bytes unread because of the bound (STATS
    /// `client_reads_paused`).
    let readsPaused = Atomic<Int>(0)
    /// Connections closed to bring the total back under the bound (STATS
    /// `client_memory_closed`).
    let closed = Atomic<Int>(0)

    /// What a worker reads at once, past the bound, from a connection holding nothing:
    /// a partial request it leaves is then at most this much.
    static let readSlice = 4096

    init(limit: Int) {
        self.limit = limit
    }

    var bytes: Int { held.load(ordering: .relaxed) }

    /// At or past the bound.
    var isFull: Bool { limit > 0 && held.load(ordering: .relaxed) >= limit }

    /// Where a sweep stops closing connections: under the bound by a margin, so that one
    /// sweep does not leave it at the edge for the next request to cross again.
    var closeTarget: Int { limit - limit / 8 }

    func change(by delta: Int) {
        if delta != 0 { held.add(delta, ordering: .relaxed) }
    }

}
