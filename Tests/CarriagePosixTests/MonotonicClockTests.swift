import Foundation
import Glibc
import Synchronization
import XCTest

import CarriagePosix

private let signalsHandled = Atomic<Int>(0)

final class MonotonicClockTests: XCTestCase {
    func testSleepsAtLeastTheTimeAsked() {
        let clock = ContinuousClock()
        let start = clock.now
        MonotonicClock.sleep(milliseconds: 30)
        XCTAssertGreaterThanOrEqual(clock.now - start, .milliseconds(30))
        let zeroStart = clock.now
        MonotonicClock.sleep(milliseconds: 0)
        MonotonicClock.sleep(milliseconds: -5)
        XCTAssertLessThan(clock.now - zeroStart, .milliseconds(30))
    }

    /// A signal interrupts nanosleep with EINTR; the sleep must go on for the time left.
    func testSignalsDoNotCutTheSleepShort() {
        var action = sigaction()
        action.__sigaction_handler.sa_handler = { _ in
            signalsHandled.wrappingAdd(1, ordering: .relaxed)
        }
        sigemptyset(&action.sa_mask)
        action.sa_flags = 0  // no SA_RESTART: nanosleep must see EINTR
        var previous = sigaction()
        XCTAssertEqual(sigaction(SIGUSR1, &action, &previous), 0)
        defer { sigaction(SIGUSR1, &previous, nil) }

        let box = SleeperBox()
        let elapsedMilliseconds = Atomic<Int>(0)
        let done = DispatchSemaphore(value: 0)
        let signalingDone = DispatchSemaphore(value: 0)
        let before = signalsHandled.load(ordering: .relaxed)
        Thread {
            box.thread.store(UInt(pthread_self()), ordering: .releasing)
            let clock = ContinuousClock()
            let start = clock.now
            MonotonicClock.sleep(milliseconds: 300)
            let elapsed = clock.now - start
            elapsedMilliseconds.store(
                Int(elapsed.components.seconds) * 1000
                    + Int(elapsed.components.attoseconds / 1_000_000_000_000_000), ordering: .releasing)
            // Stay alive until the last signal is sent: signalling an ended thread is undefined.
            signalingDone.wait()
            done.signal()
        }.start()
        while box.thread.load(ordering: .acquiring) == 0 { sched_yield() }
        for _ in 0..<5 {
            usleep(30_000)
            pthread_kill(pthread_t(box.thread.load(ordering: .acquiring)), SIGUSR1)
        }
        signalingDone.signal()
        XCTAssertEqual(done.wait(timeout: .now() + 10), .success)
        XCTAssertGreaterThan(signalsHandled.load(ordering: .relaxed), before, "the sleep was never interrupted")
        XCTAssertGreaterThanOrEqual(elapsedMilliseconds.load(ordering: .acquiring), 300)
    }
}

/// The coarse clock counts whole seconds from its start.
extension MonotonicClockTests {
    func testSecondsCountFromInitAndNanosecondsAdvance() {
        let clock = MonotonicClock()
        XCTAssertLessThanOrEqual(clock.seconds(), 1)
        let first = MonotonicClock.nanoseconds()
        MonotonicClock.sleep(milliseconds: 2)
        XCTAssertGreaterThanOrEqual(MonotonicClock.nanoseconds() - first, 2_000_000)
        XCTAssertEqual(MonotonicClock.nanoseconds(fromSeconds: 1.5), 1_500_000_000)
        XCTAssertEqual(MonotonicClock.nanoseconds(fromSeconds: -1), 0)
        XCTAssertEqual(MonotonicClock.seconds(fromNanoseconds: 250_000_000), 0.25)
    }
}

private final class SleeperBox: Sendable {
    let thread = Atomic<UInt>(0)
}
