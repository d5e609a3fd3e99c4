import CarriageStore
import CarriageTestSupport
import XCTest

@testable import CarriageProtocol

final class MemcachedProcessorTests: XCTestCase {
    private func makeProcessor(maxItemSize: Int = 1 << 20, clock: ManualClock = ManualClock()) -> MemcachedProcessor {
        // One shard: CAS uniques are 1, 2, 3... in write order.
        let store = Store(maxMemoryBytes: 8 << 20, shardCount: 1, clock: clock.storeClock)
        return MemcachedProcessor(
            store: store, environment: FakeEnvironment(), maxLineBytes: 2048, maxItemSize: maxItemSize)
    }

    /// Runs every request in `input` and returns the replies; fails if bytes are left over.
    private func run(_ processor: MemcachedProcessor, _ input: [UInt8], file: StaticString = #filePath, line: UInt = #line) -> String {
        var output: [UInt8] = []
        var start = 0
        loop: while start < input.count {
            switch processor.process(input[start...], output: &output) {
            case .ran(let consumed): start += consumed
            case .incomplete: break loop
            case .quit, .lineTooLong: break loop
            case .discard(let consumed, let remaining):
                start += consumed + remaining
            }
        }
        XCTAssertLessThanOrEqual(start, input.count, file: file, line: line)
        return String(decoding: output, as: UTF8.self)
    }

    private func run(_ processor: MemcachedProcessor, _ input: String, file: StaticString = #filePath, line: UInt = #line) -> String {
        run(processor, Array(input.utf8), file: file, line: line)
    }

    /// Request/reply pairs run in order on one processor.
    private func check(_ cases: [(String, String)], on processor: MemcachedProcessor, file: StaticString = #filePath, line: UInt = #line) {
        for (request, reply) in cases {
            XCTAssertEqual(run(processor, request), reply, request.debugDescription, file: file, line: line)
        }
    }

    func testStorageCommands() {
        check([
            ("set a 5 0 3\r\nabc\r\n", "STORED\r\n"),
            ("get a\r\n", "VALUE a 5 3\r\nabc\r\nEND\r\n"),
            ("gets a\r\n", "VALUE a 5 3 1\r\nabc\r\nEND\r\n"),
            ("add a 0 0 1\r\nx\r\n", "NOT_STORED\r\n"),
            ("add b 0 0 1\r\nx\r\n", "STORED\r\n"),
            ("replace c 0 0 1\r\nx\r\n", "NOT_STORED\r\n"),
            ("replace b 7 0 2\r\nyy\r\n", "STORED\r\n"),
            ("append a 9 0 2\r\n>>\r\n", "STORED\r\n"),
            ("prepend a 9 0 2\r\n<<\r\n", "STORED\r\n"),
            ("get a b\r\n", "VALUE a 5 7\r\n<<abc>>\r\nVALUE b 7 2\r\nyy\r\nEND\r\n"),
            ("append zz 0 0 1\r\nx\r\n", "NOT_STORED\r\n"),
            ("cas a 0 0 1 99\r\nx\r\n", "EXISTS\r\n"),
            ("cas zz 0 0 1 1\r\nx\r\n", "NOT_FOUND\r\n"),
            ("gets a\r\n", "VALUE a 5 7 5\r\n<<abc>>\r\nEND\r\n"),
            ("cas a 1 0 1 5\r\nz\r\n", "STORED\r\n"),
            ("get a\r\n", "VALUE a 1 1\r\nz\r\nEND\r\n"),
            ("set  spaced  0  0  1\r\nx\r\n", "STORED\r\n"),
            ("set nl 0 0 4\r\n\r\n\r\n\r\n", "STORED\r\n"),
            ("get nl\r\n", "VALUE nl 0 4\r\n\r\n\r\n\r\nEND\r\n"),
            ("set empty 0 0 0\r\n\r\n", "STORED\r\n"),
            ("get empty missing\r\n", "VALUE empty 0 0\r\n\r\nEND\r\n"),
        ], on: makeProcessor())
    }

    func testErrorsAsMemcachedSendsThem() {
        let long = String(repeating: "k", count: 251)
        check([
            ("bogus\r\n", "ERROR\r\n"),
            ("\r\n", "ERROR\r\n"),
            ("GET a\r\n", "ERROR\r\n"),
            ("get\r\n", "ERROR\r\n"),
            ("get \(long)\r\n", "CLIENT_ERROR bad command line format\r\n"),
            ("set a 0 0\r\n", "ERROR\r\n"),
            ("set a x 0 1\r\nx\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
            ("set a 0 0 -1\r\n", "CLIENT_ERROR bad command line format\r\n"),
            ("set a 4294967296 0 1\r\nx\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
            ("set \(long) 0 0 1\r\nx\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
            // memcached reads exactly <bytes> + 2 and checks the last two; the LF left over
            // is an empty line.
            ("set a 0 0 1\r\nxy\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n"),
            ("set a 0 0 3\r\nab\nc\r\n", "CLIENT_ERROR bad data chunk\r\nERROR\r\n"),
            ("cas a 0 0 1\r\nx\r\n", "ERROR\r\nERROR\r\n"),
            ("incr\r\n", "ERROR\r\n"),
            ("incr a x\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n"),
            ("incr a -1\r\n", "CLIENT_ERROR invalid numeric delta argument\r\n"),
            ("delete\r\n", "ERROR\r\n"),
            ("delete a 5\r\n", "CLIENT_ERROR bad command line format.  Usage: delete <key> [noreply]\r\n"),
            ("touch a\r\n", "ERROR\r\n"),
            ("touch a x\r\n", "CLIENT_ERROR invalid exptime argument\r\n"),
            ("gat a\r\n", "CLIENT_ERROR invalid exptime argument\r\n"),
            ("gat\r\n", "ERROR\r\n"),
            ("verbosity\r\n", "ERROR\r\n"),
            ("verbosity 1\r\n", "OK\r\n"),
            ("version\r\n", "VERSION 1.6.0-carriage-\(CarriageVersion.number)\r\n"),
        ], on: makeProcessor())
    }

    func testArithmeticDeleteTouchAndFlush() {
        let clock = ManualClock()
        let processor = makeProcessor(clock: clock)
        check([
            ("incr n 1\r\n", "NOT_FOUND\r\n"),
            ("set n 0 0 2\r\n10\r\n", "STORED\r\n"),
            ("decr n 3\r\n", "7\r\n"),
            ("decr n 100\r\n", "0\r\n"),
            ("set n 0 0 20\r\n18446744073709551615\r\n", "STORED\r\n"),
            ("incr n 2\r\n", "1\r\n"),
            ("set t 0 0 3\r\nabc\r\n", "STORED\r\n"),
            ("incr t 1\r\n", "CLIENT_ERROR cannot increment or decrement non-numeric value\r\n"),
            ("delete t\r\n", "DELETED\r\n"),
            ("delete t\r\n", "NOT_FOUND\r\n"),
            ("delete n 0\r\n", "DELETED\r\n"),
            ("set e 0 10 1\r\nx\r\n", "STORED\r\n"),
            ("touch e 100\r\n", "TOUCHED\r\n"),
            ("touch zz 100\r\n", "NOT_FOUND\r\n"),
            ("gat 0 e\r\n", "VALUE e 0 1\r\nx\r\nEND\r\n"),
        ], on: processor)
        clock.advance(by: 1_000)
        check([
            ("get e\r\n", "VALUE e 0 1\r\nx\r\nEND\r\n"),  // gat 0 made it never expire
            ("set x 0 -1 1\r\nx\r\n", "STORED\r\n"),
            ("get x\r\n", "END\r\n"),
            // 30 days is relative; beyond, a unix time (here in the past).
            ("set r 0 2592000 1\r\nx\r\n", "STORED\r\n"),
            ("set p 0 2592001 1\r\nx\r\n", "STORED\r\n"),
            ("get r p\r\n", "VALUE r 0 1\r\nx\r\nEND\r\n"),
            ("set f 0 \(FakeEnvironment().unixTime() + 60) 1\r\nx\r\n", "STORED\r\n"),
            ("mg f t\r\n", "HD t60\r\n"),
            ("flush_all\r\n", "OK\r\n"),
            ("get e r f\r\n", "END\r\n"),
            ("set g 0 0 1\r\nx\r\n", "STORED\r\n"),
            ("flush_all 10\r\n", "OK\r\n"),
            ("get g\r\n", "VALUE g 0 1\r\nx\r\nEND\r\n"),
        ], on: processor)
        clock.advance(by: 10)
        check([("get g\r\n", "END\r\n")], on: processor)
    }

    func testNoreplySuppressesRepliesButNotLaterOnes() {
        check([
            ("set a 0 0 1 noreply\r\nx\r\nget a\r\n", "VALUE a 0 1\r\nx\r\nEND\r\n"),
            ("add a 0 0 1 noreply\r\ny\r\nreplace zz 0 0 1 noreply\r\ny\r\n", ""),
            ("set a 0 0 1 noreply\r\nxy\r\n", "ERROR\r\n"),
            ("incr a 1 noreply\r\ndelete a noreply\r\ndelete a 0 noreply\r\n", ""),
            ("touch a 1 noreply\r\nflush_all noreply\r\nflush_all 0 noreply\r\nverbosity 1 noreply\r\n", ""),
            ("set big 0 0 2000000 noreply\r\n" + String(repeating: "x", count: 2_000_000) + "\r\nversion\r\n",
             "VERSION 1.6.0-carriage-\(CarriageVersion.number)\r\n"),
        ], on: makeProcessor())
    }

    func testTooLargeIsRefusedAndItsDataDropped() {
        let processor = makeProcessor(maxItemSize: 100)
        XCTAssertEqual(run(processor, "set a 0 0 101\r\n" + String(repeating: "x", count: 101) + "\r\nget a\r\n"),
                       "SERVER_ERROR object too large for cache\r\nEND\r\n")
        // Arriving in pieces: the processor says how much more to drop.
        var output: [UInt8] = []
        let head = Array("set a 0 0 200\r\nxxxx".utf8)
        XCTAssertEqual(processor.process(head[...], output: &output), .discard(consumed: head.count, remaining: 198))
        XCTAssertEqual(run(processor, "set a 0 0 100\r\n" + String(repeating: "y", count: 100) + "\r\n"), "STORED\r\n")
    }

    /// A storage command split anywhere is incomplete until its last byte.
    func testDataBlockSplitAtEveryByte() {
        let processor = makeProcessor()
        let request = Array("set k 3 0 10\r\n0123\r\n6789\r\nget k\r\n".utf8)
        let storageEnd = request.count - "get k\r\n".utf8.count
        for cut in 1..<storageEnd {
            var output: [UInt8] = []
            XCTAssertEqual(processor.process(request[0..<cut], output: &output), .incomplete, "cut at \(cut)")
            XCTAssertTrue(output.isEmpty)
        }
        XCTAssertEqual(run(processor, request), "STORED\r\nVALUE k 3 10\r\n0123\r\n6789\r\nEND\r\n")
    }

    func testLineTooLong() {
        var output: [UInt8] = []
        let line = Array(repeating: UInt8(ascii: "a"), count: 3000)
        XCTAssertEqual(makeProcessor().process(line[...], output: &output), .lineTooLong)
        XCTAssertEqual(String(decoding: output, as: UTF8.self), "CLIENT_ERROR line too long\r\n")
        XCTAssertEqual(makeProcessor().process(Array("quit\r\n".utf8)[...], output: &output), .quit)
    }

    func testMetaCommands() {
        check([
            ("mn\r\n", "MN\r\n"),
            ("mg zz v\r\n", "EN\r\n"),
            ("mg zz v q\r\nmn\r\n", "MN\r\n"),
            ("mg zz k v Oab\r\n", "EN kzz Oab\r\n"),
            ("ms k 2 T0 F7\r\nhi\r\n", "HD\r\n"),
            ("mg k v\r\n", "VA 2\r\nhi\r\n"),
            ("mg k s v f t c k Oxy\r\n", "VA 2 s2 f7 t-1 c1 kk Oxy\r\nhi\r\n"),
            ("mg k\r\n", "HD\r\n"),
            ("mg k T30 t\r\n", "HD t30\r\n"),
            ("ms k 2 c k O1 MA\r\nyo\r\n", "HD c2 kk O1\r\n"),
            ("mg k v\r\n", "VA 4\r\nhiyo\r\n"),
            ("ms k 1 ME\r\nx\r\n", "NS\r\n"),
            ("ms k 1 C99\r\nx\r\n", "EX\r\n"),
            ("ms zz 1 MR\r\nx\r\n", "NS\r\n"),
            ("ms k 1 q\r\nx\r\nmn\r\n", "MN\r\n"),
            ("ms k 2 MZ\r\nhi\r\nmn\r\n", "CLIENT_ERROR invalid mode for ms M token\r\nMN\r\n"),
            ("ms k S2\r\nhi\r\n", "CLIENT_ERROR bad command line format\r\nERROR\r\n"),
            ("mg k v X\r\n", "CLIENT_ERROR invalid flag\r\n"),
            ("mg k v O" + String(repeating: "1", count: 33) + "\r\n", "CLIENT_ERROR opaque token too long\r\n"),
            ("md k q\r\nmd k\r\nmd k q\r\n", "NF\r\nNF\r\n"),
            ("ma n\r\n", "NF\r\n"),
            ("ma n N0 J5\r\n", "HD\r\n"),
            ("ma n v\r\n", "VA 1\r\n6\r\n"),
            ("ma n MD D10 v\r\n", "VA 1\r\n0\r\n"),
            ("ma n v t c\r\n", "VA 1 t-1 c7\r\n1\r\n"),
            ("ma n MX\r\n", "CLIENT_ERROR invalid mode for ma M token\r\n"),
        ], on: makeProcessor())
    }

    /// `N` vivifies a miss and hands out the win once (`W`, then `Z`); `md I` marks an item
    /// stale (`X`) and its first reader wins the recache.
    func testMetaVivifyAndInvalidate() {
        check([
            ("mg v1 v N30 t\r\n", "VA 0 t30 W\r\n\r\n"),
            ("mg v1 v t\r\n", "VA 0 t30 Z\r\n\r\n"),
            ("ms s 1\r\nx\r\n", "HD\r\n"),
            ("md s I T30\r\n", "HD\r\n"),
            ("mg s v t\r\n", "VA 1 t30 X W\r\nx\r\n"),
            ("mg s v\r\n", "VA 1 Z X\r\nx\r\n"),
            ("ms s 1\r\ny\r\n", "HD\r\n"),
            ("mg s v\r\n", "VA 1\r\ny\r\n"),
        ], on: makeProcessor())
    }

    /// One store behind both protocols: our SET is an item with flags 0.
    func testOneStoreForBothProtocols() {
        let store = Store(maxMemoryBytes: 1 << 20)
        let memcached = MemcachedProcessor(store: store, environment: FakeEnvironment(), maxLineBytes: 2048, maxItemSize: 1 << 20)
        let line = CommandProcessor(store: store, environment: FakeEnvironment())
        var output: [UInt8] = []
        _ = line.execute(line: slice("SET shared hello"), output: &output)
        XCTAssertEqual(run(memcached, "get shared\r\n"), "VALUE shared 0 5\r\nhello\r\nEND\r\n")
        XCTAssertEqual(run(memcached, "set other 3 0 5\r\nworld\r\n"), "STORED\r\n")
        output = []
        _ = line.execute(line: slice("GET other"), output: &output)
        XCTAssertEqual(String(decoding: output, as: UTF8.self), "OK world\n")
        // A value the line protocol cannot put on one line gets an error, not a broken reply.
        XCTAssertEqual(run(memcached, "set crlf 0 0 4\r\na\r\nb\r\n"), "STORED\r\n")
        XCTAssertEqual(run(memcached, "set lf 0 0 3\r\na\nb\r\n"), "STORED\r\n")
        for key in ["crlf", "lf"] {
            output = []
            _ = line.execute(line: slice("GET \(key)"), output: &output)
            XCTAssertEqual(String(decoding: output, as: UTF8.self), "ERR value has a line break (read it over the memcached protocol)\n")
        }
    }
}
