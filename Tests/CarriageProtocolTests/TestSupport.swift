import Foundation
import Synchronization
import XCTest

@testable import CarriageProtocol

/// The UTF-8 bytes of `text`, as a slice whose indices do not start at 0 (as a slice of a
/// server's input buffer would), so that index arithmetic is tested too.
func slice(_ text: String) -> ArraySlice<UInt8> {
    slice(Array(text.utf8))
}

func slice(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
    let padded = [UInt8(ascii: "#"), UInt8(ascii: " ")] + bytes + [UInt8(ascii: " "), UInt8(ascii: "#")]
    return padded[2..<(padded.count - 2)]
}

/// A counter threads can share.
final class SharedCounter: Sendable {
    private let atomic = Atomic<Int>(0)
    func add(_ amount: Int) { atomic.wrappingAdd(amount, ordering: .relaxed) }
    var value: Int { atomic.load(ordering: .relaxed) }
}

/// Runs `body(index)` on `count` threads of their own at once, and waits for all of them.
/// The threads wait for each other before starting, so their work overlaps.
func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) {
    let ready = SharedCounter()
    let done = DispatchGroup()
    for index in 0..<count {
        done.enter()
        let thread = Thread {
            ready.add(1)
            while ready.value < count { sched_yield() }
            body(index)
            done.leave()
        }
        thread.stackSize = 1 << 20
        thread.start()
    }
    XCTAssertEqual(done.wait(timeout: .now() + 120), .success, "threads did not finish")
}

/// A store clock that moves only when told to.
final class ManualClock: Sendable {
    private let seconds = Atomic<Int>(1000)

    func advance(by delta: Int) { seconds.wrappingAdd(delta, ordering: .relaxed) }

    var storeClock: StoreClock {
        StoreClock { [self] in self.now }
    }

    var now: Int { seconds.load(ordering: .relaxed) }
}
