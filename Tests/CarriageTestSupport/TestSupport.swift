import CarriageStore
import Foundation
import Synchronization

// Helpers shared by the store's and the protocol's tests.

/// The UTF-8 bytes of `text`, as a slice whose indices do not start at 0 (as a slice of a
/// server's input buffer would), so that index arithmetic is tested too.
public func slice(_ text: String) -> ArraySlice<UInt8> {
    slice(Array(text.utf8))
}

public func slice(_ bytes: [UInt8]) -> ArraySlice<UInt8> {
    let padded = [UInt8(ascii: "#"), UInt8(ascii: " ")] + bytes + [UInt8(ascii: " "), UInt8(ascii: "#")]
    return padded[2..<(padded.count - 2)]
}

/// A counter threads can share.
public final class SharedCounter: Sendable {
    private let atomic = Atomic<Int>(0)
    public init() {}
    public func add(_ amount: Int) { atomic.wrappingAdd(amount, ordering: .relaxed) }
    public var value: Int { atomic.load(ordering: .relaxed) }
}

/// Runs `body(index)` on `count` threads of their own at once, and waits for all of them.
/// The threads wait for each other before starting, so their work overlaps. Returns false
/// when they have not all finished within 120 s.
@discardableResult
public func runOnThreads(_ count: Int, _ body: @escaping @Sendable (Int) -> Void) -> Bool {
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
    return done.wait(timeout: .now() + 120) == .success
}

/// A store clock that moves only when told to.
public final class ManualClock: Sendable {
    private let seconds = Atomic<Int>(1000)

    public init() {}

    public func advance(by delta: Int) { seconds.wrappingAdd(delta, ordering: .relaxed) }

    public var storeClock: StoreClock {
        StoreClock { [self] in self.now }
    }

    public var now: Int { seconds.load(ordering: .relaxed) }
}
