import CarriagePosix
import Dispatch
import Synchronization
import XCTest

final class PosixThreadTests: XCTestCase {
    /// The policy set from outside is the one the thread then runs under, either way.
    func testSetSchedulingChangesTheThreadsPolicy() throws {
        for policy in SchedulingPolicy.allCases {
            let seen = Mutex<SchedulingPolicy?>(nil)
            let policySet = DispatchSemaphore(value: 0)
            let thread = try PosixThread(name: "sched-test") {
                policySet.wait()
                let current = SchedulingPolicy.currentThread
                seen.withLock { $0 = current }
            }
            try thread.setScheduling(policy)
            policySet.signal()
            thread.join()
            XCTAssertEqual(seen.withLock { $0 }, policy)
        }
    }
}
