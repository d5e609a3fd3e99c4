import CLibevent
import Glibc

/// A repeating timer kept by the kernel (a timerfd) and watched as a readable descriptor
/// on an ``EventLoop``: for a loop's once-a-second chores.
///
/// Why not a libevent timer: while one is pending, every `epoll_wait` of the loop carries
/// a timeout, and the kernel arms and cancels a high-resolution timer at each of the
/// loop's sleeps, thousands a second under load. With no libevent timer pending the loop
/// sleeps with none, and this timer is armed once per period.
package final class IntervalTimer {
    /// The timerfd (`package` for tests).
    package let fd: Int32
    /// Level-triggered, so an expiry not yet read fires again; freed before `fd` closes.
    private var event: CallbackEvent?

    /// Runs `handler` on the loop's thread every `period`, starting one `period` from
    /// now, until the timer is freed. Expiries the loop was too busy to see run it once.
    package init(on loop: EventLoop, every period: Duration, _ handler: @escaping () -> Void) throws(EventLoopError) {
        precondition(period > .zero, "an interval timer needs a positive period")
        // Locals until every step has worked: a throw then leaves nothing to undo but `fd`.
        let fd: Int32
        do throws(SystemError) {
            fd = try syscallBlocking("timerfd_create") {
                timerfd_create(CLOCK_MONOTONIC, Int32(TFD_NONBLOCK | TFD_CLOEXEC))
            }
        } catch {
            throw .cannotCreate("a timerfd", error)
        }
        let (seconds, attoseconds) = period.components
        // At least 1 ns: an all-zero interval would disarm the timer.
        let nanoseconds = max(Int(attoseconds / 1_000_000_000), seconds == 0 ? 1 : 0)
        let interval = timespec(tv_sec: Int(seconds), tv_nsec: nanoseconds)
        var setting = itimerspec(it_interval: interval, it_value: interval)
        do throws(SystemError) {
            _ = try syscallBlocking("timerfd_settime") { timerfd_settime(fd, 0, &setting, nil) }
        } catch {
            Descriptor.close(fd)
            throw .cannotCreate("a timerfd", error)
        }
        let event: CallbackEvent
        do throws(EventLoopError) {
            event = try CallbackEvent(loop: loop, fd: fd, events: [.read, .persist]) { _ in
                var expirations: UInt64 = 0
                _ = try? syscall("read") { read(fd, &expirations, 8) }
                handler()
            }
        } catch {
            Descriptor.close(fd)
            throw error
        }
        self.fd = fd
        self.event = event
        event.add()
    }

    deinit {
        event = nil
        Descriptor.close(fd)
    }
}
