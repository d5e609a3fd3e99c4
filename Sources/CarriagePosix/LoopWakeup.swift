import CLibevent
import Glibc

/// An eventfd that another thread writes to wake a loop, and the loop reads to clear.
package final class LoopWakeup: Sendable {
    /// Watch it for readability on the loop.
    package let fd: Int32

    package init() throws(SystemError) {
        fd = try syscallBlocking("eventfd") { eventfd(0, Int32(EFD_NONBLOCK | EFD_CLOEXEC)) }
    }

    deinit {
        Descriptor.close(fd)
    }

    /// From any thread: makes the fd readable. Wake-ups before the next ``clear()`` merge.
    package func wake() {
        var one: UInt64 = 1
        _ = try? syscall("write") { write(fd, &one, 8) }
    }

    /// On the loop: makes the fd unreadable again.
    package func clear() {
        var count: UInt64 = 0
        _ = try? syscall("read") { read(fd, &count, 8) }
    }
}
