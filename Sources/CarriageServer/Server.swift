import CarriagePosix
import CarriageProtocol
import CarriageStore
import Glibc
import Logging
import Synchronization
import WorkerPool

/// The Carriage server: `--loops` libevent loops that accept and watch connections, and
/// a fixed ``WorkerPool`` that runs their requests against one shared store.
///
/// Each loop (a ``ServerLoop`` on its own thread, `loop-<n>`) is the only thread that
/// calls libevent for its connections. Loop 0 accepts on the listening sockets and deals
/// new connections to the loops in turn. A ready connection is queued to the pool once
/// (`idle -> queued`); a worker reads it, runs its requests, writes the replies and hands
/// it back with one compare-and-swap. See ``ConnectionState``.
///
/// `@unchecked Sendable`: loop 0's state (the listeners, `acceptPaused`, `rejecting`,
/// `nextLoop`) is touched only on loop 0's thread; what workers and other threads use is
/// immutable, atomic, or locked (each loop's ``LoopInbox``, the pool, the store).
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
    /// `--tls-cert`: what TLS connections are made with; nil without TLS.
    let certificates: TLSCertificates?
    let memcachedProcessor: MemcachedProcessor
    let counters: ServerCounters
    let store: Store
    private let statistics: ServerStatistics
    /// Writes `--snapshot` every `--snapshot-interval` seconds; nil without one.
    private var snapshotter: Snapshotter?
    /// The snapshot written as ``run()`` ends failed (it was logged): the daemon exits 1.
    public private(set) var finalSnapshotFailed = false
    private let pool: WorkerPool
    private let lifecycle = Atomic<Lifecycle>(.running)
    private let shutdownRequested = Atomic<Bool>(false)
    /// Indexed by pool worker, and the loops; set once in `init` (they need `self`),
    /// before any job or loop can run.
    private var workers: [ConnectionWorker] = []
    private(set) var loops: [ServerLoop] = []

    // --- Loop 0's alone. ---
    private var listener: Listener?
    /// `--metrics-port`: Prometheus' `GET /metrics`, served by loop 0.
    private var metrics: HTTPServer?
    private var memcachedListener: Listener?
    private var acceptRetry: LoopEvent?
    /// Each second: a bounded slice of expired items comes back (`Store.reclaimExpired`).
    private var expirySweep: IntervalTimer?
    private var signalEvents: [LoopEvent] = []
    /// Accepting is paused for lack of file descriptors.
    private var acceptPaused = false
    /// Over `--max-connections` now; logged once per burst.
    private var rejecting = false
    /// The loop the next accepted connection goes to.
    private var nextLoop = 0

    /// Expired items reclaimed per shard per second, at most: a loop round stays short
    /// (64 shards x 256 = 16k removals a second) and a worker never waits long on a shard.
    private static let expiredReclaimedPerShard = 256
    /// How long an idle worker watches the pool's queue before it sleeps (see `init`).
    static let workerIdleSpin: Duration = .microseconds(1)

    /// Called once with the start-up line (`listening on <host>:<port>`) when ``run()``
    /// has every loop thread started, whatever the log level: a launcher that waits for
    /// the line must see it. Set before ``run()``.
    public var onListening: ((String) -> Void)?
    /// Called once, on loop 0, when a shutdown begins (a signal, or ``shutdown()``). Set
    /// before ``run()``.
    public var onStopping: (() -> Void)?

    /// The port the server listens on (the kernel's choice when configured with 0).
    public private(set) var port = 0
    /// The port of memcached's protocol, when configured (the kernel's choice for 0).
    public private(set) var memcachedPort: Int?
    /// The port of the metrics endpoint, when configured (the kernel's choice for 0).
    public private(set) var metricsPort: Int?

    /// Binds the listening sockets and starts the workers; connections are accepted once
    /// ``run()`` runs the loops.
    public init(configuration: ServerConfiguration, logger: Logger) throws(ServerError) {
        try configuration.validate()
        self.configuration = configuration
        self.logger = logger
        do {
            // Before any thread starts: a file that does not load stops start-up.
            certificates = try configuration.tls.map { (tls) throws(TLSError) in try TLSCertificates(tls) }
        } catch {
            throw .tls(error)
        }
        do {
            // Each connection is queued at most once, so this never fills. The workers
            // watch an empty queue for a microsecond only: they share the cores with the
            // loops (and, in a benchmark, the clients), and a longer watch measured more
            // worker CPU per request (S1: 8.3 us at 50 us, 9.4 at 100, against 7.6).
            pool = try WorkerPool(
                workers: configuration.workers, queueCapacity: configuration.maxConnections + 1, name: "worker",
                measuresTimings: configuration.metricsPort != nil, idleSpin: Self.workerIdleSpin)
        } catch {
            throw .workers(error)
        }
        counters = ServerCounters(
            workers: configuration.workers, loops: configuration.loops,
            maxClientMemory: configuration.maxClientMemoryBytes)
        // Expiries count in the server's own seconds (the clock of uptime and idle timeouts).
        let store = Store(
            maxMemoryBytes: configuration.maxMemoryBytes, eviction: configuration.eviction,
            clock: StoreClock { [clock] in clock.seconds() })
        self.store = store
        let environment = ServerStatistics(clock: clock, pool: pool, counters: counters)
        statistics = environment
        processor = CommandProcessor(store: store, environment: environment, credentials: configuration.credentials)
        memcachedProcessor = MemcachedProcessor(
            store: store, environment: environment, maxLineBytes: configuration.maxLineBytes,
            maxItemSize: configuration.maxItemSize)
        workers = (0..<configuration.workers).map {
            ConnectionWorker(index: $0, name: "\(pool.name)-\($0)", core: self, configuration: configuration)
        }
        do throws(ServerError) {
            for index in 0..<configuration.loops {
                loops.append(try ServerLoop(index: index, server: self, configuration: configuration))
            }
            let base = loops[0].base
            do {
                expirySweep = try IntervalTimer(on: base, every: .seconds(1)) {
                    store.reclaimExpired(limitPerShard: Self.expiredReclaimedPerShard)
                }
                acceptRetry = try LoopEvent.timer(on: base, repeating: false) { [unowned self] in self.resumeAccepting() }
            } catch {
                throw .eventLoop(error)
            }
            // Before the listeners open: no client sees the store half loaded.
            try loadSnapshot()
            let lineListener = try listen(port: configuration.port, kind: .line)
            listener = lineListener
            self.port = lineListener.port
            // Every listener shares the host: the first one tells whether it is loopback.
            if !lineListener.isLoopback {
                if configuration.insecure {
                    logger.warning("--insecure: serving \(Socket.endpoint(host: configuration.host, port: port)), a non-loopback address, \(configuration.credentials == nil ? "without authentication" : "with --auth-file")\(configuration.metricsPort == nil ? "" : ", and --metrics-port without a login")")
                } else if configuration.credentials == nil && !verifiesEveryClient {
                    throw .unprotected(host: configuration.host, port: port)
                } else if configuration.metricsPort != nil {
                    throw .unprotectedMetrics(host: configuration.host)
                }
            }
            if let port = configuration.memcachedPort {
                memcachedListener = try listen(port: port, kind: .memcached)
                memcachedPort = memcachedListener?.port
            }
            if let port = configuration.metricsPort {
                do {
                    metrics = try HTTPServer(loop: loops[0].base, host: configuration.host, port: port) { [unowned self] method, uri in
                        self.answerMetrics(uri: uri)
                    }
                } catch {
                    if error.errno == EADDRINUSE { throw .addressInUse(host: configuration.host, port: port) }
                    throw .cannotBind(host: configuration.host, port: port, error)
                }
                metricsPort = metrics?.port
            }
        } catch {
            freeEvents()
            stopWorkers()
            throw error
        }
    }

    private func listen(port: Int, kind: ProtocolKind) throws(ServerError) -> Listener {
        let host = configuration.host
        do {
            return try Listener(
                loop: loops[0].base, host: host, port: port, backlog: 1024,
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

    // MARK: TLS

    /// Mutual TLS on every listener there is: protection enough for a non-loopback host.
    private var verifiesEveryClient: Bool {
        guard let tls = configuration.tls, tls.verifyClients else { return false }
        return tls.onLinePort && (configuration.memcachedPort == nil || tls.onMemcachedPort)
    }

    /// Whether connections accepted for `kind` speak TLS.
    func usesTLS(_ kind: ProtocolKind) -> Bool {
        guard let tls = certificates?.configuration else { return false }
        switch kind {
        case .line: return tls.onLinePort
        case .memcached: return tls.onMemcachedPort
        }
    }

    /// Loads `--tls-cert`, `--tls-key` and `--tls-ca` again (SIGHUP): new connections use
    /// them; open ones keep theirs. On failure the old ones stay, and the log says why.
    public func reloadCertificates() {
        guard let certificates else { return }
        do {
            try certificates.reload()
            logger.info("TLS: reloaded --tls-cert \(certificates.configuration.certificatePath) and its key; new connections use them")
        } catch {
            logger.error("TLS: cannot reload (\(error)); new connections keep the certificate loaded before")
        }
    }

    // MARK: Metrics

    /// On loop 0: the answer to a request on `--metrics-port`.
    private func answerMetrics(uri: String) -> HTTPServer.Response {
        guard uri == "/metrics" || uri.hasPrefix("/metrics?") else {
            return HTTPServer.Response(status: 404, body: Array("not found: try GET /metrics\n".utf8))
        }
        let text = MetricsExposition.render(stats: statistics.serverStats() + store.statLines, timings: pool.timings)
        return HTTPServer.Response(status: 200, contentType: MetricsExposition.contentType, body: Array(text.utf8))
    }

    // MARK: Snapshots

    private func loadSnapshot() throws(ServerError) {
        guard let path = configuration.snapshotPath else { return }
        let started = MonotonicClock.nanoseconds()
        do throws(SnapshotError) {
            if let loaded = try SnapshotFile.load(from: path, into: store, unixNow: Int(time(nil))) {
                let seconds = Double(MonotonicClock.nanoseconds() - started) / 1e9
                logger.info("snapshot: loaded \(loaded.items) items from \(path) (\(loaded.bytes) bytes, \(loaded.expired) expired since and skipped) in \(Self.format(seconds)) s")
            } else {
                logger.info("snapshot: \(path) does not exist yet; starting empty")
            }
        } catch {
            throw .snapshot(error)
        }
        // Found now, not at the first write: the directory must take the temporary file.
        let directory = path.lastIndex(of: "/").map { $0 == path.startIndex ? "/" : String(path[..<$0]) } ?? "."
        do throws(SystemError) {
            _ = try syscallBlocking("access") { access(directory, W_OK) }
        } catch {
            throw .snapshot(.cannotWrite(path: path, error))
        }
    }

    /// Writes `--snapshot` now (on the calling thread); logs what it did. False when it
    /// failed.
    @discardableResult
    func writeSnapshot() -> Bool {
        guard let path = configuration.snapshotPath else { return true }
        let started = MonotonicClock.nanoseconds()
        do throws(SnapshotError) {
            let written = try SnapshotFile.write(store, to: path, unixNow: Int(time(nil)))
            let seconds = Double(MonotonicClock.nanoseconds() - started) / 1e9
            counters.snapshotsWritten.add(1, ordering: .relaxed)
            counters.snapshotItems.store(written.items, ordering: .relaxed)
            logger.info("snapshot: wrote \(written.items) items to \(path) (\(written.bytes) bytes) in \(Self.format(seconds)) s")
            return true
        } catch {
            counters.snapshotFailures.add(1, ordering: .relaxed)
            logger.error("snapshot: \(error)")
            return false
        }
    }

    private static func format(_ seconds: Double) -> String {
        String(Double(Int(seconds * 1000)) / 1000)
    }

    /// For a failed start: the pool's threads must not outlive the server.
    private func stopWorkers() {
        pool.shutdown(.drain)
        pool.join()
    }

    /// Every C event goes before its event_base does.
    private func freeEvents() {
        metrics = nil
        signalEvents = []
        expirySweep = nil
        acceptRetry = nil
        listener = nil
        memcachedListener = nil
        for loop in loops { loop.freeEvents() }
    }

    deinit {
        pool.shutdown(.discardPending)
        pool.join()
        freeEvents()
    }

    /// Stops gracefully when one of `signals` arrives (SIGINT, SIGTERM): see ``shutdown()``.
    /// Call before ``run()``.
    public func stopOnSignals(_ signals: [Int32]) throws(ServerError) {
        for number in signals {
            do {
                signalEvents.append(try LoopEvent.signal(on: loops[0].base, number) { [unowned self] in
                    self.logger.info("signal \(number): shutting down")
                    self.beginShutdown()
                })
            } catch {
                throw .eventLoop(error)
            }
        }
    }

    /// Runs `action` on loop 0's thread each time `number` arrives (instead of its default
    /// action). Call before ``run()``.
    public func onSignal(_ number: Int32, _ action: @escaping () -> Void) throws(ServerError) {
        do {
            signalEvents.append(try LoopEvent.signal(on: loops[0].base, number, action))
        } catch {
            throw .eventLoop(error)
        }
    }

    /// Runs the loops, each on a thread of its own (`loop-<n>`), until a shutdown has
    /// closed every connection; then joins the workers. The calling thread waits.
    ///
    /// - Returns: false when `--shutdown-timeout` cut requests short: workers are still
    ///   running them, so the caller should exit the process now (this server cannot be
    ///   released: that would wait for them).
    @discardableResult
    public func run() -> Bool {
        if configuration.snapshotPath != nil && configuration.snapshotIntervalSeconds > 0 {
            let snapshotter = Snapshotter(intervalSeconds: configuration.snapshotIntervalSeconds) { [unowned self] in
                self.writeSnapshot()
            }
            do {
                try snapshotter.start()
                self.snapshotter = snapshotter
            } catch {
                logger.error("cannot start the snapshot thread: \(error); snapshots only at shutdown")
            }
        }
        var threads: [PosixThread] = []
        var unthreaded: [ServerLoop] = []
        for loop in loops {
            do {
                let thread = try PosixThread(name: "loop-\(loop.index)") { loop.run() }
                threads.append(thread)
                do {
                    try thread.setScheduling(configuration.loopScheduling)
                } catch {
                    logger.warning("loop-\(loop.index): cannot use the \(configuration.loopScheduling) scheduling policy (\(error)); it keeps the default")
                }
            } catch {
                logger.error("cannot start loop-\(loop.index): \(error); running it on the calling thread")
                unthreaded.append(loop)
            }
        }
        // Once every loop thread exists: a client that reads this line finds them all.
        let line = "listening on \(Socket.endpoint(host: configuration.host, port: port))"
        logger.info("\(line)", metadata: [
            "version": "\(CarriageVersion.number)",
            "workers": "\(configuration.workers)", "loops": "\(configuration.loops)",
            "backend": "\(loops[0].base.backend)", "max-connections": "\(configuration.maxConnections)"])
        if let memcachedPort {
            logger.info("memcached protocol listening on \(Socket.endpoint(host: configuration.host, port: memcachedPort))")
        }
        if let tls = certificates?.configuration {
            let ports = [tls.onLinePort ? "the line port" : nil,
                         tls.onMemcachedPort && memcachedPort != nil ? "the memcached port" : nil].compactMap { $0 }
            logger.info("TLS 1.2+ on \(ports.joined(separator: " and ")) (--tls-cert \(tls.certificatePath)\(tls.verifyClients ? "; client certificates required" : ""))")
        }
        if let metricsPort {
            logger.info("metrics listening on \(Socket.endpoint(host: configuration.host, port: metricsPort)) (GET /metrics)")
        }
        onListening?(line)
        // A shutdown still ends a loop run here, after the others have started.
        for loop in unthreaded { loop.run() }
        for thread in threads { thread.join() }
        // Every connection is closed: what the store holds now is what clients were told.
        snapshotter?.stop()
        snapshotter = nil
        if configuration.snapshotPath != nil { finalSnapshotFailed = !writeSnapshot() }
        let cutShort = counters.connectionsCurrent.load(ordering: .relaxed)
        if cutShort > 0 {
            logger.warning("shutdown timeout (\(configuration.shutdownTimeoutSeconds) s): cut short \(cutShort) connection(s) whose requests were still running (workers busy: \(pool.stats.busy))")
            return false
        }
        pool.shutdown(.drain)
        pool.join()
        // The signal events stay until `deinit`: freeing them would give SIGINT and
        // SIGTERM back their default action, and a second Ctrl-C would kill the
        // process on its way out instead of being ignored.
        logger.info("stopped", metadata: ["connections_total": "\(counters.connectionsTotal.load(ordering: .relaxed))"])
        return true
    }

    /// Asks the server to stop: it stops accepting at once, lets every request already
    /// received run and its reply go out, closes every connection, and ``run()``
    /// returns. Safe from any thread.
    public func shutdown() {
        shutdownRequested.store(true, ordering: .sequentiallyConsistent)
        loops[0].inbox.wakeup.wake()
    }

    var isStopping: Bool { lifecycle.load(ordering: .relaxed) == .stopping }

    /// The server's own STATS lines (not the store's), as `name=value` pairs on one line:
    /// read from atomics, so any thread can ask while every worker is busy (the daemon
    /// logs it on SIGUSR1, when `STATS` itself would wait for a worker).
    public func statisticsLine() -> String {
        statistics.serverStats().map { "\($0.name)=\($0.value)" }.joined(separator: " ")
    }

    // MARK: Workers

    /// From a loop: queue its ready connections, under one lock.
    func submit(_ ready: [Connection]) {
        do {
            try pool.submit(contentsOf: ready, indexedJob: { $0.serveJob })
        } catch {
            logger.error("worker pool refused connections: \(error)")
        }
    }

    /// From a worker: the request budget was spent; back of the queue.
    func requeue(_ connection: Connection) {
        do {
            try pool.submit(indexed: connection.serveJob)
        } catch {
            // Only after shutdown, when the pool has stopped: close instead.
            connection.state.store(.closed, ordering: .releasing)
            connection.owner.inbox.push(closing: connection)
        }
    }

    /// The job pool worker `worker` runs for a queued connection.
    func serve(_ connection: Connection, on worker: Int) {
        workers[worker].serve(connection)
    }

    // MARK: Loop 0: accepting

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
            // Drained before it is closed, so the client reads BUSY instead of a reset.
            loops[0].lingering.close(fd)
            counters.connectionsRejected.add(1, ordering: .relaxed)
            if !rejecting {
                rejecting = true
                logger.info("--max-connections \(configuration.maxConnections) reached: refusing new connections with BUSY")
            }
            return
        }
        rejecting = false
        Socket.setNoDelay(fd)
        // Counted here, so that --max-connections holds while the socket is on its way.
        counters.connectionsCurrent.add(1, ordering: .relaxed)
        counters.connectionsTotal.add(1, ordering: .relaxed)
        let loop = loops[nextLoop]
        nextLoop = (nextLoop + 1) % loops.count
        if loop.index == 0 {
            loop.adopt(fd, kind: kind)
        } else {
            loop.inbox.push(accepted: fd, kind: kind)
        }
    }

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
        // Loops other than 0 free descriptors without telling it: the timer retries.
        acceptRetry?.add(timeout: 0.1)
    }

    /// On loop 0: it freed a descriptor.
    func fileDescriptorFreed() {
        if acceptPaused { resumeAccepting() }
    }

    private func resumeAccepting() {
        guard acceptPaused, lifecycle.load(ordering: .relaxed) == .running else { return }
        acceptPaused = false
        acceptRetry?.remove()
        listener?.enable()
        memcachedListener?.enable()
    }

    // MARK: Loop 0: shutdown

    /// On loop 0: a ``shutdown()`` call woke it.
    func checkShutdownRequest() {
        if shutdownRequested.load(ordering: .sequentiallyConsistent) && lifecycle.load(ordering: .relaxed) == .running {
            logger.info("shutting down")
            beginShutdown()
        }
    }

    /// On loop 0: stop accepting at once, then every loop closes its connections once
    /// what they sent has run.
    private func beginShutdown() {
        guard lifecycle.load(ordering: .relaxed) == .running else { return }
        lifecycle.store(.stopping, ordering: .sequentiallyConsistent)
        onStopping?()
        listener = nil  // closes the listening sockets
        memcachedListener = nil
        for loop in loops.dropFirst() { loop.inbox.wakeup.wake() }
        loops[0].beginShutdown()
    }
}
