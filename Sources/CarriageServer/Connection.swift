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
class Connection: LoopEvent, @unchecked Sendable {
    // Fields in this order pack into 72 bytes (an 80-byte malloc chunk): every byte here
    // is paid per connection.
    let fd: Int32
    /// Seconds (monotonic, since the server started) when the request now arriving began,
    /// i.e. when a turn last left a partial request (or a dropped data block) behind; 0 for
    /// none. The loop's sweep closes the connection `--request-timeout` seconds after it.
    /// Written by the running worker, read by the loop.
    let partialSince = Atomic<Int32>(0)
    /// Seconds (monotonic, since the server started) of the last turn; read by the loop's
    /// idle sweep. 32 bits: 68 years.
    let lastActive: Atomic<Int32>
    /// memcached: bytes still to arrive of a refused (too large) data block, to drop
    /// unread (the running worker's).
    @exclusivity(unchecked) final var discardRemaining: Int32 = 0
    /// The loop that watches it. Strong, though the loop's registry holds the connection
    /// too: that cycle ends when the loop frees the connection (or all of them, in
    /// `freeEvents`). Reading a strong `let` costs nothing, where `unowned` cost an
    /// atomic check and a release at each event and each turn (callgrind, S1 PINGs: the
    /// loop's instructions per request 875 -> 854, the workers' 1,939 -> 1,899).
    let owner: ServerLoop

    // --- The running worker's alone. ---
    // `@exclusivity(unchecked)` here and on the worker's own buffers: Swift's run-time
    // check of overlapping accesses to a class's stored property (a thread-local access
    // set, consulted at every access) was 35 % of a worker's instructions per request
    // (callgrind, S1 PINGs: 1,580 per request, 990 without). It only ever catches one
    // thread overlapping its own accesses, which these few call sites do not do; between
    // threads the ownership above is what keeps them apart.
    /// Received bytes not yet run: a partial request, or requests left when a turn
    /// stopped early (budget spent, or output backed up).
    @exclusivity(unchecked) final var input: [UInt8] = []
    /// Replies the socket would not take yet.
    @exclusivity(unchecked) final var output: [UInt8] = []

    let kind: ProtocolKind
    let state = Atomic<ConnectionState>(.idle)
    /// The loop saw EV_CLOSED (the peer's FIN). Set before the loop looks at `state`,
    /// so a worker that read less than it asked for knows a FIN may still wait behind
    /// the data (see `ConnectionWorker.mayHaveFIN`).
    let peerHungUp = Atomic<Bool>(false)
    /// `inputHasLines`, `closeAfterFlush` and `isTLS`, in one byte (the running worker's).
    @exclusivity(unchecked) private final var turnFlags: UInt8 = 0
    /// Its login (`--auth-file`), packed (``AuthState/packed``; the running worker's).
    @exclusivity(unchecked) final var authState: UInt8 = 0
    /// The server closes it while the client may still be sending: its loop drains before
    /// closing (``LingeringCloses``), so the last reply is not lost to a reset. Set by
    /// whoever closes it (worker or loop), read by the loop when it frees it.
    final var lingers = false
    /// What `input` and `output` hold, in KiB rounded up (capped): the loop's sweep
    /// closes the largest holders first when ``ClientMemory`` is over its bound. Written
    /// by the worker at the end of each turn, read by the loop.
    let heldKiB = Atomic<UInt16>(0)

    /// Made on the loop thread at accept; not pending until the loop adds it.
    init(fd: Int32, kind: ProtocolKind, now: Int, owner: ServerLoop, loop: EventLoop) throws(EventLoopError) {
        self.fd = fd
        self.kind = kind
        self.owner = owner
        self.lastActive = Atomic(Int32(truncatingIfNeeded: now))
        try super.init(loop: loop, fd: fd, events: [.read, .write, .closed, .persist, .edgeTriggered])
    }

    /// A ``TLSConnection``; read without a cast on every turn.
    final var isTLS: Bool {
        get { turnFlags & 4 != 0 }
        set { turnFlags = newValue ? turnFlags | 4 : turnFlags & ~4 }
    }

    /// `input` holds complete requests that a turn left unrun (the running worker's).
    final var inputHasLines: Bool {
        get { turnFlags & 1 != 0 }
        set { turnFlags = newValue ? turnFlags | 1 : turnFlags & ~1 }
    }

    /// Close once `output` is flushed (after `QUIT`, `ERR line too long`, or EOF; the
    /// running worker's).
    final var closeAfterFlush: Bool {
        get { turnFlags & 2 != 0 }
        set { turnFlags = newValue ? turnFlags | 2 : turnFlags & ~2 }
    }

    /// Bytes its buffers hold (their capacity): the owner's (a running worker's, or the
    /// loop's once `closed`) to read.
    final var heldBytes: Int { input.capacity + output.capacity }

    /// The pool job that serves this connection. It captures only the connection, which
    /// Swift then uses as the closure's context: making it allocates nothing (measured with
    /// callgrind), so it is made at each queuing instead of being stored here.
    final var serveJob: WorkerPool.IndexedJob {
        { worker in self.owner.server.serve(self, on: worker) }
    }

    /// The connection's event fired (on the loop thread).
    override final func fired(_ events: Events) {
        owner.connectionReady(self, peerClosed: events.contains(.closed))
    }
}
