import CarriagePosix
import Glibc

/// One load thread: its own libevent loop, its share of the connections (load and idle),
/// its own request mix, random generator and latency histogram. Nothing here is shared
/// with another thread while it runs except `progress` (atomics); the main thread reads
/// `stats` and the timestamps only after joining it.
final class LoadThread: @unchecked Sendable {
    enum StopReason: String, Sendable {
        /// `--duration` elapsed.
        case duration
        /// Every one of this thread's `--requests` was answered or lost.
        case requests
        /// SIGINT or SIGTERM.
        case interrupted
        /// Not one connect succeeded.
        case unreachable
        /// Nothing succeeded for `--timeout` seconds (the server went away).
        case stalled
    }

    /// How many connects may be in progress at once: opening thousands at once would
    /// overflow the server's accept queue, and dropped handshakes then wait seconds for
    /// a SYN retransmit.
    static let connectWindow = 256
    static let tickSeconds = 0.1

    let index: Int
    let loop: EventLoop
    let address: SocketAddress
    let mix: RequestMix
    let parser: any ReplyParser
    let progress = ProgressCounters()
    var random: FastRandom
    var keys: KeyCursor
    private(set) var stats = ThreadStats()

    let plan: LoadPlan
    private var connections: [ClientConnection] = []
    private var idles: [IdleConnection] = []
    private var retryQueue: [ClientConnection] = []
    private var tick: LoopEvent?
    private var endTimer: LoopEvent?

    private(set) var running = false
    private var pumping = false
    private var nextIdle = 0
    private var nextLoad = 0
    private var idleSettled = 0
    private var pendingConnects = 0
    private var idleOpen = 0
    /// Requests this thread may still issue (`Int.max` for a timed run).
    private var remaining: Int
    /// Requests issued and not yet answered or lost.
    private var outstanding = 0
    /// When the tick last saw a connect or a reply, and the count it saw.
    private var lastProgress: UInt64 = 0
    private var lastActivity = 0

    private(set) var loadStart: UInt64 = 0
    private(set) var loadEnd: UInt64 = 0
    private(set) var stopReason = StopReason.duration
    private(set) var idleOpenAtEnd = 0

    init(index: Int, plan: LoadPlan, connections: Int, idle: Int, requests: Int?) throws(LoadError) {
        self.index = index
        self.plan = plan
        do {
            self.loop = try EventLoop()
        } catch {
            throw .eventLoop(error)
        }
        self.address = plan.address
        // Each thread compiles its own mix from the checked templates: no shared buffers.
        self.mix = RequestMix(
            templates: plan.templates, keyCount: plan.keyCount, keyPrefix: plan.keyPrefix,
            checkedValue: plan.checkedValue)
        self.parser = plan.wire.parserType.init()
        self.random = FastRandom(seed: MonotonicClock.nanoseconds() &+ UInt64(index) &* 0x9E37_79B9_7F4A_7C15)
        self.keys = KeyCursor(order: plan.keyOrder, count: plan.keyCount, thread: index, threads: plan.threads)
        self.remaining = requests ?? Int.max
        for _ in 0..<connections {
            self.connections.append(ClientConnection(driver: self, pipeline: plan.pipeline,
                                                     connectPerRequest: plan.connectPerRequest,
                                                     maxRequestLength: mix.maxRequestLength))
        }
        for _ in 0..<idle {
            self.idles.append(IdleConnection(driver: self))
        }
    }

    /// Runs the thread's loop until its run is over, then closes everything it opened.
    func run() {
        running = true
        lastProgress = MonotonicClock.nanoseconds()
        do {
            let tick = try LoopEvent.timer(on: loop, repeating: true) { [unowned self] in
                self.onTick()
            }
            tick.add(timeout: Self.tickSeconds)
            self.tick = tick
        } catch {
            stats.sample("cannot start the thread's timer: \(error)")
            finish(.stalled)
        }
        if running { pump() }
        // pump() may already have finished the run (a zero share of --requests); a
        // loopbreak before the loop runs would be forgotten, so only run when still going.
        if running { loop.run() }
        teardown()
        publish()
        progress.done.store(true, ordering: .releasing)
    }

    // MARK: Connects

    /// Starts connects while fewer than `connectWindow` are in progress: idle connections
    /// first, then (once all idle ones are settled) the load connections.
    private func pump() {
        if pumping { return }
        pumping = true
        defer { pumping = false }
        while running && pendingConnects < Self.connectWindow {
            if nextIdle < idles.count {
                nextIdle += 1
                idles[nextIdle - 1].connect()
                continue
            }
            if idleSettled < idles.count { return }
            if loadStart == 0 { beginLoad() }
            guard nextLoad < connections.count else { return }
            nextLoad += 1
            connections[nextLoad - 1].connect()
        }
    }

    /// The idle connections are settled: the measured part of the run starts now.
    private func beginLoad() {
        loadStart = MonotonicClock.nanoseconds()
        lastProgress = loadStart
        if remaining == 0 {
            finish(.requests)  // this thread's share of --requests is zero
            return
        }
        if let duration = plan.duration {
            do {
                let endTimer = try LoopEvent.timer(on: loop, repeating: false) { [unowned self] in
                    self.finish(.duration)
                }
                endTimer.add(timeout: duration)
                self.endTimer = endTimer
            } catch {
                stats.sample("cannot start the end timer: \(error)")
                finish(.stalled)
            }
        }
    }

    func connectStarted() {
        pendingConnects += 1
    }

    /// A connect ended: `error` is nil when it succeeded.
    func connectFinished(_ error: SystemError?, idle: Bool = false) {
        pendingConnects -= 1
        if let error {
            stats.count(.connectFailed)
            if stats.firstConnectError == nil { stats.firstConnectError = error }
        } else {
            stats.connects += 1
            if idle { idleOpen += 1 }
        }
        if idle { idleSettled += 1 }
        pump()
    }

    /// A connection that failed is opened again at the next tick (never in a tight loop).
    func retryLater(_ connection: ClientConnection) {
        if running { retryQueue.append(connection) }
    }

    func idleDropped(_ kind: ErrorKind, sample: String) {
        idleOpen -= 1
        stats.count(kind)
        stats.sample("idle connection dropped by the server (\(kind.name))" + (sample.isEmpty ? "" : ": '\(sample)'"))
    }

    // MARK: Requests (hot path)

    var hasRequestsLeft: Bool { remaining > 0 }

    /// Takes one request from the budget; false when none is left or the run is over.
    @inline(__always)
    func takeRequest() -> Bool {
        guard running, remaining > 0 else { return false }
        remaining -= 1
        outstanding += 1
        return true
    }

    @inline(__always)
    func succeeded(latency: UInt64) {
        outstanding -= 1
        stats.requests += 1
        stats.recordLatency(latency)
        if remaining == 0 && outstanding == 0 { finish(.requests) }
    }

    func failed(_ outcome: ReplyOutcome, template: Int, reply: Bytes) {
        outstanding -= 1
        let kind: ErrorKind
        switch outcome {
        case .busy: kind = .busy
        case .error: kind = .errorReply
        case .ok, .wrong: kind = .wrongReply
        }
        stats.count(kind)
        stats.sample("\(kind == .busy ? "busy" : kind == .errorReply ? "error" : "wrong") reply to '\(mix.source(template))': '\(ReplyLine.sample(reply, trimmingTerminator: true))'")
        if remaining == 0 && outstanding == 0 { finish(.requests) }
    }

    /// `count` requests in flight were lost with their connection.
    func lost(_ count: Int, _ kind: ErrorKind) {
        outstanding -= count
        stats.count(kind, count)
        stats.sample("\(count) request(s) lost: \(kind.name)")
        if remaining == 0 && outstanding == 0 { finish(.requests) }
    }

    /// A connection failed with nothing in flight.
    func connectionFailed(_ kind: ErrorKind) {
        stats.count(kind)
        stats.sample("connection failed with no request in flight: \(kind.name)")
    }

    /// `--tls`: a handshake failed (the connection is then counted as failed).
    func tlsFailed(_ error: TLSError) {
        stats.sample("TLS handshake failed: \(error)")
    }

    /// `--auth`: the server did not accept the login.
    func loginFailed(reply: Bytes) {
        stats.count(.errorReply)
        stats.sample("login refused: '\(ReplyLine.sample(reply, trimmingTerminator: true))'")
    }

    /// Bytes arrived that no request asked for.
    func strayBytes(_ bytes: Bytes) {
        stats.count(.wrongReply)
        stats.sample("bytes with no request in flight: '\(ReplyLine.sample(bytes))'")
    }

    // MARK: Housekeeping

    private func onTick() {
        let now = MonotonicClock.nanoseconds()
        if InterruptFlag.raised.load(ordering: .relaxed) {
            finish(.interrupted)
            return
        }
        let limit = plan.timeoutNanoseconds
        for connection in connections {
            connection.checkTimeout(now: now, limit: limit)
        }
        if idleSettled < idles.count {
            for idle in idles where idle.isConnecting {
                idle.checkTimeout(now: now, limit: limit)
            }
        }
        if !retryQueue.isEmpty && running {
            let due = retryQueue
            retryQueue.removeAll(keepingCapacity: true)
            for connection in due { connection.connect() }
        }
        publish()
        if !running {
            loop.stop()
            return
        }
        let activity = stats.requests + stats.connects + stats.errors[ErrorKind.wrongReply.rawValue]
            + stats.errors[ErrorKind.errorReply.rawValue] + stats.errors[ErrorKind.busy.rawValue]
        if activity != lastActivity {
            lastActivity = activity
            lastProgress = now
        }
        if stats.connects == 0 && stats.errors[ErrorKind.connectFailed.rawValue] >= idles.count + connections.count {
            finish(.unreachable)
        } else if now &- lastProgress > limit {
            // Nothing connected or answered for --timeout: the server is gone.
            finish(.stalled)
        }
    }

    private func publish() {
        progress.requests.store(stats.requests, ordering: .relaxed)
        progress.errors.store(stats.errorTotal, ordering: .relaxed)
        progress.idleOpen.store(idleOpen, ordering: .relaxed)
    }

    /// Ends the run of this thread (after the current callback).
    func finish(_ reason: StopReason) {
        guard running else { return }
        running = false
        loadEnd = MonotonicClock.nanoseconds()
        if loadStart == 0 { loadStart = loadEnd }
        stopReason = reason
        idleOpenAtEnd = idleOpen
        loop.stop()
    }

    private func teardown() {
        tick = nil
        endTimer = nil
        for connection in connections { connection.stop() }
        for idle in idles { idle.close() }
        retryQueue.removeAll()
        connections.removeAll()
        idles.removeAll()
    }
}
