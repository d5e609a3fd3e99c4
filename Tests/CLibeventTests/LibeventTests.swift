import CLibevent
import XCTest

final class LibeventTests: XCTestCase {
    func testEventBaseIsEpollOnLibevent21OrLater() throws {
        // 0xMMmmpp00: major, minor, patch.
        let version = event_get_version_number()
        XCTAssertGreaterThanOrEqual(version, 0x0201_0000, "libevent \(String(cString: event_get_version())) is older than 2.1")
        XCTAssertTrue(String(cString: event_get_version()).hasPrefix("2."))

        let base = try XCTUnwrap(event_base_new())
        defer { event_base_free(base) }
        XCTAssertEqual(String(cString: event_base_get_method(base)), "epoll")
        // Edge-triggered and EV_CLOSED support, which the server relies on.
        let features = event_base_get_features(base)
        XCTAssertNotEqual(Int32(features) & Int32(EV_FEATURE_ET.rawValue), 0)
        XCTAssertNotEqual(Int32(features) & Int32(EV_FEATURE_EARLY_CLOSE.rawValue), 0)
    }
}
