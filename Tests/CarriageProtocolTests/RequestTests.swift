import XCTest

@testable import CarriageProtocol
import CarriageTestSupport

final class RequestTests: XCTestCase {
    /// The request as text, its ranges replaced by the bytes they select in brackets.
    private func render(_ request: Request, _ line: ArraySlice<UInt8>) -> String {
        func text(_ range: Range<Int>) -> String { "[" + String(decoding: line[range], as: UTF8.self) + "]" }
        switch request {
        case .ping: return "PING"
        case .echo(let range): return "ECHO \(text(range))"
        case .cap(let range): return "CAP \(text(range))"
        case .sleep(let milliseconds): return "SLEEP \(milliseconds)"
        case .set(let key, let value): return "SET \(text(key)) \(text(value))"
        case .get(let key): return "GET \(text(key))"
        case .del(let key): return "DEL \(text(key))"
        case .incr(let key, let delta): return "INCR \(text(key)) \(delta)"
        case .decr(let key, let delta): return "DECR \(text(key)) \(delta)"
        case .expire(let key, let seconds): return "EXPIRE \(text(key)) \(seconds)"
        case .ttl(let key): return "TTL \(text(key))"
        case .thread: return "THREAD"
        case .stats: return "STATS"
        case .quit: return "QUIT"
        case .auth(let user, let password): return "AUTH \(text(user)) \(text(password))"
        }
    }

    func testParsesEveryRequest() {
        let cases: [(String, String)] = [
            ("PING", "PING"), ("ping", "PING"), ("pInG", "PING"),
            ("ECHO hello", "ECHO [hello]"),
            ("ECHO  two  spaces ", "ECHO [ two  spaces ]"),
            ("ECHO", "ECHO []"), ("ECHO ", "ECHO []"),
            ("CAP hELLO", "CAP [hELLO]"), ("cap", "CAP []"), ("CAP ", "CAP []"),
            ("SLEEP 0", "SLEEP 0"), ("SLEEP 60000", "SLEEP 60000"), ("sleep 0050", "SLEEP 50"),
            ("SLEEP -0", "SLEEP 0"),
            ("SET k v", "SET [k] [v]"),
            ("AUTH alice secret", "AUTH [alice] [secret]"), ("auth a b c", "AUTH [a] [b c]"),
            ("SET k ", "SET [k] []"),
            ("SET k  v w ", "SET [k] [ v w ]"),
            ("set Clé Valeur", "SET [Clé] [Valeur]"),
            ("GET k", "GET [k]"), ("get K", "GET [K]"),
            ("DEL k", "DEL [k]"),
            ("INCR n", "INCR [n] 1"),
            ("INCR n 5", "INCR [n] 5"),
            ("INCR n -5", "INCR [n] -5"),
            ("INCR n -0", "INCR [n] 0"),
            ("INCR n 9223372036854775807", "INCR [n] 9223372036854775807"),
            ("DECR n", "DECR [n] 1"),
            ("decr n -9223372036854775808", "DECR [n] -9223372036854775808"),
            ("EXPIRE k 10", "EXPIRE [k] 10"), ("expire k -3", "EXPIRE [k] -3"), ("EXPIRE k 0", "EXPIRE [k] 0"),
            ("TTL k", "TTL [k]"), ("ttl Clé", "TTL [Clé]"),
            ("THREAD", "THREAD"), ("STATS", "STATS"), ("QUIT", "QUIT"), ("quit", "QUIT"),
        ]
        for (text, expected) in cases {
            // `slice` gives indices that do not start at 0, as in a server's input buffer.
            let line = slice(text)
            do {
                let request = try Request(parsing: line)
                XCTAssertEqual(render(request, line), expected, text)
            } catch {
                XCTFail("\(text): \(error)")
            }
        }
    }

    func testRefusals() {
        let key251 = String(repeating: "k", count: 251)
        let cases: [(String, CommandError)] = [
            ("", .unknownCommand), (" PING", .unknownCommand), ("PONG", .unknownCommand),
            ("PINGPING", .unknownCommand), ("FLUSHALL", .unknownCommand), ("ÉCHO x", .unknownCommand),
            ("PING x", .usage(.ping)), ("PING ", .usage(.ping)), ("THREAD x", .usage(.thread)),
            ("STATS ", .usage(.stats)), ("QUIT now", .usage(.quit)),
            ("AUTH", .usage(.auth)), ("AUTH alice", .usage(.auth)), ("AUTH alice ", .usage(.auth)), ("AUTH  x", .usage(.auth)),
            ("SLEEP", .usage(.sleep)), ("SLEEP ", .usage(.sleep)), ("SLEEP -1", .usage(.sleep)),
            ("SLEEP 60001", .usage(.sleep)), ("SLEEP 1 2", .usage(.sleep)), ("SLEEP x", .usage(.sleep)),
            ("SLEEP +5", .usage(.sleep)), ("SLEEP 99999999999999999999", .usage(.sleep)),
            ("SET", .usage(.set)), ("SET ", .usage(.set)), ("SET k", .usage(.set)),
            ("SET  v", .invalidKey), ("SET \(key251) v", .invalidKey), ("SET a\tb v", .invalidKey),
            ("GET", .usage(.get)), ("GET ", .invalidKey), ("GET a b", .invalidKey), ("GET a ", .invalidKey),
            ("GET \(key251)", .invalidKey), ("GET a\u{7F}", .invalidKey), ("GET \u{85}", .invalidKey),
            ("DEL", .usage(.del)), ("DEL ", .invalidKey),
            ("INCR", .usage(.incr)), ("DECR", .usage(.decr)), ("INCR ", .invalidKey),
            ("INCR  1", .invalidKey), ("DECR a\u{1}", .invalidKey),
            ("INCR n ", .deltaNotInteger), ("INCR n x", .deltaNotInteger), ("INCR n +1", .deltaNotInteger),
            ("INCR n 1 2", .deltaNotInteger), ("DECR n 1.5", .deltaNotInteger),
            ("INCR n 9223372036854775808", .deltaNotInteger), ("DECR n -9223372036854775809", .deltaNotInteger),
        ]
        for (line, expected) in cases {
            XCTAssertThrowsError(try Request(parsing: slice(line)), line) { error in
                XCTAssertEqual(error as? CommandError, expected, line)
            }
        }
    }

    func testInvalidUTF8ComesFirst() {
        let lines: [[UInt8]] = [
            [0xFF], Array("FOO ".utf8) + [0xC0, 0xAF], Array("PING".utf8) + [0x80],
            Array("GET ".utf8) + [0xED, 0xA0, 0x80], Array("SET k ".utf8) + [0xE2, 0x82],
        ]
        for line in lines {
            XCTAssertThrowsError(try Request(parsing: slice(line))) { error in
                XCTAssertEqual(error as? CommandError, .invalidUTF8, "\(line)")
            }
        }
    }
}
