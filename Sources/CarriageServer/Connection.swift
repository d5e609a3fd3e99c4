import CarriagePosix
import Synchronization
import WorkerPool

/// One client connection, and its libevent event: one persistent, edge-triggered event
/// for read, write and peer close, registered once at accept and never re-armed.
///
/// Ownership, by ``ConnectionState``: the loop thread owns the event and frees it (with
/// the fd) once the state is `closed`; the buffers and flags below belong to the one
/// worker that moved the state to `running`, and are handed from worker to worker
/// through the state's release/acquire and the pool's mutex. A connection keeps
/// buffers of its own only for a partial request or unsent output, so an idle one is a
/// few hundred bytes.
///
/// `@unchecked Sendable`: shared between the loop and the workers under that protocol.
final class Connection: LoopEvent, @unchecked Sendable {
    let fd: Int32
    let id: Int
    let kind: ProtocolKind
    let state = Atomic<ConnectionState>(.idle)
    /// Seconds (monotonic) of the last turn; read by the loop's idle sweep.
    let lastActive: Atomic<Int>
    /// The loop saw EV_CLOSED (the peer's FIN). Set before the loop looks at `state`,
    /// so a worker that read less than it asked for knows a FIN may still wait behind
    /// the data (see `ConnectionWorker.mayHaveFIN`).
    let peerHungUp = Atomic<Bool>(false)
    /// The loop that watches it; it outlives every connection (it frees them).
    unowned let owner: ServerLoop

    // --- The running worker's alone. ---
    /// Received bytes not yet run: a partial line, or lines left when a turn stopped
    /// early (budget spent, or output backed up).
    var input: [UInt8] = []
    /// Replies the socket would not take yet.
    var output: [UInt8] = []
    /// `input` holds complete lines that a turn left unrun.
    var inputHasLines = false
    /// Close once `output` is flushed (after `QUIT`, `ERR line too long`, or EOF).
    var closeAfterFlush = false
    /// memcached: bytes still to arrive of a refused (too large) data block, to drop unread.
    var discardRemaining = 0

    /// The pool job that serves this connection, made once, so that queuing it copies a
    /// reference instead of allocating a closure each time. `unowned`: the registry
    /// keeps the connection alive for as long as it can be queued (a `closed`
    /// connection never is). Written only here, in `init`.
    private(set) var serveJob: WorkerPool.IndexedJob = { _ in }

    /// Made on the loop thread at accept; not pending until the server adds it.
    init(fd: Int32, id: Int, kind: ProtocolKind, now: Int, owner: ServerLoop, loop: EventLoop) throws(EventLoopError) {
        self.fd = fd
        self.id = id
        self.kind = kind
        self.owner = owner
        self.lastActive = Atomic(now)
        try super.init(loop: loop, fd: fd, events: [.read, .write, .closed, .persist, .edgeTriggered])
        serveJob = { [unowned self] worker in self.owner.server.serve(self, on: worker) }
    }

    /// The connection's event fired (on the loop thread).
    override func fired(_ events: Events) {
        owner.connectionReady(self, peerClosed: events.contains(.closed))
    }
}
