import XCTest

@testable import CarriageProtocol
import CarriageTestSupport

final class VerbTests: XCTestCase {
    func testEveryVerbInEveryCase() {
        let names: [(String, Verb)] = [
            ("ping", .ping), ("echo", .echo), ("cap", .cap), ("sleep", .sleep), ("set", .set),
            ("get", .get), ("del", .del), ("incr", .incr), ("decr", .decr), ("expire", .expire), ("ttl", .ttl),
            ("thread", .thread), ("stats", .stats), ("quit", .quit), ("auth", .auth),
        ]
        XCTAssertEqual(names.count, Verb.allCases.count)
        for (name, verb) in names {
            XCTAssertEqual(Verb(slice(name)), verb, name)
            XCTAssertEqual(Verb(slice(name.uppercased())), verb, name.uppercased())
            let mixed = String(name.enumerated().map { $0.offset % 2 == 0 ? Character($0.element.uppercased()) : $0.element })
            XCTAssertEqual(Verb(slice(mixed)), verb, mixed)
        }
    }

    func testUnknownVerbs() {
        let unknown: [[UInt8]] = [
            [], Array("pin".utf8), Array("pings".utf8), Array("threads".utf8), Array("stat".utf8),
            Array("p1ng".utf8), Array("ge".utf8), Array("g\u{0}t".utf8), Array("hello".utf8),
            Array("échoo".utf8), Array("PIN\u{7}".utf8),
            // A byte that differs from a letter only in bit 0x20 but is not a letter.
            [0x50, 0x49, 0x4E, 0x07], [0x10, 0x45, 0x54],
            Array("pingpong".utf8), Array("expires".utf8), Array("expir".utf8), Array("tt".utf8), Array("ttls".utf8), Array("auths".utf8), Array("aut".utf8),
        ]
        for bytes in unknown {
            XCTAssertNil(Verb(slice(bytes)), "\(bytes)")
        }
    }

    func testUsage() {
        XCTAssertEqual(Verb.incr.usage.description, "INCR <key> [<delta>]")
        XCTAssertEqual(Verb.set.usage.description, "SET <key> <value>")
    }
}
