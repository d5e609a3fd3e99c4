import CarriagePosix
import Glibc

/// Sockets one loop is closing gracefully: their last reply is sent and their write side
/// shut down, and whatever the client still sends is read and dropped until it closes too,
/// or for at most `lingerSeconds`. Closing a socket that has unread input makes the kernel
/// answer with a reset, which can destroy the reply still in flight (`BUSY`, `ERR line too
/// long`, a reply before `QUIT`); draining first lets it arrive.
///
/// On the loop's thread only. At most `capacity` at once (each holds a descriptor); past
/// that a socket is closed at once.
final class LingeringCloses {
    /// Longest a socket lingers: long enough for a client to read what it was sent,
    /// short enough that a client which never closes costs little.
    static let lingerSeconds = 2.0
    private let capacity: Int
    private let base: EventLoop
    private var sockets: [Int32: (event: CallbackEvent, deadline: UInt64)] = [:]
    /// Where drained bytes go (one buffer for all).
    private var scratch = [UInt8](repeating: 0, count: 16 << 10)

    init(base: EventLoop, capacity: Int) {
        self.base = base
        self.capacity = capacity
    }

    var isEmpty: Bool { sockets.isEmpty }
    /// Runs when the last lingering socket is closed (the loop may then finish a shutdown).
    var whenEmpty: () -> Void = {}

    /// Shuts down `fd`'s write side and closes it once the client has stopped sending.
    func close(_ fd: Int32) {
        guard sockets.count < capacity, sockets[fd] == nil else { return Socket.close(fd) }
        Glibc.shutdown(fd, Int32(SHUT_WR))
        let event: CallbackEvent
        do {
            event = try CallbackEvent(loop: base, fd: fd, events: [.read, .persist]) { [unowned self] events in
                self.fired(fd, timedOut: events.contains(.timeout))
            }
        } catch {
            return Socket.close(fd)
        }
        sockets[fd] = (event, MonotonicClock.nanoseconds() + MonotonicClock.nanoseconds(fromSeconds: Self.lingerSeconds))
        event.add(timeout: Self.lingerSeconds)
    }

    private func fired(_ fd: Int32, timedOut: Bool) {
        guard let socket = sockets[fd] else { return }
        var finished = timedOut || MonotonicClock.nanoseconds() >= socket.deadline
        while !finished {
            do {
                switch try Socket.read(fd, into: &scratch, count: scratch.count) {
                case .wouldBlock: return  // more may come: wait for it (or the deadline)
                case .done(0): finished = true  // the client closed too
                case .done: continue
                }
            } catch {
                finished = true
            }
        }
        socket.event.free()
        sockets[fd] = nil
        Socket.close(fd)
        if sockets.isEmpty { whenEmpty() }
    }

    /// Closes every lingering socket now (the server is going away).
    func closeAll() {
        for (fd, socket) in sockets {
            socket.event.free()
            Socket.close(fd)
        }
        sockets = [:]
    }
}
