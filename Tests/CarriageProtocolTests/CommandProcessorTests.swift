import XCTest

@testable import CarriageProtocol
import CarriageStore
import CarriageTestSupport

final class CommandProcessorTests: XCTestCase {
    private func makeProcessor(maxMemoryBytes: Int = 1 << 20) -> (CommandProcessor, Store) {
        let store = Store(maxMemoryBytes: maxMemoryBytes)
        return (CommandProcessor(store: store, environment: FakeEnvironment()), store)
    }

    /// Runs `line` and returns the reply as text and the disposition.
    private func run(_ processor: CommandProcessor, _ line: [UInt8]) -> (String, Disposition) {
        var output: [UInt8] = []
        let disposition = processor.execute(line: slice(line), output: &output)
        return (String(decoding: output, as: UTF8.self), disposition)
    }

    private func run(_ processor: CommandProcessor, _ line: String) -> (String, Disposition) {
        run(processor, Array(line.utf8))
    }

    /// Runs a script of (request, exact reply) pairs in order on one processor.
    private func check(_ script: [(String, String)], on processor: CommandProcessor,
                       file: StaticString = #filePath, line: UInt = #line) {
        for (request, expected) in script {
            let (reply, disposition) = run(processor, request)
            XCTAssertEqual(reply, expected, "request: \(request)", file: file, line: line)
            XCTAssertEqual(disposition, .keepOpen, "request: \(request)", file: file, line: line)
        }
    }

    func testPingEchoCap() {
        let (processor, _) = makeProcessor()
        check([
            ("PING", "OK PONG\n"), ("ping", "OK PONG\n"), ("PiNg", "OK PONG\n"),
            ("PING x", "ERR usage: PING\n"), ("PING ", "ERR usage: PING\n"),
            ("ECHO hello", "OK hello\n"), ("echo  two  spaces ", "OK  two  spaces \n"),
            ("ECHO", "OK \n"), ("ECHO ", "OK \n"), ("ECHO élan 日本 😀", "OK élan 日本 😀\n"),
            ("ECHO a\tb\u{0}c", "OK a\tb\u{0}c\n"), ("ECHO GET x", "OK GET x\n"),
            ("CAP hELLO wORLD", "OK Hello world\n"), ("CAP élan", "OK Élan\n"),
            ("cap ǆemal", "OK ǅemal\n"), ("CAP", "OK \n"), ("CAP ", "OK \n"),
            ("CAP 42 IS THE ANSWER", "OK 42 is the answer\n"),
        ], on: processor)
    }

    func testSetGetDel() {
        let (processor, _) = makeProcessor()
        let key250 = String(repeating: "k", count: 250)
        let key251 = String(repeating: "k", count: 251)
        check([
            ("GET k", "NONE\n"),
            ("SET k v", "OK\n"), ("GET k", "OK v\n"), ("get k", "OK v\n"),
            ("SET K V W ", "OK\n"), ("GET K", "OK V W \n"), ("GET k", "OK v\n"),
            ("SET k  spaced  ", "OK\n"), ("GET k", "OK  spaced  \n"),
            ("SET e ", "OK\n"), ("GET e", "OK \n"),
            ("SET clé 日本", "OK\n"), ("GET clé", "OK 日本\n"),
            ("SET \(key250) x", "OK\n"), ("GET \(key250)", "OK x\n"),
            ("SET \(key251) x", "ERR invalid key\n"), ("GET \(key251)", "ERR invalid key\n"),
            ("SET", "ERR usage: SET <key> <value>\n"), ("SET ", "ERR usage: SET <key> <value>\n"),
            ("SET k", "ERR usage: SET <key> <value>\n"), ("SET  v", "ERR invalid key\n"),
            ("SET a\tb v", "ERR invalid key\n"), ("SET a\u{7F} v", "ERR invalid key\n"),
            ("SET \u{85} v", "ERR invalid key\n"), ("SET a\u{1B}b v", "ERR invalid key\n"),
            ("GET", "ERR usage: GET <key>\n"), ("GET ", "ERR invalid key\n"),
            ("GET k v", "ERR invalid key\n"), ("GET a\u{0}", "ERR invalid key\n"),
            ("DEL k", "OK 1\n"), ("DEL k", "OK 0\n"), ("GET k", "NONE\n"), ("DEL never", "OK 0\n"),
            ("DEL", "ERR usage: DEL <key>\n"), ("DEL ", "ERR invalid key\n"), ("DEL a b", "ERR invalid key\n"),
        ], on: processor)
    }

    func testIncrDecr() {
        let (processor, _) = makeProcessor()
        check([
            ("INCR n", "OK 1\n"), ("incr n 5", "OK 6\n"), ("INCR n -10", "OK -4\n"),
            ("DECR n", "OK -5\n"), ("decr n -7", "OK 2\n"), ("DECR n 2", "OK 0\n"), ("GET n", "OK 0\n"),
            ("DECR fresh", "OK -1\n"), ("INCR zero 0", "OK 0\n"), ("INCR zero -0", "OK 0\n"),
            ("SET s 5", "OK\n"), ("INCR s", "OK 6\n"), ("GET s", "OK 6\n"),
            ("SET z -0", "OK\n"), ("INCR z", "OK 1\n"),
            ("SET lead 007", "OK\n"), ("INCR lead", "OK 8\n"), ("GET lead", "OK 8\n"),
            ("INCR", "ERR usage: INCR <key> [<delta>]\n"), ("DECR", "ERR usage: DECR <key> [<delta>]\n"),
            ("INCR ", "ERR invalid key\n"), ("DECR  5", "ERR invalid key\n"),
            ("INCR n ", "ERR delta is not an integer\n"), ("INCR n x", "ERR delta is not an integer\n"),
            ("INCR n +1", "ERR delta is not an integer\n"), ("INCR n 1 2", "ERR delta is not an integer\n"),
            ("DECR n 1.0", "ERR delta is not an integer\n"), ("DECR n --1", "ERR delta is not an integer\n"),
            ("INCR n 9223372036854775808", "ERR delta is not an integer\n"),
            ("SET t abc", "OK\n"), ("INCR t", "ERR value is not an integer\n"),
            ("DECR t", "ERR value is not an integer\n"), ("GET t", "OK abc\n"),
            ("SET t +5", "OK\n"), ("INCR t", "ERR value is not an integer\n"),
            ("SET t  5", "OK\n"), ("INCR t", "ERR value is not an integer\n"),
            ("SET t 5 ", "OK\n"), ("INCR t", "ERR value is not an integer\n"),
            ("SET t ", "OK\n"), ("INCR t", "ERR value is not an integer\n"), ("GET t", "OK \n"),
            ("SET t 9223372036854775808", "OK\n"), ("INCR t", "ERR value is not an integer\n"),
            ("SET big 9223372036854775806", "OK\n"), ("INCR big", "OK 9223372036854775807\n"),
            ("INCR big", "ERR overflow\n"), ("GET big", "OK 9223372036854775807\n"),
            ("DECR big -1", "ERR overflow\n"), ("INCR big -9223372036854775807", "OK 0\n"),
            ("SET small -9223372036854775807", "OK\n"), ("DECR small", "OK -9223372036854775808\n"),
            ("DECR small", "ERR overflow\n"), ("INCR small -1", "ERR overflow\n"),
            ("GET small", "OK -9223372036854775808\n"),
            ("DECR absent -9223372036854775808", "ERR overflow\n"), ("GET absent", "NONE\n"),
            ("SET m -1", "OK\n"), ("DECR m -9223372036854775808", "OK 9223372036854775807\n"),
            ("INCR m -9223372036854775808", "OK -1\n"),
        ], on: processor)
    }

    /// EXPIRE and TTL, with the store's time moved by hand.
    func testExpireAndTTL() {
        let clock = ManualClock()
        let processor = CommandProcessor(store: Store(maxMemoryBytes: 1 << 20, clock: clock.storeClock),
                                         environment: FakeEnvironment())
        check([
            ("TTL k", "NONE\n"), ("EXPIRE k 10", "OK 0\n"),
            ("SET k v", "OK\n"), ("TTL k", "OK -1\n"), ("EXPIRE k 10", "OK 1\n"), ("ttl k", "OK 10\n"),
            ("EXPIRE", "ERR usage: EXPIRE <key> <seconds>\n"), ("EXPIRE k", "ERR usage: EXPIRE <key> <seconds>\n"),
            ("EXPIRE k ten", "ERR usage: EXPIRE <key> <seconds>\n"), ("EXPIRE k 1 2", "ERR usage: EXPIRE <key> <seconds>\n"),
            ("TTL", "ERR usage: TTL <key>\n"), ("TTL a b", "ERR invalid key\n"), ("EXPIRE a\u{1} 5", "ERR invalid key\n"),
        ], on: processor)
        clock.advance(by: 9)
        check([("TTL k", "OK 1\n"), ("GET k", "OK v\n")], on: processor)
        clock.advance(by: 1)
        check([("TTL k", "NONE\n"), ("GET k", "NONE\n"), ("EXPIRE k 5", "OK 0\n")], on: processor)
        // INCR keeps an expiry, SET clears it; 0 or negative seconds expire at once.
        check([
            ("INCR n", "OK 1\n"), ("EXPIRE n 100", "OK 1\n"), ("INCR n 5", "OK 6\n"), ("TTL n", "OK 100\n"),
            ("SET n 1", "OK\n"), ("TTL n", "OK -1\n"),
            ("EXPIRE n 0", "OK 1\n"), ("GET n", "NONE\n"),
            ("SET m x", "OK\n"), ("EXPIRE m -5", "OK 1\n"), ("TTL m", "NONE\n"),
            ("SET big x", "OK\n"), ("EXPIRE big 9223372036854775807", "OK 1\n"), ("GET big", "OK x\n"),
        ], on: processor)
    }

    /// SLEEP blocks through the environment, for exactly the milliseconds asked, and only
    /// when the request is valid.
    func testSleepAsksTheEnvironmentToBlock() {
        let environment = FakeEnvironment()
        let processor = CommandProcessor(store: Store(maxMemoryBytes: 1 << 20), environment: environment)
        XCTAssertEqual(run(processor, "SLEEP 60001").0, "ERR usage: SLEEP <ms>\n")
        XCTAssertEqual(environment.lastBlock.load(ordering: .relaxed), -1)
        XCTAssertEqual(run(processor, "SLEEP 60000").0, "OK\n")
        XCTAssertEqual(environment.lastBlock.load(ordering: .relaxed), 60_000)
        XCTAssertEqual(run(processor, "sleep 7").0, "OK\n")
        XCTAssertEqual(environment.lastBlock.load(ordering: .relaxed), 7)
    }

    func testSleepThreadStatsUnknown() {
        let (processor, _) = makeProcessor()
        check([
            ("SLEEP 0", "OK\n"), ("sleep 1", "OK\n"),
            ("SLEEP", "ERR usage: SLEEP <ms>\n"), ("SLEEP ", "ERR usage: SLEEP <ms>\n"),
            ("SLEEP -1", "ERR usage: SLEEP <ms>\n"), ("SLEEP 60001", "ERR usage: SLEEP <ms>\n"),
            ("SLEEP 1 2", "ERR usage: SLEEP <ms>\n"), ("SLEEP ten", "ERR usage: SLEEP <ms>\n"),
            ("SLEEP 99999999999999999999999", "ERR usage: SLEEP <ms>\n"),
            ("THREAD", "OK worker-3 41872\n"), ("thread", "OK worker-3 41872\n"),
            ("THREAD x", "ERR usage: THREAD\n"), ("STATS x", "ERR usage: STATS\n"),
            ("QUIT x", "ERR usage: QUIT\n"), ("QUIT ", "ERR usage: QUIT\n"),
            ("FOO", "ERR unknown command\n"), ("FLUSHALL", "ERR unknown command\n"),
            (" PING", "ERR unknown command\n"), ("PINGPONG", "ERR unknown command\n"),
            ("THREADS", "ERR unknown command\n"), ("ÉCHO x", "ERR unknown command\n"),
            ("\u{0}", "ERR unknown command\n"),
        ], on: processor)
    }

    func testQuitCloses() {
        let (processor, _) = makeProcessor()
        let (reply, disposition) = run(processor, "QUIT")
        XCTAssertEqual(reply, "OK BYE\n")
        XCTAssertEqual(disposition, .close)
        XCTAssertEqual(run(processor, "quit").1, .close)
        XCTAssertEqual(run(processor, "QUIT x").1, .keepOpen)
    }

    func testStats() {
        let (processor, store) = makeProcessor()
        check([("SET ab cde", "OK\n"), ("INCR n 100", "OK 100\n")], on: processor)
        XCTAssertEqual(run(processor, "STATS").0, """
            STAT version \(CarriageVersion.number)
            STAT pid 41872
            STAT uptime_seconds 12
            STAT workers 2
            STAT workers_busy 1
            STAT worker.0.requests 7
            STAT worker.1.requests 0
            STAT test.negative -5
            STAT keys 2
            STAT bytes_stored 9
            STAT memory_used \(store.memoryUsed)
            STAT memory_limit \(store.maxMemoryBytes)
            STAT evictions 0
            STAT expired 0
            STAT get_hits 0
            STAT get_misses 0
            END

            """)
        XCTAssertGreaterThan(store.memoryUsed, 0)
        let empty = CommandProcessor(store: Store(maxMemoryBytes: 0), environment: FakeEnvironment(stats: []))
        XCTAssertEqual(run(empty, "stats").0, """
            STAT version \(CarriageVersion.number)
            STAT keys 0
            STAT bytes_stored 0
            STAT memory_used 0
            STAT memory_limit 0
            STAT evictions 0
            STAT expired 0
            STAT get_hits 0
            STAT get_misses 0
            END

            """)
    }

    func testOutOfMemory() {
        // The store's own tests cover where the bound falls; here, the replies.
        let (processor, store) = makeProcessor(maxMemoryBytes: 0)
        check([
            ("SET d x", "ERR out of memory\n"), ("GET d", "NONE\n"),
            ("INCR n", "ERR out of memory\n"), ("DECR n 5", "ERR out of memory\n"),
            ("EXPIRE d 5", "OK 0\n"), ("DEL d", "OK 0\n"),
        ], on: processor)
        XCTAssertEqual(store.keyCount, 0)
        XCTAssertEqual(store.memoryUsed, 0)
    }

    func testInvalidUTF8() {
        let (processor, store) = makeProcessor()
        let lines: [[UInt8]] = [
            [0xFF],
            Array("ECHO ".utf8) + [0xC0, 0xAF],  // overlong
            Array("ECHO ".utf8) + [0xE0, 0x80, 0xAF],  // overlong
            Array("SET k ".utf8) + [0xED, 0xA0, 0x80],  // surrogate
            Array("SET k ".utf8) + [0xE2, 0x82],  // truncated
            Array("GET ".utf8) + [0xF4, 0x90, 0x80, 0x80],  // above U+10FFFF
            Array("PING".utf8) + [0x80],
            [0x80] + Array("UNKNOWN".utf8),
        ]
        for line in lines {
            let (reply, disposition) = run(processor, line)
            XCTAssertEqual(reply, "ERR invalid utf-8\n", "\(line)")
            XCTAssertEqual(disposition, .keepOpen)
        }
        XCTAssertEqual(store.keyCount, 0, "nothing stored from an invalid line")
    }

    func testRepliesAreAppendedAndEmptyLineIsNoRequest() {
        let (processor, _) = makeProcessor()
        var output = Array("previous\n".utf8)
        XCTAssertEqual(processor.execute(line: [], output: &output), .keepOpen)
        XCTAssertEqual(processor.execute(line: slice("PING"), output: &output), .keepOpen)
        XCTAssertEqual(processor.execute(line: slice("GET x"), output: &output), .keepOpen)
        XCTAssertEqual(processor.execute(line: slice("BAD"), output: &output), .keepOpen)
        XCTAssertEqual(String(decoding: output, as: UTF8.self),
                       "previous\nOK PONG\nNONE\nERR unknown command\n")
    }

    func testHundredThreadsIncrementOneKey() {
        let (processor, store) = makeProcessor()
        XCTAssertTrue(runOnThreads(100) { _ in
            var output: [UInt8] = []
            for _ in 0..<100 {
                output.removeAll(keepingCapacity: true)
                _ = processor.execute(line: slice("INCR counter"), output: &output)
                // Every reply is a successful increment.
                XCTAssertEqual(output.prefix(3), ArraySlice("OK ".utf8))
            }
        }, "threads did not finish")
        XCTAssertEqual(run(processor, "GET counter").0, "OK 10000\n")
        XCTAssertEqual(store.keyCount, 1)
        XCTAssertEqual(store.bytesStored, "counter".utf8.count + "10000".utf8.count)
    }

    func testConcurrentMixedRequestsKeepCountsExact() {
        let (processor, store) = makeProcessor()
        XCTAssertTrue(runOnThreads(8) { thread in
            var output: [UInt8] = []
            for index in 0..<200 {
                _ = processor.execute(line: slice("SET k\(thread)-\(index) value-\(index)"), output: &output)
                _ = processor.execute(line: slice("GET k\(thread)-\(index)"), output: &output)
                _ = processor.execute(line: slice("INCR shared \(thread + 1)"), output: &output)
                if index % 2 == 0 {
                    _ = processor.execute(line: slice("DEL k\(thread)-\(index)"), output: &output)
                }
                _ = processor.execute(line: slice("DECR shared"), output: &output)
                output.removeAll(keepingCapacity: true)
            }
        }, "threads did not finish")
        // shared: sum over threads of 200 * (thread + 1) - 8 * 200 = 200 * 36 - 1600 = 5600.
        XCTAssertEqual(run(processor, "GET shared").0, "OK 5600\n")
        var expectedBytes = "shared".utf8.count + "5600".utf8.count
        for thread in 0..<8 {
            for index in stride(from: 1, to: 200, by: 2) {
                expectedBytes += "k\(thread)-\(index)".utf8.count + "value-\(index)".utf8.count
            }
        }
        XCTAssertEqual(store.keyCount, 8 * 100 + 1)
        XCTAssertEqual(store.bytesStored, expectedBytes)
    }
}

/// Random request lines: whatever the bytes, the processor answers with complete lines of the
/// protocol's reply words and keeps its counts consistent. A trap fails the whole run.
final class CommandProcessorFuzzTests: XCTestCase {
    private struct SplitMix64 {
        var state: UInt64
        mutating func next() -> UInt64 {
            state &+= 0x9E37_79B9_7F4A_7C15
            var z = state
            z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
            z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
            return z ^ (z >> 31)
        }
        mutating func below(_ bound: Int) -> Int { Int(next() % UInt64(bound)) }
    }

    func testRandomLinesNeverTrapAndAlwaysGetAReply() {
        let tokens: [[UInt8]] = [
            "PING", "echo", "CAP", "SLEEP", "SET", "get", "DEL", "INCR", "decr", "THREAD", "STATS",
            "QUIT", "FOO", " ", " ", " ", "k", "key", "n", "0", "1", "-1", "-", "+", "60001",
            "9223372036854775807", "-9223372036854775808", "9223372036854775808", "élan", "ǆ", "Σ",
            "ß", "日本", "😀", "\t", "\u{7F}", "\u{85}", "\u{0}",
        ].map { Array($0.utf8) } + [[0xFF], [0xC0, 0xAF], [0xED, 0xA0, 0x80], [0xE2, 0x82], [0x80]]
        let store = Store(maxMemoryBytes: 1 << 20, eviction: .lru, shardCount: 4)
        let processor = CommandProcessor(store: store, environment: FakeEnvironment())
        var random = SplitMix64(state: 20_261_122)
        for _ in 0..<30_000 {
            var line: [UInt8] = []
            for _ in 0..<(1 + random.below(6)) {
                if random.below(8) == 0 {
                    line.append(UInt8(truncatingIfNeeded: random.next()))
                } else {
                    line += tokens[random.below(tokens.count)]
                }
            }
            if line.starts(with: Array("SLEEP".utf8)) || line.starts(with: Array("sleep".utf8)) {
                continue  // a valid SLEEP could block for a minute
            }
            var output: [UInt8] = []
            let disposition = processor.execute(line: slice(line), output: &output)
            XCTAssertEqual(output.last, UInt8(ascii: "\n"), "\(line)")
            let reply = String(decoding: output, as: UTF8.self)
            let words = ["OK", "NONE", "ERR ", "STAT ", "END"]
            XCTAssertTrue(words.contains { reply.hasPrefix($0) }, "\(line) -> \(reply)")
            XCTAssertEqual(disposition == .close, reply == "OK BYE\n", "\(line)")
        }
        XCTAssertLessThanOrEqual(store.memoryUsed, store.maxMemoryBytes)
        XCTAssertGreaterThan(store.keyCount, 0, "the fuzzer never stored anything")
    }
}
