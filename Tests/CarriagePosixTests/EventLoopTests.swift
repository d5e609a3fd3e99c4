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
        let late = try LoopEvent.timer(on: loop, repeating: false) {
            fired.append("late")
            loop.stop()
        }
        let early = try LoopEvent.timer(on: loop, repeating: false) { fired.append("early") }
        late.add(timeout: 0.02)
        early.add(timeout: 0.001)
        XCTAssertTrue(try loop.runGuarded(), "the loop was not stopped by the event under test")
        XCTAssertEqual(fired, ["early", "late"])
    }

    func testRepeatingTimerAndRemove() throws {
        let loop = try EventLoop()
        var count = 0
        var repeating: LoopEvent?
        repeating = try LoopEvent.timer(on: loop, repeating: true) {
            count += 1
            if count == 3 {
                repeating?.remove()
                loop.stop()
            }
        }
        repeating?.add(timeout: 0.001)
        XCTAssertTrue(try loop.runGuarded(), "the loop was not stopped by the event under test")
        XCTAssertEqual(count, 3)
    }

    /// A readable event fires for data on its descriptor; a freed one never fires again.
    func testReadableEventAndFree() throws {
        let loop = try EventLoop()
        var fds: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&fds), 0)
        defer { close(fds[0]); close(fds[1]) }
        var seen: [LoopEvent.Events] = []
        let event = try CallbackEvent(loop: loop, fd: fds[0], events: [.read, .persist]) { events in
            seen.append(events)
            loop.stop()
        }
        event.add()
        XCTAssertEqual(write(fds[1], "x", 1), 1)
        XCTAssertTrue(try loop.runGuarded(), "the loop was not stopped by the event under test")
        XCTAssertEqual(seen, [.read])

        event.free()
        event.add()  // harmless after free
        let guardTimer = try LoopEvent.timer(on: loop, repeating: false) { loop.stop() }
        guardTimer.add(timeout: 0.02)
        loop.run()
        XCTAssertEqual(seen.count, 1, "a freed event fired")
    }

    /// A reassigned event watches its new descriptor with the events it had.
    func testReassignKeepsTheEvents() throws {
        let loop = try EventLoop()
        var first: [Int32] = [0, 0], second: [Int32] = [0, 0]
        XCTAssertEqual(pipe(&first), 0)
        XCTAssertEqual(pipe(&second), 0)
        defer { for fd in first + second { close(fd) } }
        var seen: [LoopEvent.Events] = []
        let event = try CallbackEvent(loop: loop, fd: first[0], events: [.read, .persist]) { events in
            seen.append(events)
            loop.stop()
        }
        event.reassign(fd: second[0])
        event.add()
        XCTAssertEqual(write(first[1], "x", 1), 1)  // the old descriptor: not watched
        XCTAssertEqual(write(second[1], "y", 1), 1)
        XCTAssertTrue(try loop.runGuarded(), "the loop was not stopped by the event under test")
        XCTAssertEqual(seen, [.read])
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
        let counter = try Counter(loop: loop, fd: -1, events: [])
        counter.add(timeout: 0.001)
        let stop = try LoopEvent.timer(on: loop, repeating: false) { loop.stop() }
        stop.add(timeout: 0.02)
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
        XCTAssertTrue(try loop.runGuarded(), "the loop was not stopped by the event under test")
        thread.join()
        XCTAssertTrue(woken)
        _ = event
    }
}
