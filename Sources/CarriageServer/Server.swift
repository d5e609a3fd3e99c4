import CarriagePosix
import CarriageProtocol
import Glibc
import Logging
import Synchronization
import WorkerPool
import CarriageStore

/// The Carriage server: a libevent loop that accepts and watches connections, and a
/// fixed ``WorkerPool`` that runs their requests against one shared store.
///
/// The loop thread (the one that calls ``run()``) is the only thread that calls
/// libevent. A ready connection is queued to the pool once (`idle -> queued`); a worker
/// reads it, runs its lines, writes the replies and hands it back with one
/// compare-and-swap. See ``ConnectionState``.
///
/// `@unchecked Sendable`: the loop-only state (`registry`, `ready`, the events)
/// is touched only on the loop thread; what workers and other threads use is
/// immutable, atomic, or locked (``CloseQueue``, the pool, the store).
public final class Server: @unchecked Sendable {
    private enum Lifecycle: UInt8, AtomicRepresentable {
        case running
        /// Not accepting; every connection is closed once what it sent has run.
        case stopping
    }

    public let configuration: ServerConfiguration
    let logger: Logger
    let clock = MonotonicClock()
    let processor: CommandProcessor
    let memcachedProcessor: MemcachedProcessor
    let closeQueue: CloseQueue
    let counters: ServerCounters
    private let pool: WorkerPool
    private let lifecycle = Atomic<Lifecycle>(.running)
    private let shutdownRequested = Atomic<Bool>(false)
    /// Indexed by pool worker; set once in `init` (they need `self`), before any job
    /// can run.
    private var workers: [ConnectionWorker] = []

    // --- The loop thread's alone. ---
    private let loop: EventLoop
    private var listener: Listener?
    private var memcachedListener: Listener?
    private var registry: [Int32: Connection] = [:]
    /// Connections made ready this loop iteration, queued in one batch at its end.
    private var ready: [Connection] = []
    private var closing: [Connection] = []
    private var nextConnectionID = 0
    private var wakeEvent: LoopEvent?
    private var idleSweep: LoopEvent?
    private var acceptRetry: LoopEvent?
    private var graceTimer: LoopEvent?
    /// Each second: a bounded slice of expired items comes back (`Store.reclaimExpired`).
    private var expirySweep: LoopEvent?
    private var signalEvents: [LoopEvent] = []
    /// Accepting is paused for lack of file descriptors.
    private var acceptPaused = false
    /// Over `--max-connections` now; logged once per burst.
    private var rejecting = false
    private var loopDone = false

    /// Expired items reclaimed per shard per second, at most: a loop round stays short
    /// (64 shards x 256 = 16k removals a second) and a worker never waits long on a shard.
    private static let expiredReclaimedPerShard = 256

    /// The port the server listens on (the kernel's choice when configured with 0).
    public private(set) var port = 0
    /// The port of memcached's protocol, when configured (the kernel's choice for 0).
    public private(set) var memcachedPort: Int?

    /// Binds the listening socket and starts the workers; connections are accepted
    /// once ``run()`` runs the loop.
    public init(configuration: ServerConfiguration, logger: Logger) throws(ServerError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        do {
            closeQueue = try CloseQueue(capacity: configuration.maxConnections)
        } catch {
            throw .system(error)
        }
        do {
            // Edge-triggered events and EV_CLOSED are what the connection lifecycle needs.
            loop = try EventLoop(requiring: [.edgeTriggered, .earlyClose])
        } catch {
            throw .eventLoop(error)
        }
        do {
            // Each connection is queued at most once, so this never fills.
            pool = try WorkerPool(workers: configuration.workers, queueCapacity: configuration.maxConnections + 1, name: "worker")
        } catch {
            throw .workers(error)
        }
        counters = ServerCounters(workers: configuration.workers)
        // Expiries count in the server's own seconds (the clock of uptime and idle timeouts).
        let store = Store(
            maxMemoryBytes: configuration.maxMemoryBytes, eviction: configuration.eviction, clock: StoreClock { [clock] in clock.seconds() })
        let environment = ServerStatistics(clock: clock, pool: pool, counters: counters)
        processor = CommandProcessor(store: store, environment: environment)
        memcachedProcessor = MemcachedProcessor(
            store: store, environment: environment, maxLineBytes: configuration.maxLineBytes,
            maxItemSize: configuration.maxItemSize)
        ready.reserveCapacity(configuration.maxConnections)
        closing.reserveCapacity(configuration.maxConnections)
        workers = (0..<configuration.workers).map {
            ConnectionWorker(index: $0, name: "\(pool.name)-\($0)", core: self, configuration: configuration)
        }

        do {
            wakeEvent = try LoopEvent.readable(on: loop, fd: closeQueue.wakeup.fd) { [unowned self] in self.woken() }
            if configuration.idleTimeoutSeconds > 0 {
                let sweep = try LoopEvent.timer(on: loop, repeating: true) { [unowned self] in self.closeIdleConnections() }
                sweep.add(timeout: 1)
                idleSweep = sweep
            }
            let reclaim = try LoopEvent.timer(on: loop, repeating: true) {
                store.reclaimExpired(limitPerShard: Self.expiredReclaimedPerShard)
            }
            reclaim.add(timeout: 1)
            expirySweep = reclaim
            acceptRetry = try LoopEvent.timer(on: loop, repeating: false) { [unowned self] in self.resumeAccepting() }
        } catch {
            stopWorkers()
            throw .eventLoop(error)
        }
        do throws(ServerError) {
            listener = try listen(port: configuration.port, kind: .line)
            self.port = listener?.port ?? 0
            if let port = configuration.memcachedPort {
                memcachedListener = try listen(port: port, kind: .memcached)
                memcachedPort = memcachedListener?.port
            }
        } catch {
            listener = nil
            stopWorkers()
            throw error
        }
    }

    private func listen(port: Int, kind: ProtocolKind) throws(ServerError) -> Listener {
        let host = configuration.host
        do {
            return try Listener(
                loop: loop, host: host, port: port, backlog: 1024,
                accepted: { [unowned self] fd in self.accepted(fd, kind: kind) },
                failed: { [unowned self] error in self.acceptFailed(error) })
        } catch {
            switch error {
            case .resolve(let error): throw .cannotResolve(host: host, error)
            case .bind(let error) where error.errno == EADDRINUSE: throw .addressInUse(host: host, port: port)
            case .bind(let error) where error.errno == EACCES: throw .permissionDenied(host: host, port: port)
            case .bind(let error): throw .cannotBind(host: host, port: port, error)
            }
        }
    }

    /// For a failed start: the pool's threads must not outlive the server.
    private func stopWorkers() {
        pool.shutdown(.drain)
        pool.join()
    }

    deinit {
        pool.shutdown(.discardPending)
        pool.join()
        // Every C event goes before the event_base (`loop`) does.
        for connection in registry.values {
            connection.free()
            Socket.close(connection.fd)
        }
        signalEvents = []
        idleSweep = nil
        expirySweep = nil
        acceptRetry = nil
        graceTimer = nil
        wakeEvent = nil
        listener = nil
        memcachedListener = nil
    }

    /// Stops gracefully when one of `signals` arrives (SIGINT, SIGTERM): see ``shutdown()``.
    /// Call before ``run()``.
    public func stopOnSignals(_ signals: [Int32]) throws(ServerError) {
        for number in signals {
            do {
                signalEvents.append(try LoopEvent.signal(on: loop, number) { [unowned self] in
                    self.logger.info("signal \(number): shutting down")
                    self.beginShutdown()
                })
            } catch {
                throw .eventLoop(error)
            }
        }
    }

    /// Runs the loop on the calling thread until a shutdown has closed every
    /// connection, then joins the workers.
    public func run() {
        logger.info("listening on \(configuration.host):\(port)", metadata: [
            "workers": "\(configuration.workers)", "backend": "\(loop.backend)",
            "max-connections": "\(configuration.maxConnections)"])
        if let memcachedPort {
            logger.info("memcached protocol listening on \(configuration.host):\(memcachedPort)")
        }
        while !loopDone {
            loop.runOnce()
            flushReady()
        }
        pool.shutdown(.drain)
        pool.join()
        // The signal events stay until `deinit`: freeing them would give SIGINT and
        // SIGTERM back their default action, and a second Ctrl-C would kill the
        // process on its way out instead of being ignored.
        logger.info("stopped", metadata: ["connections_total": "\(counters.connectionsTotal.load(ordering: .relaxed))"])
    }

    /// Asks the server to stop: it stops accepting at once, lets every request already
    /// received run and its reply go out, closes every connection, and ``run()``
    /// returns. Safe from any thread.
    public func shutdown() {
        shutdownRequested.store(true, ordering: .sequentiallyConsistent)
        closeQueue.wakeup.wake()
    }

    var isStopping: Bool { lifecycle.load(ordering: .relaxed) == .stopping }

    // MARK: Loop thread: connections

    private func accepted(_ fd: Int32, kind: ProtocolKind) {
        guard lifecycle.load(ordering: .relaxed) == .running else {
            Socket.close(fd)
            return
        }
        if counters.connectionsCurrent.load(ordering: .relaxed) >= configuration.maxConnections {
            switch kind {
            case .line: Socket.sendNotice(fd, Reply.tooManyConnections)
            case .memcached: Socket.sendNotice(fd, MemcachedReply.tooManyConnections)
            }
            Socket.close(fd)
            counters.connectionsRejected.add(1, ordering: .relaxed)
            if !rejecting {
                rejecting = true
                logger.info("--max-connections \(configuration.maxConnections) reached: refusing new connections with BUSY")
            }
            return
        }
        rejecting = false
        Socket.setNoDelay(fd)
        nextConnectionID += 1
        let connection: Connection
        do {
            connection = try Connection(
                fd: fd, id: nextConnectionID, kind: kind, now: clock.seconds(), core: self, loop: loop)
        } catch {
            logger.error("cannot watch a new connection: \(error)")
            Socket.close(fd)
            return
        }
        connection.add()
        registry[fd] = connection
        counters.connectionsCurrent.add(1, ordering: .relaxed)
        counters.connectionsTotal.add(1, ordering: .relaxed)
        if logger.logLevel <= .debug {
            logger.debug("connection opened", metadata: ["connection": "\(connection.id)", "fd": "\(fd)"])
        }
    }

    /// The connection's event fired (on the loop thread).
    func connectionReady(_ connection: Connection, peerClosed: Bool) {
        if peerClosed {
            // Before the state is read, and both sequentially consistent: whichever
            // worker runs this connection next, or runs it now and must look again,
            // sees the flag after its own `running` store.
            connection.peerHungUp.store(true, ordering: .sequentiallyConsistent)
        }
        var state = connection.state.load(ordering: .sequentiallyConsistent)
        while true {
            switch state {
            case .idle:
                let (done, seen) = connection.state.compareExchange(
                    expected: .idle, desired: .queued, ordering: .sequentiallyConsistent)
                if done {
                    ready.append(connection)
                    return
                }
                state = seen
            case .running:
                let (done, seen) = connection.state.compareExchange(
                    expected: .running, desired: .dirty, ordering: .sequentiallyConsistent)
                if done { return }
                state = seen
            case .queued, .dirty, .closed:
                return
            }
        }
    }

    /// End of a loop iteration: queue every connection made ready, under one lock.
    private func flushReady() {
        guard !ready.isEmpty else { return }
        do {
            try pool.submit(contentsOf: ready, indexedJob: { $0.serveJob })
        } catch {
            logger.error("worker pool refused connections: \(error)")
        }
        ready.removeAll(keepingCapacity: true)
    }

    /// The eventfd fired: connections to close, or a shutdown request.
    private func woken() {
        closeQueue.drain(into: &closing)
        for connection in closing { free(connection) }
        closing.removeAll(keepingCapacity: true)
        if shutdownRequested.load(ordering: .sequentiallyConsistent) && lifecycle.load(ordering: .relaxed) == .running {
            logger.info("shutting down")
            beginShutdown()
        }
        checkStopped()
    }

    /// Frees a `closed` connection: its event, its fd, its registry entry.
    private func free(_ connection: Connection) {
        connection.free()  // no callback for it runs afterwards
        Socket.close(connection.fd)
        registry[connection.fd] = nil
        counters.connectionsCurrent.subtract(1, ordering: .relaxed)
        if acceptPaused { resumeAccepting() }  // an fd just came free
    }

    /// From a worker: the request budget was spent; back of the queue.
    func requeue(_ connection: Connection) {
        do {
            try pool.submit(indexed: connection.serveJob)
        } catch {
            // Only after shutdown, when the pool has stopped: close instead.
            connection.state.store(.closed, ordering: .releasing)
            closeQueue.push(connection)
        }
    }

    /// The job pool worker `worker` runs for a queued connection.
    func serve(_ connection: Connection, on worker: Int) {
        workers[worker].serve(connection)
    }

    private func closeIdleConnections() {
        let now = clock.seconds()
        let timeout = configuration.idleTimeoutSeconds
        for connection in registry.values where now - connection.lastActive.load(ordering: .relaxed) >= timeout {
            if closeIfIdle(connection) {
                logger.debug("idle timeout", metadata: ["connection": "\(connection.id)"])
            }
        }
        checkStopped()
    }

    /// Closes `connection` from the loop if no worker has it.
    @discardableResult
    private func closeIfIdle(_ connection: Connection) -> Bool {
        let (done, _) = connection.state.compareExchange(expected: .idle, desired: .closed, ordering: .acquiringAndReleasing)
        if done { free(connection) }
        return done
    }

    // MARK: Loop thread: accepting under fd pressure

    private func acceptFailed(_ error: SystemError) {
        guard [EMFILE, ENFILE, ENOBUFS, ENOMEM].contains(error.errno) else {
            logger.warning("accept failed: \(error.reason)")
            return
        }
        guard !acceptPaused else { return }
        acceptPaused = true
        counters.listenDisabled.add(1, ordering: .relaxed)
        logger.warning("out of file descriptors (\(error.reason)): pausing accept until one frees")
        listener?.disable()
        memcachedListener?.disable()
        acceptRetry?.add(timeout: 0.1)
    }

    private func resumeAccepting() {
        guard acceptPaused, lifecycle.load(ordering: .relaxed) == .running else { return }
        acceptPaused = false
        acceptRetry?.remove()
        listener?.enable()
        memcachedListener?.enable()
    }

    // MARK: Loop thread: shutdown

    private func beginShutdown() {
        guard lifecycle.load(ordering: .relaxed) == .running else { return }
        lifecycle.store(.stopping, ordering: .relaxed)
        listener = nil  // stop accepting at once; closes the listening sockets
        memcachedListener = nil
        idleSweep = nil
        // Give every idle connection one more turn: a worker runs what it has sent
        // and closes it. Busy ones close at the end of their turn.
        for connection in registry.values {
            connectionReady(connection, peerClosed: false)
        }
        // Replies a client will not read must not hold the shutdown for ever.
        graceTimer = try? LoopEvent.timer(on: loop, repeating: false) {
            [unowned self] in
            for connection in self.registry.values { self.closeIfIdle(connection) }
            self.checkStopped()
        }
        graceTimer?.add(timeout: Double(configuration.shutdownGraceSeconds))
        checkStopped()
    }

    private func checkStopped() {
        if lifecycle.load(ordering: .relaxed) == .stopping && registry.isEmpty {
            loopDone = true
        }
    }
}
