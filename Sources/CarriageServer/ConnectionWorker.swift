import CarriagePosix
import CarriageProtocol
import Glibc
import Logging

/// One pool worker's view of the server: its buffers, its request count, and the turn
/// it gives a connection. Input is read into this worker's buffer and replies are
/// built in its output buffer, so a connection needs buffers of its own only for what
/// a turn leaves behind.
///
/// `@unchecked Sendable`: its mutable state is used only by its own worker thread.
final class ConnectionWorker: @unchecked Sendable {
    /// How a turn ends.
    private enum Outcome {
        /// Nothing more to do now: give the connection back to the loop.
        case handBack
        /// The request budget is spent: go to the back of the queue.
        case requeue
        case close
    }

    /// How running the lines in a buffer stopped.
    private enum RunResult {
        /// Every complete line ran; `consumed` bytes are done, the rest is a partial line.
        case ranAll(consumed: Int)
        /// Stopped early (budget spent or output full); `consumed` bytes are done.
        case paused(consumed: Int)
        /// A line was too long, or `QUIT`: close after the output is flushed.
        case closing
    }

    let name: String
    /// Requests this worker ran (`worker.<n>.requests`); written by this worker only.
    private let requests: ServerCounters.WorkerRequests

    private unowned let core: Server
    private let clientMemory: ClientMemory
    /// Held here so that running a line does not go through `core` (an unowned load).
    private let processor: CommandProcessor
    private let memcached: MemcachedProcessor
    /// `--auth-file`'s users; nil when connections need no login.
    private let credentials: Credentials?
    private let maxLineBytes: Int
    private let requestsPerTurn: Int
    // Unchecked for the reason given in `Connection` (the worker's thread alone).
    @exclusivity(unchecked) private var readBuffer: [UInt8]
    @exclusivity(unchecked) private var out: [UInt8] = []
    /// Stop running lines once this much output waits to be sent.
    private let outputHighWater = 256 << 10
    @exclusivity(unchecked) private var requestsThisTurn = 0

    init(index: Int, name: String, core: Server, configuration: ServerConfiguration) {
        self.processor = core.processor
        self.memcached = core.memcachedProcessor
        self.credentials = core.processor.credentials
        self.name = name
        self.core = core
        self.clientMemory = core.counters.clientMemory
        self.requests = core.counters.requestsPerWorker[index]
        self.maxLineBytes = configuration.maxLineBytes
        self.requestsPerTurn = configuration.requestsPerTurn
        self.readBuffer = [UInt8](repeating: 0, count: 64 << 10)
        out.reserveCapacity(64 << 10)
    }

    /// The job the loop queues for a ready connection (state `queued`).
    func serve(_ connection: Connection) {
        // Sequentially consistent, as every `state` access that `peerHungUp` relies on.
        connection.state.store(.running, ordering: .sequentiallyConsistent)
        requestsThisTurn = 0
        var held = connection.heldBytes
        while true {
            var outcome = turn(connection)
            if outcome == .handBack && core.isStopping && connection.output.isEmpty {
                outcome = .close  // shutting down: what was received has run
                connection.lingers = true
            }
            if outcome == .close {
                connection.input = []
                connection.output = []
            }
            // Before the connection can pass to another thread.
            held = account(connection, heldBefore: held)
            switch outcome {
            case .close:
                close(connection)
                return
            case .requeue:
                connection.state.store(.queued, ordering: .releasing)
                core.requeue(connection)
                return
            case .handBack:
                let (handedBack, _) = connection.state.compareExchange(
                    expected: .running, desired: .idle, ordering: .sequentiallyConsistent)
                if handedBack { return }
                // `dirty`: an event came while this turn ran; look again.
                connection.state.store(.running, ordering: .sequentiallyConsistent)
            }
        }
    }

    /// Adds what the turn changed in `c`'s buffers to the client memory total; returns
    /// what they hold now.
    private func account(_ c: Connection, heldBefore: Int) -> Int {
        let held = c.heldBytes
        guard held != heldBefore else { return held }
        clientMemory.change(by: held - heldBefore)
        let kib = UInt16(min(Int(UInt16.max), (held + 1023) >> 10))
        if c.heldKiB.load(ordering: .relaxed) != kib { c.heldKiB.store(kib, ordering: .relaxed) }
        return held
    }

    /// Counts a request for the turn's budget and for STATS, before its reply can
    /// reach the client, so a client never sees a count behind its own replies.
    private func countRequest() {
        requestsThisTurn += 1
        // One writer: a load and a store, no read-modify-write.
        requests.count.store(requests.count.load(ordering: .relaxed) + 1, ordering: .relaxed)
    }

    private func turn(_ c: Connection) -> Outcome {
        let now = Int32(truncatingIfNeeded: core.clock.seconds())
        if c.lastActive.load(ordering: .relaxed) != now { c.lastActive.store(now, ordering: .relaxed) }
        if c.isTLS, let stop = advanceHandshake(c as! TLSConnection) { return stop }
        while true {
            if !c.output.isEmpty {
                switch flushPending(c) {
                case .failed: return .close
                case .blocked: return .handBack  // the write edge brings it back
                case .flushed: break
                }
            }
            if c.closeAfterFlush { return .close }
            if requestsThisTurn >= requestsPerTurn { return .requeue }

            if c.inputHasLines {
                // Lines an earlier turn left: run them before reading more.
                let pending = c.input
                c.input = []
                c.inputHasLines = false
                keepUnrun(run(pending[...], c), of: pending[...], in: c)
                if !flushOut(c) { return c.output.isEmpty ? .close : .handBack }
                continue
            }

            // Past --max-client-memory, a partial request does not grow: its client waits.
            // Unless the client has closed its side: then what is left to read is bounded,
            // and only reading it finds the end of stream that lets the connection go.
            if !c.input.isEmpty && clientMemory.isFull && !c.peerHungUp.load(ordering: .relaxed) {
                c.owner.notePaused()
                return .handBack
            }
            switch readInput(c) {
            case .failed:
                return .close
            case .wouldBlock:
                return .handBack
            case .endOfStream:
                // The final unterminated line is one more request (memcached drops it).
                c.closeAfterFlush = true
                if !c.input.isEmpty && c.kind == .line {
                    let last = c.input
                    c.input = []
                    runFinalLine(last[...], c)
                }
                if !flushOut(c) { return c.output.isEmpty ? .close : .handBack }
            case .read(let count, let short):
                // memcached: the rest of a refused data block is dropped unread.
                let start = min(count, Int(c.discardRemaining))
                c.discardRemaining -= Int32(start)
                if start == count {
                    if c.discardRemaining == 0 { c.partialSince.store(0, ordering: .relaxed) }
                    continue
                }
                if c.input.isEmpty {
                    keepUnrun(run(readBuffer[start..<count], c), of: readBuffer[start..<count], in: c)
                } else if c.kind == .line && readBuffer[start..<count].firstIndex(ofByte: UInt8(ascii: "\n")) == nil {
                    // The partial line goes on, still without its LF: append, and do not look
                    // at what was there again (a trickling client must not cost quadratic time).
                    c.input.append(contentsOf: readBuffer[start..<count])
                    if c.input.count > maxLineBytes + 1 {  // +1: room for a CR before the LF
                        c.input = []
                        lineTooLong(c)
                    }
                } else {
                    // A partial request is waiting: complete it in the connection's buffer.
                    c.input.append(contentsOf: readBuffer[start..<count])
                    let pending = c.input
                    c.input = []
                    keepUnrun(run(pending[...], c), of: pending[...], in: c)
                }
                let replied = !out.isEmpty
                if !flushOut(c) { return c.output.isEmpty ? .close : .handBack }
                if short && replied && !c.closeAfterFlush && !c.inputHasLines && c.input.isEmpty && !mayHaveFIN(c) {
                    return .handBack  // drained: skip the read that would say EAGAIN
                }
            }
        }
    }

    /// After a short read, whether the read that would say EAGAIN can be skipped. It
    /// can unless something may wait behind the data that no new edge will announce:
    /// - a FIN: the loop flags EV_CLOSED in `peerHungUp` before it reads `state`, and
    ///   this load follows our `running` store, all sequentially consistent; so either
    ///   the loop saw us `running` (and made us `dirty`), or we see its flag;
    /// - a reset: it comes as EPOLLHUP/EPOLLERR, which libevent reports without
    ///   EV_CLOSED; but a socket reset before our read fails the send that followed
    ///   it, so the caller skips only after replies went out, and a reset that comes
    ///   later brings an edge of its own.
    /// Anything else (more data) brings a new edge, which makes us `dirty` or `queued`.
    private func mayHaveFIN(_ c: Connection) -> Bool {
        c.peerHungUp.load(ordering: .sequentiallyConsistent)
    }

    // MARK: Input

    private enum ReadResult {
        /// `short`: fewer bytes than asked for, so the socket held no more data.
        case read(Int, short: Bool)
        case wouldBlock
        case endOfStream
        case failed
    }

    private func readInput(_ c: Connection) -> ReadResult {
        // With a partial line waiting, read no more than can still complete it (and one
        // byte over, to tell "too long"), so a connection never holds more than
        // --max-line-bytes of one line.
        // (memcached's requests carry data blocks; its processor bounds what it waits for.)
        var room = c.input.isEmpty || c.kind == .memcached
            ? readBuffer.count : min(readBuffer.count, max(1, maxLineBytes + 2 - c.input.count))
        // Past --max-client-memory, what a read may leave behind is small.
        if clientMemory.isFull { room = min(room, ClientMemory.readSlice) }
        if c.isTLS { return readTLS(c as! TLSConnection, room: room) }
        do {
            switch try Socket.read(c.fd, into: &readBuffer, count: room) {
            case .wouldBlock:
                return .wouldBlock
            case .done(0):
                return .endOfStream
            case .done(let count):
                return .read(count, short: count < room)
            }
        } catch {
            // ECONNRESET and friends: the peer is gone.
            core.logger.debug("read failed", metadata: ["connection": "\(c.fd)", "error": "\(error)"])
            return .failed
        }
    }

    /// Runs every complete request of `bytes` in order, appending replies to `out`.
    private func run(_ bytes: ArraySlice<UInt8>, _ c: Connection) -> RunResult {
        switch c.kind {
        case .line: runLines(bytes, c)
        case .memcached: runMemcached(bytes, c)
        }
    }

    /// memcached's requests: a line, and for storage commands a data block.
    private func runMemcached(_ bytes: ArraySlice<UInt8>, _ c: Connection) -> RunResult {
        var start = bytes.startIndex
        while start < bytes.endIndex {
            let step = needsLogin(c)
                ? login(c) { auth in memcached.processBeforeAuth(bytes[start...], auth: &auth, credentials: credentials!, output: &out) }
                : memcached.process(bytes[start...], output: &out)
            switch step {
            case .incomplete:
                return .ranAll(consumed: start - bytes.startIndex)
            case .ran(let consumed):
                countRequest()
                start += consumed
            case .discard(let consumed, let remaining):
                countRequest()
                start += consumed
                c.discardRemaining = Int32(remaining)
            case .quit:
                countRequest()
                closeWhenFlushed(c)
                return .closing
            case .lineTooLong:
                closeWhenFlushed(c)
                return .closing
            }
            if turnIsFull {
                return .paused(consumed: start - bytes.startIndex)
            }
        }
        return .ranAll(consumed: start - bytes.startIndex)
    }

    /// The line protocol's requests: one a line.
    private func runLines(_ bytes: ArraySlice<UInt8>, _ c: Connection) -> RunResult {
        var start = bytes.startIndex
        let end = bytes.endIndex
        while start < end {
            guard let newline = bytes[start..<end].firstIndex(ofByte: UInt8(ascii: "\n")) else {
                if end - start > maxLineBytes + 1 {  // +1: room for a CR before the LF
                    lineTooLong(c)
                    return .closing
                }
                break
            }
            var lineEnd = newline
            if lineEnd > start && bytes[lineEnd - 1] == UInt8(ascii: "\r") { lineEnd -= 1 }
            let line = bytes[start..<lineEnd]
            start = newline + 1
            if line.isEmpty { continue }
            if line.count > maxLineBytes {
                lineTooLong(c)
                return .closing
            }
            countRequest()
            if execute(line, c) == .close {
                closeWhenFlushed(c)
                return .closing
            }
            if turnIsFull {
                return .paused(consumed: start - bytes.startIndex)
            }
        }
        return .ranAll(consumed: start - bytes.startIndex)
    }

    /// At end of stream: the unterminated last line, CR dropped, runs as a request.
    private func runFinalLine(_ bytes: ArraySlice<UInt8>, _ c: Connection) {
        var line = bytes
        if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
        guard !line.isEmpty else { return }
        if line.count > maxLineBytes {
            lineTooLong(c)
            return
        }
        countRequest()
        _ = execute(line, c)
    }

    // MARK: Login

    private func execute(_ line: ArraySlice<UInt8>, _ c: Connection) -> Disposition {
        guard needsLogin(c) else { return processor.execute(line: line, output: &out) }
        return login(c) { auth in processor.execute(line: line, auth: &auth, output: &out) }
    }

    /// With `--auth-file`, until the connection has logged in: one branch on the hot path.
    private func needsLogin(_ c: Connection) -> Bool {
        credentials != nil && !AuthState(packed: c.authState).isAuthenticated
    }

    /// Runs `body` on `c`'s login state, then counts and logs what it did: a login, or
    /// a failed attempt (with the client's address).
    private func login<Result>(_ c: Connection, _ body: (inout AuthState) -> Result) -> Result {
        var auth = AuthState(packed: c.authState)
        let before = auth
        let result = body(&auth)
        guard auth != before else { return result }
        c.authState = auth.packed
        core.counters.authCommands.add(1, ordering: .relaxed)
        if auth.failures > before.failures {
            core.counters.authErrors.add(1, ordering: .relaxed)
            let closing = auth.failures >= AuthState.maxFailures ? "; closing the connection" : ""
            core.logger.warning("authentication failed for \(Socket.peerName(c.fd)) (attempt \(auth.failures) of \(AuthState.maxFailures))\(closing)")
        } else {
            core.logger.debug("authenticated", metadata: ["client": "\(Socket.peerName(c.fd))"])
        }
        return result
    }

    /// Keeps in the connection what `run` left of `bytes`: a partial line, or lines.
    private func keepUnrun(_ result: RunResult, of bytes: ArraySlice<UInt8>, in c: Connection) {
        var partial = c.discardRemaining > 0
        switch result {
        case .closing:
            c.input = []
        case .ranAll(let consumed):
            if consumed < bytes.count {
                c.input = Array(bytes.dropFirst(consumed))
                partial = true
            }
        case .paused(let consumed):
            if consumed < bytes.count {
                c.input = Array(bytes.dropFirst(consumed))
                c.inputHasLines = true
            }
        }
        // --request-timeout counts from the turn that first left this request incomplete.
        if partial {
            if c.partialSince.load(ordering: .relaxed) == 0 {
                c.partialSince.store(max(1, Int32(truncatingIfNeeded: core.clock.seconds())), ordering: .relaxed)
            }
        } else if c.partialSince.load(ordering: .relaxed) != 0 {
            c.partialSince.store(0, ordering: .relaxed)
        }
    }

    private func lineTooLong(_ c: Connection) {
        out.append(static: Reply.lineTooLong)
        closeWhenFlushed(c)
    }

    /// The server closes `c` once its replies are sent (`QUIT`, a line too long), while
    /// the client may still be sending: its loop drains it first (``LingeringCloses``).
    private func closeWhenFlushed(_ c: Connection) {
        c.closeAfterFlush = true
        c.lingers = true
    }

    /// The turn's request budget is spent, or enough output waits: stop running requests.
    private var turnIsFull: Bool {
        requestsThisTurn >= requestsPerTurn || out.count >= outputHighWater
    }

    // MARK: Output

    private enum FlushResult { case flushed, blocked, failed }

    /// Sends this worker's `out`; what the socket will not take moves to the connection.
    /// Returns false when the connection cannot go on now (blocked: `c.output` is
    /// set; failed: `c.output` is empty).
    private func flushOut(_ c: Connection) -> Bool {
        defer { out.removeAll(keepingCapacity: true) }
        guard !out.isEmpty else { return true }
        switch send(out, c) {
        case .done:
            return true
        case .partial(let sent):
            c.output = Array(out[sent...])
            return false
        case .failed:
            c.closeAfterFlush = true
            return false
        }
    }

    /// Sends the replies an earlier turn could not.
    private func flushPending(_ c: Connection) -> FlushResult {
        switch send(c.output, c) {
        case .done:
            c.output = []
            return .flushed
        case .partial(let sent):
            if sent > 0 { c.output.removeFirst(sent) }
            return .blocked
        case .failed:
            c.output = []
            return .failed
        }
    }

    private enum SendResult { case done, partial(sent: Int), failed }

    private func send(_ bytes: [UInt8], _ c: Connection) -> SendResult {
        if c.isTLS { return sendTLS(bytes, c as! TLSConnection) }
        var sent = 0
        do {
            while sent < bytes.count {
                switch try Socket.send(c.fd, bytes, sent..<bytes.count) {
                case .done(let count): sent += count
                case .wouldBlock: return .partial(sent: sent)
                }
            }
            return .done
        } catch {
            core.logger.debug("send failed", metadata: ["connection": "\(c.fd)", "error": "\(error)"])
            return .failed
        }
    }

    // MARK: Closing

    /// Its buffers are already empty (and accounted).
    private func close(_ c: Connection) {
        if c.isTLS { (c as! TLSConnection).session?.close() }  // close_notify, here and not on the loop
        c.state.store(.closed, ordering: .releasing)
        if core.logger.logLevel <= .debug {
            core.logger.debug("connection closed", metadata: [
                "connection": "\(c.fd)", "client": "\(Socket.peerName(c.fd))", "worker": "\(name)"])
        }
        c.owner.inbox.push(closing: c)
    }

    // MARK: TLS

    /// Makes the session on the first turn and drives the handshake: nil once it is
    /// complete (the turn goes on to the requests), else how the turn ends.
    private func advanceHandshake(_ c: TLSConnection) -> Outcome? {
        if let session = c.session, session.isEstablished { return nil }
        do {
            let session: TLSSession
            if let made = c.session {
                session = made
            } else {
                session = try TLSSession(context: core.certificates!.context, fd: c.fd)
                c.session = session
            }
            switch try session.handshake() {
            case .done:
                // From now on --request-timeout counts requests, not the handshake.
                c.partialSince.store(0, ordering: .relaxed)
                return nil
            case .wantRead, .wantWrite:
                return .handBack  // the socket's next edge brings it back
            case .closed:
                return .close
            }
        } catch {
            core.counters.tlsHandshakeFailures.add(1, ordering: .relaxed)
            core.logger.info("TLS handshake failed from \(Socket.peerName(c.fd)): \(error)")
            c.session?.close()
            return .close
        }
    }

    /// Reads decrypted bytes into `readBuffer`. Never `short`: OpenSSL returns one record
    /// at a time, and more may wait in the kernel or in OpenSSL (`SSL_pending`) with no
    /// new edge to say so; so the turn reads on until OpenSSL says it needs the socket.
    private func readTLS(_ c: TLSConnection, room: Int) -> ReadResult {
        guard let session = c.session else { return .failed }
        do {
            switch try session.read(into: &readBuffer, count: room) {
            case .done(let count): return .read(count, short: false)
            case .wantRead, .wantWrite: return .wouldBlock
            case .closed: return .endOfStream
            }
        } catch {
            core.logger.info("TLS read failed from \(Socket.peerName(c.fd)): \(error)")
            return .failed
        }
    }

    private func sendTLS(_ bytes: [UInt8], _ c: TLSConnection) -> SendResult {
        guard let session = c.session else { return .failed }
        var sent = 0
        do {
            while sent < bytes.count {
                switch try session.write(bytes[sent...]) {
                case .done(let count): sent += count
                case .wantRead, .wantWrite: return .partial(sent: sent)
                case .closed: return .failed
                }
            }
            return .done
        } catch {
            core.logger.debug("TLS send failed", metadata: ["connection": "\(c.fd)", "error": "\(error)"])
            return .failed
        }
    }
}
