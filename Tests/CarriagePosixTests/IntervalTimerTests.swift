import CarriagePosix
import Glibc
import XCTest

final class IntervalTimerTests: XCTestCase {
    /// It fires again and again, never early, on the loop's thread; freed, it leaves no
    /// event and no descriptor behind.
    func testFiresEveryPeriodUntilFreed() throws {
        let loop = try EventLoop()
        var fired: [UInt64] = []
        let start = MonotonicClock.nanoseconds()
        var timer: IntervalTimer?
        timer = try IntervalTimer(on: loop, every: .milliseconds(10)) {
            fired.append(MonotonicClock.nanoseconds() - start)
            if fired.count == 3 { loop.stop() }
        }
        XCTAssertEqual(loop.pendingEvents, 1)
        XCTAssertTrue(try loop.runGuarded(), "the timer did not fire three times")
        XCTAssertEqual(fired.count, 3)
        for (index, at) in fired.enumerated() {
            XCTAssertGreaterThanOrEqual(at, UInt64(index + 1) * 10_000_000, "expiry \(index + 1) came early")
        }

        let fd = try XCTUnwrap(timer?.fd)
        XCTAssertEqual(fcntl(fd, F_GETFD), FD_CLOEXEC)
        timer = nil
        XCTAssertEqual(fcntl(fd, F_GETFD), -1, "the timerfd outlived its timer")
        XCTAssertEqual(loop.pendingEvents, 0)
    }

    /// Expiries that piled up while the loop was busy run the handler once, and the timer
    /// goes on firing after it (the expiry count is read, so the level trigger clears).
    func testMissedExpiriesFireOnceThenTheTimerGoesOn() throws {
        let loop = try EventLoop()
        var fired = 0
        let timer = try IntervalTimer(on: loop, every: .milliseconds(2)) {
            fired += 1
            if fired == 2 { loop.stop() }
        }
        // The loop "busy" for five periods before it first looks.
        var pause = timespec(tv_sec: 0, tv_nsec: 10_000_000)
        nanosleep(&pause, nil)
        loop.runOnce()
        XCTAssertEqual(fired, 1)
        XCTAssertTrue(try loop.runGuarded(), "the timer stopped after its first run")
        XCTAssertEqual(fired, 2)
        _ = timer
    }
}
