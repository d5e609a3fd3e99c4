import CarriageTestSupport
import XCTest

@testable import CarriageStore

final class MemoryBudgetTests: XCTestCase {
    func testReservationsNeverPassTheLimitTogether() {
        let budget = MemoryBudget(limit: 1_000)
        XCTAssertTrue(budget.reserve(1_000))
        XCTAssertFalse(budget.reserve(1))
        budget.release(400)
        XCTAssertFalse(budget.reserve(401))
        XCTAssertTrue(budget.reserve(400))
        budget.release(1_000)
        XCTAssertFalse(budget.reserve(.max), "no overflow")

        let granted = SharedCounter()
        XCTAssertTrue(runOnThreads(8) { _ in
            for _ in 0..<1_000 where budget.reserve(7) { granted.add(7) }
        }, "threads did not finish")
        XCTAssertEqual(granted.value, 994)
        XCTAssertEqual(budget.bytesUsed, 994)
    }
}
