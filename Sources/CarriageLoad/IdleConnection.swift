import CarriagePosix
import Glibc

/// One `--idle` connection: connected once, then silent for the whole run. It watches for
/// reads only to notice the server dropping it (any byte or EOF counts as an error: the
/// server refused it or closed it); it is never reopened.
final class IdleConnection {
    private enum State {
        case notStarted
        case connecting
        case open
        case closed
    }

    /// The owning thread; `unowned(unsafe)` for the reason given in `ClientConnection`.
    private unowned(unsafe) let driver: LoadThread
    private var state = State.notStarted
    private var fd: Int32 = -1
    private var readEvent: LoopEvent?
    private var connectEvent: LoopEvent?
    private var connectStarted: UInt64 = 0

    init(driver: LoadThread) {
        self.driver = driver
    }

    var isConnecting: Bool { state == .connecting }

    func connect() {
        guard state == .notStarted else { return }
        driver.connectStarted()
        do {
            fd = try Socket.makeTCP(family: driver.address.family)
        } catch {
            state = .closed
            driver.connectFinished(error, idle: true)
            return
        }
        do {
            // unowned(unsafe): this connection owns the events and frees them first.
            readEvent = try CallbackEvent(loop: driver.loop, fd: fd, events: [.read, .persist]) { [unowned(unsafe) self] _ in self.dropped() }
            connectEvent = try CallbackEvent(loop: driver.loop, fd: fd, events: .write) { [unowned(unsafe) self] _ in self.connectEnded() }
        } catch {
            finish(connectError: SystemError(call: "event_new", errno: ENOMEM))
            return
        }
        state = .connecting
        connectStarted = MonotonicClock.nanoseconds()
        do {
            switch try Socket.connect(fd, to: driver.address) {
            case .done: opened()
            case .wouldBlock: connectEvent!.add()
            }
        } catch {
            finish(connectError: error)
        }
    }

    private func opened() {
        state = .open
        connectEvent = nil
        readEvent!.add()
        driver.connectFinished(nil, idle: true)
    }

    private func connectEnded() {
        guard state == .connecting else { return }
        if let error = Socket.pendingError(fd) { finish(connectError: error) } else { opened() }
    }

    /// The server wrote or closed: BUSY (or the peer's "too many connections") counts as
    /// busy, EOF or a reset as closed, anything else as a wrong reply.
    private func dropped() {
        guard state == .open else { return }
        var buffer = ByteBuffer(capacity: 256)
        let kind: ErrorKind
        do {
            switch try Socket.read(fd, into: buffer.writable) {
            case .wouldBlock:
                return  // spurious wake-up: nothing to count
            case .done(0):
                kind = .closed
            case .done(let n):
                buffer.commit(n)
                kind = ReplyLine.isBusy(buffer.bytes) ? .busy : .wrongReply
            }
        } catch {
            kind = .closed
        }
        close()
        driver.idleDropped(kind, sample: ReplyLine.sample(buffer.bytes))
    }

    private func finish(connectError error: SystemError) {
        close()
        driver.connectFinished(error, idle: true)
    }

    func checkTimeout(now: UInt64, limit: UInt64) {
        if state == .connecting && now &- connectStarted > limit {
            finish(connectError: SystemError(call: "connect", errno: ETIMEDOUT))
        }
    }

    /// Closes the socket and frees its events (for good).
    func close() {
        readEvent = nil
        connectEvent = nil
        if fd >= 0 {
            Socket.close(fd)
            fd = -1
        }
        state = .closed
    }
}
