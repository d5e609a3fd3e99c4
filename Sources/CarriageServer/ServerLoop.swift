import CarriagePosix
import Glibc
import Logging
import Synchronization

/// One loop thread (`loop-<n>`): its libevent base, the connections it watches, and
/// their hand-off to the one shared ``WorkerPool``.
///
/// The loop's thread is the only caller of libevent for its base and its connections.
/// Loop 0 also accepts, and deals each new socket to a loop in turn; another loop gets it
/// through its ``LoopInbox``. A ready connection is queued to the pool once
/// (`idle -> queued`), in one batch per loop iteration; a worker hands a finished one
/// back through the inbox of the loop that owns it.
///
/// `@unchecked Sendable`: the loop-only state below is touched only on the loop's
/// thread; what workers use is immutable, atomic, or locked (the inbox, the pool).
final class ServerLoop: @unchecked Sendable {
    let index: Int
    unowned let server: Server
    let base: EventLoop
    let inbox: LoopInbox
    /// Sockets closed gracefully (``LingeringCloses``); the loop's thread only.
    let lingering: LingeringCloses
    /// Open connections on this loop (`loop.<n>.connections`).
    let connections: ServerCounters.LoopConnections
    /// A worker left one of this loop's connections unread at `--max-client-memory` since
    /// the sweep last looked; set by workers, taken by the sweep.
    private let pausedForMemory = Atomic<Bool>(false)

    // --- The loop thread's alone. ---
    /// Open connections by fd: fds are small and dense, so an array is the cheapest map.
    private var registry: [Connection?] = []
    private var registered = 0
    /// Connections made ready this loop iteration, queued in one batch at its end.
    /// Touched per request, so without the run-time exclusivity check (see `Connection`):
    /// the loop's instructions per request fell from 974 to 831 with the workers' fields.
    @exclusivity(unchecked) private var ready: [Connection] = []
    private var closing: [Connection] = []
    private var accepted: [(fd: Int32, kind: ProtocolKind)] = []
    private var wakeEvent: LoopEvent?
    private var idleSweep: IntervalTimer?
    private var graceTimer: LoopEvent?
    private var shutdownDeadline: LoopEvent?
    private var stopping = false
    private var done = false

    init(index: Int, server: Server, configuration: ServerConfiguration) throws(ServerError) {
        self.index = index
        self.server = server
        self.connections = server.counters.connectionsPerLoop[index]
        do {
            inbox = try LoopInbox(capacity: configuration.maxConnections)
        } catch {
            throw .system(error)
        }
        do {
            // Edge-triggered events and EV_CLOSED are what the connection lifecycle needs.
            base = try EventLoop(requiring: [.edgeTriggered, .earlyClose])
        } catch {
            throw .eventLoop(error)
        }
        lingering = LingeringCloses(base: base, capacity: 1024)
        ready.reserveCapacity(configuration.maxConnections)
        closing.reserveCapacity(configuration.maxConnections)
        accepted.reserveCapacity(configuration.maxConnections)
        do {
            wakeEvent = try LoopEvent.readable(on: base, fd: inbox.wakeup.fd) { [unowned self] in self.woken() }
            lingering.whenEmpty = { [unowned self] in self.checkStopped() }
            if configuration.idleTimeoutSeconds > 0 || configuration.requestTimeoutSeconds > 0
                || configuration.maxClientMemoryBytes > 0 {
                idleSweep = try IntervalTimer(on: base, every: .seconds(1)) { [unowned self] in self.sweep() }
            }
        } catch {
            throw .eventLoop(error)
        }
    }

    /// Frees every C event before the base goes (the server's deinit, after the loops ran).
    func freeEvents() {
        for case let connection? in registry {
            connection.free()
            Socket.close(connection.fd)
        }
        registry = []
        // Every reference to a connection goes, so none keeps its loop (`owner`) alive;
        // sockets dealt to this loop but never watched are closed.
        inbox.drain(closing: &closing, accepted: &accepted)
        for socket in accepted { Socket.close(socket.fd) }
        closing = []
        accepted = []
        ready = []
        lingering.closeAll()
        idleSweep = nil
        graceTimer = nil
        shutdownDeadline = nil
        wakeEvent = nil
    }

    /// Runs the loop on the calling thread until a shutdown has closed all its connections.
    func run() {
        while !done {
            base.runOnce()
            flushReady()
        }
    }

    // MARK: Connections

    /// Watches a socket accepted for this loop (on this loop's thread).
    func adopt(_ fd: Int32, kind: ProtocolKind) {
        guard !stopping else {
            Socket.close(fd)
            server.counters.connectionsCurrent.subtract(1, ordering: .relaxed)
            return
        }
        let connection: Connection
        do {
            connection = server.usesTLS(kind)
                ? try TLSConnection(fd: fd, kind: kind, now: server.clock.seconds(), owner: self, loop: base)
                : try Connection(fd: fd, kind: kind, now: server.clock.seconds(), owner: self, loop: base)
        } catch {
            server.logger.error("cannot watch a new connection: \(error)")
            Socket.close(fd)
            server.counters.connectionsCurrent.subtract(1, ordering: .relaxed)
            return
        }
        connection.add()
        let slot = Int(fd)
        if slot >= registry.count { registry.append(contentsOf: repeatElement(nil, count: slot + 1 - registry.count)) }
        registry[slot] = connection
        registered += 1
        connections.count.add(1, ordering: .relaxed)
        if server.logger.logLevel <= .debug {
            server.logger.debug("connection opened", metadata: [
                "connection": "\(fd)", "client": "\(Socket.peerName(fd))", "loop": "\(index)"])
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
        server.submit(ready)
        ready.removeAll(keepingCapacity: true)
    }

    /// The eventfd fired: connections to free or to watch, or a shutdown.
    private func woken() {
        inbox.drain(closing: &closing, accepted: &accepted)
        for connection in closing { free(connection) }
        closing.removeAll(keepingCapacity: true)
        for socket in accepted { adopt(socket.fd, kind: socket.kind) }
        accepted.removeAll(keepingCapacity: true)
        if index == 0 { server.checkShutdownRequest() }
        if server.isStopping && !stopping { beginShutdown() }
        checkStopped()
    }

    /// Frees a `closed` connection: its event, its fd, its registry entry, and the buffers
    /// it held if the loop closed it (a worker that closes one empties them itself).
    private func free(_ connection: Connection) {
        connection.free()  // no callback for it runs afterwards
        let held = connection.heldBytes
        if held > 0 {
            connection.input = []
            connection.output = []
            server.counters.clientMemory.change(by: -held)
        }
        if connection.lingers && !connection.peerHungUp.load(ordering: .relaxed) {
            lingering.close(connection.fd)
        } else {
            Socket.close(connection.fd)
        }
        registry[Int(connection.fd)] = nil
        registered -= 1
        connections.count.subtract(1, ordering: .relaxed)
        server.counters.connectionsCurrent.subtract(1, ordering: .relaxed)
        if index == 0 { server.fileDescriptorFreed() }
    }

    /// Each second: closes connections silent for `--idle-timeout`, and those whose request
    /// has not completed within `--request-timeout` of its first byte (a slow or trickling
    /// client: the idle timeout sees only silence); then keeps `--max-client-memory`.
    private func sweep() {
        closeIdleConnections()
        boundClientMemory()
        checkStopped()
    }

    private func closeIdleConnections() {
        let now = server.clock.seconds()
        let idle = server.configuration.idleTimeoutSeconds
        let request = server.configuration.requestTimeoutSeconds
        for case let connection? in registry {
            let since = Int(connection.partialSince.load(ordering: .relaxed))
            if request > 0 && since != 0 && now - since >= request {
                let client = Socket.peerName(connection.fd)  // while the fd is open
                if closeIfIdle(connection) {
                    server.logger.info("request timeout: closed connection \(connection.fd) from \(client), its request still incomplete after \(request) s")
                }
            } else if idle > 0 && now - Int(connection.lastActive.load(ordering: .relaxed)) >= idle {
                if closeIfIdle(connection) {
                    server.logger.debug("idle timeout", metadata: ["connection": "\(connection.fd)"])
                }
            }
        }
    }

    /// Over `--max-client-memory` (reads from partial requests already paused): closes the
    /// idle connections holding the most until the total is under seven eighths of the
    /// bound. Under it: gives connections paused since the last sweep a turn, since the
    /// bytes they left unread bring no new edge.
    private func boundClientMemory() {
        let memory = server.counters.clientMemory
        guard memory.limit > 0 else { return }
        guard memory.isFull else {
            if pausedForMemory.load(ordering: .relaxed) && pausedForMemory.exchange(false, ordering: .relaxed) {
                for case let connection? in registry where connection.partialSince.load(ordering: .relaxed) != 0 {
                    connectionReady(connection, peerClosed: false)
                }
            }
            return
        }
        let before = memory.bytes
        var holders: [(kib: UInt16, connection: Connection)] = []
        for case let connection? in registry {
            let kib = connection.heldKiB.load(ordering: .relaxed)
            if kib > 0 { holders.append((kib, connection)) }
        }
        holders.sort { $0.kib > $1.kib }
        var closed = 0
        var closedKiB = 0
        for holder in holders {
            if memory.bytes <= memory.closeTarget { break }
            let client = Socket.peerName(holder.connection.fd)  // while the fd is open
            if closeIfIdle(holder.connection) {
                closed += 1
                closedKiB += Int(holder.kib)
                server.logger.info("client memory: closed connection \(holder.connection.fd) from \(client), holding \(holder.kib) KiB")
            }
        }
        guard closed > 0 else { return }
        memory.closed.add(closed, ordering: .relaxed)
        server.logger.warning("client memory at --max-client-memory (\(before) of \(memory.limit) bytes held): closed \(closed) connection(s) holding the most (\(closedKiB) KiB), now \(memory.bytes) bytes")
    }

    /// Closes `connection` from the loop if no worker has it.
    @discardableResult
    private func closeIfIdle(_ connection: Connection) -> Bool {
        let (done, _) = connection.state.compareExchange(expected: .idle, desired: .closed, ordering: .acquiringAndReleasing)
        if done {
            connection.lingers = true
            free(connection)
        }
        return done
    }

    /// From a worker: it left `connection`'s bytes unread at `--max-client-memory`. Set
    /// before the worker hands it back, so a sweep that takes it finds the connection
    /// `running` (made `dirty`, it runs again) or `idle` (queued).
    func notePaused() {
        server.counters.clientMemory.readsPaused.add(1, ordering: .relaxed)
        if !pausedForMemory.load(ordering: .relaxed) { pausedForMemory.store(true, ordering: .relaxed) }
    }

    // MARK: Shutdown

    /// This loop's part of a shutdown: every idle connection gets one more turn (a worker
    /// runs what it has sent and closes it); busy ones close at the end of their turn.
    func beginShutdown() {
        guard !stopping else { return }
        stopping = true
        idleSweep = nil
        for case let connection? in registry {
            connectionReady(connection, peerClosed: false)
        }
        // Replies a client will not read must not hold the shutdown for ever.
        graceTimer = try? LoopEvent.timer(on: base, repeating: false) { [unowned self] in
            for case let connection? in self.registry { self.closeIfIdle(connection) }
            self.checkStopped()
        }
        graceTimer?.add(timeout: Double(server.configuration.shutdownGraceSeconds))
        // Requests still running then are cut short: the loop stops waiting for them.
        let bound = server.configuration.shutdownTimeoutSeconds
        if bound > 0 {
            shutdownDeadline = try? LoopEvent.timer(on: base, repeating: false) { [unowned self] in
                self.lingering.closeAll()
                self.done = true
                self.base.stop()
            }
            shutdownDeadline?.add(timeout: Double(bound))
        }
        checkStopped()
    }

    private func checkStopped() {
        if stopping && registered == 0 && lingering.isEmpty {
            done = true
            base.stop()
        }
    }
}
