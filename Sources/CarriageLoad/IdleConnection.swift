import Glibc

/// One `--idle` connection: connected once, then silent for the whole run. It watches for
/// reads only to notice the server dropping it (any byte or EOF counts as an error: the
/// server refused it or closed it); it is never reopened.
final class IdleConnection: EventTarget {
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

    var isOpen: Bool { state == .open }
    var isConnecting: Bool { state == .connecting }
    /// Whether its one connect attempt is over (open, or failed, or dropped since).
    var isSettled: Bool { state == .open || state == .closed }

    func connect() {
        guard state == .notStarted else { return }
        driver.connectStarted()
        switch Syscall.tcpSocket(family: driver.address.family) {
        case .success(let socket): fd = socket
        case .failure(let error):
            state = .closed
            driver.connectFinished(ok: false, code: error.code, idle: true)
            return
        }
        do {
            readEvent = try LoopEvent(loop: driver.loop, fd: fd, flags: LoopEvent.read | LoopEvent.persist, target: self)
            connectEvent = try LoopEvent(loop: driver.loop, fd: fd, flags: LoopEvent.write, target: self)
        } catch {
            finish(connectError: ENOMEM)
            return
        }
        state = .connecting
        connectStarted = Clock.now()
        switch Syscall.connect(fd, to: driver.address) {
        case .done: opened()
        case .wouldBlock: connectEvent!.add()
        case .failed(let code): finish(connectError: code)
        }
    }

    private func opened() {
        state = .open
        connectEvent = nil
        readEvent!.add()
        driver.connectFinished(ok: true, code: 0, idle: true)
    }

    override func handleEvent(_ what: Int16) {
        if state == .connecting && what & LoopEvent.write != 0 {
            let code = Syscall.pendingError(fd)
            if code == 0 { opened() } else { finish(connectError: code) }
            return
        }
        if state == .open && what & LoopEvent.read != 0 {
            dropped()
        }
    }

    /// The server wrote or closed: BUSY (or the peer's "too many connections") counts as
    /// busy, EOF or a reset as closed, anything else as a wrong reply.
    private func dropped() {
        var kind = ErrorKind.closed
        var sample = ""
        withUnsafeTemporaryAllocation(byteCount: 256, alignment: 1) { buffer in
            switch Syscall.read(fd, into: buffer.baseAddress!, count: buffer.count) {
            case .wouldBlock:
                kind = .connectFailed  // spurious wake-up: nothing to count
            case .done(0), .failed:
                kind = .closed
            case .done(let n):
                let bytes = UnsafeRawBufferPointer(rebasing: buffer[..<n])
                let busy = ReplyLine.hasPrefix(bytes, "BUSY") || ReplyLine.contains(bytes, "Too many open connections")
                    || ReplyLine.contains(bytes, "max number of clients")
                kind = busy ? .busy : .wrongReply
                sample = ReplyLine.sample(bytes)
            }
        }
        if kind == .connectFailed { return }
        close()
        driver.idleDropped(kind, sample: sample)
    }

    private func finish(connectError code: Int32) {
        close()
        driver.connectFinished(ok: false, code: code, idle: true)
    }

    func checkTimeout(now: UInt64, limit: UInt64) {
        if state == .connecting && now &- connectStarted > limit {
            finish(connectError: ETIMEDOUT)
        }
    }

    /// Closes the socket and frees its events (for good).
    func close() {
        readEvent = nil
        connectEvent = nil
        if fd >= 0 {
            Syscall.close(fd)
            fd = -1
        }
        state = .closed
    }
}
