import CLibevent
import CarriagePosix
import Glibc
import XCTest

final class EventLoopTests: XCTestCase {
    func testLibeventIs21OrLaterWithEpoll() throws {
        // 0xMMmmpp00: major, minor, patch.
        let version = event_get_version_number()
        XCTAssertGreaterThanOrEqual(version, 0x0201_0000, "libevent \(String(cString: event_get_version())) is older than 2.1")
        // Edge-triggered events and EV_CLOSED, which the server requires.
        let loop = try EventLoop(requiring: [.edgeTriggered, .earlyClose])
        XCTAssertEqual(loop.backend, "epoll")
    }

    func testTimersFireInOrderAndStopEndsRun() throws {
        let loop = try EventLoop()
        var fired: [String] = []
        let late = try LoopEvent.timer(on: loop, seconds: 0.02, repeating: false) {
            fired.append("late")
            loop.stop()
        }
        let early = try LoopEvent.timer(on: loop, seconds: 0.001, repeating: false) { fired.append("early") }
        late.add()
        early.add()
        loop.run()
        XCTAssertEqual(fired, ["early", "late"])
    }

    func testRepeatingTimerAndRemove() throws {
        let loop = try EventLoop()
        var count = 0
        var repeating: LoopEvent?
        repeating = try LoopEvent.timer(on: loop, seconds: 0.001, repeating: true) {
            count += 1
            if count == 3 {
                repeating?.remove()
                loop.stop()
            }
        }
        repeating?.add()
        loop.run()
        XCTAssertEqual(count, 3)
    }

    /// A readable event fires for data on its descriptor; a freed one never fires again.
    func testReadableEventAndFree() throws {
        let loop = try EventLoop()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]); close(fds[1]) }
        var seen: [LoopEvent.Events] = []
        let event = try LoopEvent(loop: loop, fd: fds[0], events: [.read, .persist]) { events in
            seen.append(events)
            loop.stop()
        }
        event.add()
        XCTAssertEqual(write(fds[1], "x", 1), 1)
        loop.run()
        XCTAssertEqual(seen, [.read])

        event.free()
        event.add()  // harmless after free
        let guardTimer = try LoopEvent.timer(on: loop, seconds: 0.02, repeating: false) { loop.stop() }
        guardTimer.add()
        loop.run()
        XCTAssertEqual(seen.count, 1, "a freed event fired")
    }

    /// Subclassing: the override runs instead of a handler, for one object per event.
    func testSubclassOverridesFired() throws {
        final class Counter: LoopEvent {
            var count = 0
            override func fired(_ events: Events) {
                count += 1
            }
        }
        let loop = try EventLoop()
        let counter = try Counter(loop: loop, fd: -1, events: [], interval: 0.001)
        counter.add()
        let stop = try LoopEvent.timer(on: loop, seconds: 0.02, repeating: false) { loop.stop() }
        stop.add()
        loop.run()
        XCTAssertEqual(counter.count, 1)
    }

    func testWakeupWakesTheLoopFromAnotherThread() throws {
        let loop = try EventLoop()
        let wakeup = try LoopWakeup()
        var woken = false
        let event = try LoopEvent.readable(on: loop, fd: wakeup.fd) {
            wakeup.clear()
            woken = true
            loop.stop()
        }
        let thread = try PosixThread(name: "waker") { wakeup.wake() }
        loop.run()
        thread.join()
        XCTAssertTrue(woken)
        _ = event
    }
}
