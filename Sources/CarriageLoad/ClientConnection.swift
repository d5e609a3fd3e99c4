import CarriagePosix
import Glibc

/// One closed-loop client connection of a load thread. It keeps up to `--pipeline` requests
/// in flight: each reply that comes back is checked, timed and replaced by a new request,
/// and all the new requests of one read go out in one `send`. With `--connect-per-request`
/// it instead connects, sends one request, reads its reply and closes, over and over.
///
/// Hot path (per reply): one `read` into the reusable input buffer, an LF scan and a few
/// byte compares, a histogram record, `memcpy`s of pre-rendered bytes into the reusable
/// output buffer, one `send`. No allocation, no Foundation.
final class ClientConnection {
    private enum State {
        case disconnected
        case connecting
        /// `--tls`: connected, the TLS handshake under way.
        case handshaking
        /// `--auth`: the login sent, its reply awaited.
        case loggingIn
        case open
        case stopped
    }

    /// The thread that owns this connection and its loop. `unowned(unsafe)`: the thread
    /// holds every connection until its loop has stopped and their events are freed, so it
    /// outlives all of this connection's callbacks; this spares reference counting per call.
    private unowned(unsafe) let driver: LoadThread
    /// The thread's mix and parser, held here so the reply loop loads them without
    /// reference counting (the thread owns the mix and outlives this connection).
    private unowned(unsafe) let mix: RequestMix
    private let parser: any ReplyParser
    private let pipeline: Int
    private let connectPerRequest: Bool
    private var state = State.disconnected
    private var fd: Int32 = -1
    /// Made at the first connect and reused (re-pointed at each new socket) after that.
    private var readEvent: LoopEvent?
    private var writeEvent: LoopEvent?
    private var writeArmed = false
    private var input: ByteBuffer
    private var output: ByteBuffer
    private var inFlight: InFlightRing
    private var connectStarted: UInt64 = 0
    /// The server said BUSY: it closes the connection next; send nothing more.
    private var refused = false
    /// `--tls`: this socket's session; nil for plain TCP.
    private var tls: TLSSession?

    init(driver: LoadThread, pipeline: Int, connectPerRequest: Bool, maxRequestLength: Int) {
        self.driver = driver
        self.mix = driver.mix
        self.parser = driver.parser
        self.pipeline = pipeline
        self.connectPerRequest = connectPerRequest
        input = ByteBuffer(capacity: max(4096, pipeline * 64))
        output = ByteBuffer(capacity: max(1024, pipeline * maxRequestLength))
        inFlight = InFlightRing(capacity: pipeline)
    }

    var isConnecting: Bool { state == .connecting }

    // MARK: Connecting

    /// Opens a socket and starts a non-blocking connect (a no-op unless disconnected, or in
    /// connect-per-request mode when no request is left to send).
    func connect() {
        guard state == .disconnected, driver.running else { return }
        if connectPerRequest && !driver.hasRequestsLeft { return }
        do {
            fd = try Socket.makeTCP(family: driver.address.family)
        } catch {
            driver.connectStarted()
            driver.connectFinished(error)
            driver.retryLater(self)
            return
        }
        do {
            if let readEvent, let writeEvent {
                readEvent.reassign(fd: fd)
                writeEvent.reassign(fd: fd)
            } else {
                // unowned(unsafe): this connection owns the events and frees them first.
                readEvent = try CallbackEvent(loop: driver.loop, fd: fd, events: [.read, .persist]) { [unowned(unsafe) self] in self.handle($0) }
                writeEvent = try CallbackEvent(loop: driver.loop, fd: fd, events: .write) { [unowned(unsafe) self] in self.handle($0) }
            }
        } catch {
            Socket.close(fd)
            fd = -1
            driver.connectStarted()
            driver.connectFinished(SystemError(call: "event_new", errno: ENOMEM))
            driver.retryLater(self)
            return
        }
        state = .connecting
        connectStarted = MonotonicClock.nanoseconds()
        driver.connectStarted()
        do {
            switch try Socket.connect(fd, to: driver.address) {
            case .done: connected()
            case .wouldBlock: writeEvent!.add()
            }
        } catch {
            connectFailed(error)
        }
    }

    private func connected() {
        driver.connectFinished(nil)
        readEvent!.add()
        if let context = driver.plan.tls {
            do {
                tls = try TLSSession(context: context, fd: fd, connecting: true)
            } catch {
                fail(.reset)
                return
            }
            state = .handshaking
            advanceHandshake()
        } else {
            logIn()
        }
    }

    /// `--tls`: drives the handshake; once done, on to the login or the requests.
    private func advanceHandshake() {
        do {
            switch try tls!.handshake() {
            case .done: logIn()
            case .wantRead: break  // the read event is persistent
            case .wantWrite: armWrite()
            case .closed: fail(.closed)
            }
        } catch {
            driver.tlsFailed(error)
            fail(.reset)
        }
    }

    /// `--auth`: sends the login; without it, the requests start.
    private func logIn() {
        guard let login = driver.plan.login else { return open() }
        state = .loggingIn
        output.reserve(login.request.count)
        login.request.withUnsafeBytes { output.append(Bytes($0)) }
        flush()
    }

    /// The login's reply: the expected one opens the connection, anything else fails it.
    private func readLogin() {
        guard receive() else { return }
        guard let reply = driver.plan.login?.reply, input.readable.count >= reply.count else { return }
        if input.readable.prefix(reply.count).elementsEqual(reply) {
            input.consume(reply.count)
            open()
        } else {
            driver.loginFailed(reply: input.bytes)
            closeSocket()
            driver.retryLater(self)
        }
    }

    private func open() {
        state = .open
        // Connect-per-request times the whole exchange, connect included.
        fill(now: connectPerRequest ? connectStarted : MonotonicClock.nanoseconds())
        if connectPerRequest && inFlight.count == 0 && state == .open {
            closeSocket()  // the budget ran out while connecting
        }
    }

    private func connectFailed(_ error: SystemError) {
        closeSocket()
        driver.connectFinished(error)
        driver.retryLater(self)
    }

    // MARK: Events

    private func handle(_ events: LoopEvent.Events) {
        if events.contains(.write) {
            if state == .connecting {
                if let error = Socket.pendingError(fd) { connectFailed(error) } else { connected() }
            } else if state == .handshaking {
                writeArmed = false
                advanceHandshake()
            } else if state == .open || state == .loggingIn {
                writeArmed = false
                flush()
            }
        }
        if events.contains(.read) {
            switch state {
            case .open: readReplies()
            case .handshaking: advanceHandshake()
            case .loggingIn: readLogin()
            default: break
            }
        }
    }

    // MARK: Requests

    /// Tops the pipeline up with new requests, all stamped `now`, and sends them.
    @inline(__always)
    private func fill(now: UInt64) {
        if refused { return }
        while inFlight.count < pipeline && driver.takeRequest() {
            let (template, key) = mix.pick(&driver.random, keys: &driver.keys)
            mix.render(template: template, key: key, into: &output)
            inFlight.push(template: template, key: key, sent: now)
        }
        flush()
    }

    /// Sends what is buffered; when the socket is full, waits for writability (and sends
    /// nothing new until the buffer has drained).
    @inline(__always)
    private func flush() {
        while !output.isEmpty {
            switch send() {
            case .done(let n):
                output.consume(n)
            case .wouldBlock:
                armWrite()
                return
            case .failed, .closed:
                fail(.reset)
                return
            }
        }
    }

    private func armWrite() {
        if !writeArmed {
            writeEvent!.add()
            writeArmed = true
        }
    }

    private enum Transfer { case done(Int), wouldBlock, closed, failed }

    /// Sends from `output`, over TLS or not.
    @inline(__always)
    private func send() -> Transfer {
        if let tls {
            do {
                switch try tls.write(output.readable) {
                case .done(let n): return .done(n)
                case .wantRead, .wantWrite: return .wouldBlock  // a TLS write waits for either
                case .closed: return .failed
                }
            } catch {
                return .failed
            }
        }
        do {
            switch try Socket.send(fd, output.readable) {
            case .done(let n): return .done(n)
            case .wouldBlock: return .wouldBlock
            }
        } catch {
            return .failed
        }
    }

    /// Reads into `input`: once for plain TCP (the read event is level-triggered: more
    /// data fires it again), and over TLS until OpenSSL needs the socket, since what it
    /// holds decrypted fires nothing. False when the connection went (already handled).
    @inline(__always)
    private func receive() -> Bool {
        while true {
            input.reserve(1024)
            let result: Transfer
            if let tls {
                do {
                    switch try tls.read(into: input.writable) {
                    case .done(let n): result = .done(n)
                    case .wantRead, .wantWrite: result = .wouldBlock
                    case .closed: result = .closed
                    }
                } catch {
                    result = .failed
                }
            } else {
                do {
                    switch try Socket.read(fd, into: input.writable) {
                    case .wouldBlock: result = .wouldBlock
                    case .done(0): result = .closed
                    case .done(let n): result = .done(n)
                    }
                } catch {
                    result = .failed
                }
            }
            switch result {
            case .done(let n):
                input.commit(n)
                if tls == nil { return true }
            case .wouldBlock:
                return true
            case .closed:
                if tls != nil && !input.isEmpty { return true }  // answer what came first
                peerClosed()
                return false
            case .failed:
                fail(.reset)
                return false
            }
        }
    }

    /// Reads once (the event is level-triggered: more data fires again), then settles every
    /// complete reply in order.
    @inline(__always)
    private func readReplies() {
        guard receive() else { return }
        let now = MonotonicClock.nanoseconds()
        while inFlight.count > 0 {
            let entry = inFlight.oldest
            let template = Int(entry.template)
            guard let reply = parser.parse(input.bytes, expecting: mix.expected(template),
                                                  mix: mix, key: mix.key(Int(entry.key))) else { break }
            if reply.outcome == .ok {
                driver.succeeded(latency: now &- entry.sent)
            } else {
                if reply.outcome == .busy { refused = true }
                driver.failed(reply.outcome, template: template,
                              reply: input.bytes[0..<reply.length])
            }
            input.consume(reply.length)
            inFlight.popOldest()
        }
        if inFlight.count == 0 && !input.isEmpty {
            driver.strayBytes(input.bytes)
            closeSocket()
            driver.retryLater(self)
            return
        }
        if connectPerRequest {
            if inFlight.count == 0 {
                closeSocket()
                connect()
            }
            return
        }
        fill(now: now)
    }

    // MARK: Failures

    /// The server closed the connection (EOF).
    private func peerClosed() {
        if inFlight.count > 0 {
            driver.lost(inFlight.count, refused ? .busy : .closed)
        } else if !refused {
            driver.connectionFailed(.closed)
        }
        closeSocket()
        driver.retryLater(self)
    }

    /// A socket error or timeout: the requests in flight are lost (counted as `kind`), and
    /// the connection is opened again at the next tick.
    private func fail(_ kind: ErrorKind) {
        if inFlight.count > 0 {
            driver.lost(inFlight.count, kind)
        } else {
            driver.connectionFailed(kind)
        }
        closeSocket()
        driver.retryLater(self)
    }

    /// Called by the thread's tick: a connect or an oldest request older than `limit`
    /// nanoseconds has timed out.
    func checkTimeout(now: UInt64, limit: UInt64) {
        switch state {
        case .connecting where now &- connectStarted > limit:
            connectFailed(SystemError(call: "connect", errno: ETIMEDOUT))
        case .open where inFlight.count > 0 && now &- inFlight.oldest.sent > limit:
            fail(.timeout)
        default:
            break
        }
    }

    /// Closes the socket; the events stay allocated for the next connect.
    private func closeSocket() {
        guard fd >= 0 else { return }
        readEvent?.remove()
        writeEvent?.remove()
        writeArmed = false
        tls?.close()
        tls = nil
        Socket.close(fd)
        fd = -1
        if state != .stopped { state = .disconnected }
        inFlight.removeAll()
        input.removeAll()
        output.removeAll()
        refused = false
    }

    /// Ends the connection for good (end of the run); unanswered requests are not counted.
    func stop() {
        closeSocket()
        state = .stopped
        readEvent = nil
        writeEvent = nil
    }
}
