import CarriagePosix
import CarriageProtocol
import Foundation
import Glibc
import XCTest

/// memcached's protocol on `--memcached-port`, over real sockets, against real clients,
/// and beside a real memcached.
final class MemcachedProtocolTests: XCTestCase {
    private func start(_ arguments: [String] = []) throws -> (TestDaemon, Int) {
        let daemon = try TestDaemon(["--memcached-port", "0"] + arguments)
        return (daemon, try XCTUnwrap(daemon.memcachedPort, "no memcached start-up line: \(daemon.stderrText)"))
    }

    /// Sends `request` and reads exactly as many bytes as `expected` has.
    private func exchange(_ client: LineClient, _ request: [UInt8], expecting expected: String,
                          file: StaticString = #filePath, line: UInt = #line) throws {
        try client.send(request)
        let reply = try client.readBytes(expected.utf8.count)
        XCTAssertEqual(String(decoding: reply, as: UTF8.self), expected, file: file, line: line)
    }

    private func exchange(_ client: LineClient, _ request: String, expecting expected: String,
                          file: StaticString = #filePath, line: UInt = #line) throws {
        try exchange(client, Array(request.utf8), expecting: expected, file: file, line: line)
    }

    func testStartUpLineAndBothProtocolsShareTheStore() throws {
        let (daemon, port) = try start()
        defer { daemon.stopCleanly() }
        XCTAssertNotEqual(port, daemon.port)
        let memcached = try LineClient(port: port)
        let line = try daemon.connect()
        // Pipelined, both protocols interleaved.
        var batch = ""
        var expected = ""
        for index in 0..<200 {
            batch += "set k\(index) \(index) 0 \(String(index).count)\r\n\(index)\r\nget k\(index)\r\n"
            expected += "STORED\r\nVALUE k\(index) \(index) \(String(index).count)\r\n\(index)\r\nEND\r\n"
        }
        try exchange(memcached, batch, expecting: expected)
        try line.send((0..<200).map { "GET k\($0)\n" }.joined())
        for index in 0..<200 { XCTAssertEqual(try line.readLine(), "OK \(index)") }
        XCTAssertEqual(try line.request("SET fromline text"), "OK")
        try exchange(memcached, "gets fromline\r\n", expecting: "VALUE fromline 0 4 ")
        XCTAssertNotNil(try memcached.readLine())  // the CAS unique and CR
        XCTAssertEqual(try memcached.readLine(), "text\r")
        XCTAssertEqual(try memcached.readLine(), "END\r")
        // The line protocol's answer for a value it cannot put on one line.
        try exchange(memcached, "set twolines 0 0 3\r\na\nb\r\n", expecting: "STORED\r\n")
        XCTAssertEqual(try line.request("GET twolines"), "ERR value has a line break (read it over the memcached protocol)")
        let stats = try line.stats()
        XCTAssertEqual(stats["connections_current"], 2, "--max-connections counts both listeners")
    }

    func testDataBlocksArrivingAByteAtATime() throws {
        let (daemon, port) = try start()
        defer { daemon.stopCleanly() }
        let client = try LineClient(port: port)
        let request = Array("set split 7 0 10\r\n0123\r\n6789\r\nget split\r\n".utf8)
        for byte in request { try client.send([byte]) }
        try exchange(client, [], expecting: "STORED\r\nVALUE split 7 10\r\n0123\r\n6789\r\nEND\r\n")
    }

    func testOneMebibyteValueAndOneByteMore() throws {
        let (daemon, port) = try start()
        defer { daemon.stopCleanly() }
        let client = try LineClient(port: port)
        let value = (0..<(1 << 20)).map { UInt8(truncatingIfNeeded: $0 &* 31) }
        try exchange(client, Array("set big 0 0 \(value.count)\r\n".utf8) + value + Array("\r\n".utf8), expecting: "STORED\r\n")
        try client.send("get big\r\n")
        XCTAssertEqual(try client.readLine(), "VALUE big 0 \(value.count)\r")
        XCTAssertEqual(try client.readBytes(value.count), value)
        XCTAssertEqual(try client.readLine(), "\r")
        XCTAssertEqual(try client.readLine(), "END\r")
        let tooBig = [UInt8](repeating: 7, count: (1 << 20) + 1)
        try exchange(client, Array("set big 0 0 \(tooBig.count)\r\n".utf8) + tooBig + Array("\r\nversion\r\n".utf8),
                     expecting: "SERVER_ERROR object too large for cache\r\nVERSION 1.6.0-carriage-\(CarriageVersion.number)\r\n")
        try exchange(client, "mg big s\r\n", expecting: "HD s\(value.count)\r\n")
    }

    func testNoreplyBatchAnswersOnlyTheNoOp() throws {
        let (daemon, port) = try start()
        defer { daemon.stopCleanly() }
        let client = try LineClient(port: port)
        let batch = (0..<2_000).map { "set q\($0) 0 0 1 noreply\r\nx\r\n" }.joined() + "delete q5 noreply\r\nmn\r\n"
        try exchange(client, batch, expecting: "MN\r\n")
        try exchange(client, "get q5 q6\r\n", expecting: "VALUE q6 0 1\r\nx\r\nEND\r\n")
    }

    /// A client that promises 100 bytes, sends 3 and goes: nothing is stored, and the
    /// server is unharmed.
    func testShortDataBlockThenClose() throws {
        let (daemon, port) = try start()
        defer { daemon.stopCleanly() }
        let short = try LineClient(port: port)
        try short.send("set partial 0 0 100\r\nabc")
        short.close()
        let client = try LineClient(port: port)
        try exchange(client, "get partial\r\n", expecting: "END\r\n")
        try exchange(client, "set partial 0 0 2\r\nok\r\nget partial\r\n", expecting: "STORED\r\nVALUE partial 0 2\r\nok\r\nEND\r\n")
    }

    // MARK: Beside a real memcached

    /// The same requests to memcached and to carriaged get the same bytes back, CAS
    /// uniques aside. Left out, on purpose: a refused `set` (memcached then deletes the old
    /// value; we keep it), `decr`'s space padding (protocol.txt: not to be relied on), and
    /// flags over 32 bits (memcached truncates them; we refuse).
    func testRepliesMatchARealMemcached() throws {
        let (daemon, ours) = try start()
        defer { daemon.stopCleanly() }
        let reference = try RealMemcached(arguments: ["-m", "64"])
        let memcached = try reference.connect()
        let carriaged = try LineClient(port: ours)
        let script: [String] = [
            "set a 0 0 1\r\nx\r\n", "get a\r\n", "gets a b\r\n", "set a 0 0 1 noreply\r\ny\r\n", "get a\r\n",
            "set a 0 0 1\r\nxy\r\n", "set a x 0 1\r\n", "get\r\n", "bogus\r\n", "GET a\r\n", "\r\n",
            "add a 0 0 1\r\nz\r\n", "add n 0 0 2\r\n10\r\n", "replace zz 0 0 1\r\nz\r\n", "append a 0 0 2\r\n>>\r\n",
            "prepend a 0 0 2\r\n<<\r\n", "get a\r\n", "cas a 0 0 1 1\r\nq\r\n", "cas zz 0 0 1 1\r\nq\r\n",
            "incr n 5\r\n", "decr n 100\r\n", "incr n 18446744073709551615\r\n", "incr a 1\r\n", "incr zz 1\r\n",
            "incr n x\r\n", "incr n -1\r\n", "incr\r\n", "delete a 0\r\n", "delete a\r\n", "delete a 5\r\n",
            "delete zz noreply\r\n", "touch n 100\r\n", "touch zz 1\r\n", "touch n x\r\n", "gat 100 n zz\r\n",
            "gat n\r\n", "set e 0 -1 1\r\nx\r\n", "get e\r\n", "set t 0 2592001 1\r\nx\r\n", "get t\r\n",
            "verbosity 1\r\n", "verbosity\r\n", "mn\r\n", "ms m 2 T0 F7\r\nhi\r\n", "mg m v f s t\r\n",
            "mg m k v Oop\r\n", "mg zz v\r\n", "mg zz v q\r\n", "mg zz k Oop\r\n", "ms m 2 MA\r\nyo\r\n",
            "mg m v\r\n", "ms m 1 ME\r\nx\r\n", "ms zz 1 MR\r\nx\r\n", "ms m 2 MZ\r\nhi\r\n", "ms m S2\r\nhi\r\n",
            "mg m v X\r\n", "md m q\r\n", "md m\r\n", "ma c\r\n", "ma c N0 J5\r\n", "ma c v\r\n", "ma c MD D9 v\r\n",
            "ma c MX\r\n", "mg v1 v N30 t\r\n", "mg v1 v t\r\n", "ms s 1\r\nx\r\n", "md s I T30\r\n", "mg s v t\r\n",
            "mg s v\r\n", "flush_all\r\n", "get n s\r\n", "flush_all 0 noreply\r\n", "set " + String(repeating: "k", count: 251) + " 0 0 1\r\nx\r\n",
            "mn\r\n",
        ]
        for request in script {
            let expected = try Self.reply(to: request, from: memcached)
            let actual = try Self.reply(to: request, from: carriaged)
            XCTAssertEqual(Self.withoutCAS(actual), Self.withoutCAS(expected), request.debugDescription)
        }
    }

    /// Sends `request` then `mn`, and returns what came back before `MN`.
    private static func reply(to request: String, from client: LineClient) throws -> String {
        try client.send(request + "mn\r\n")
        var lines: [String] = []
        while let line = try client.readLine(), line != "MN\r" { lines.append(line) }
        return lines.joined(separator: "\n")
    }

    /// CAS uniques differ between servers: `gets` lines lose their fifth field, meta
    /// replies their `c<digits>` tokens.
    private static func withoutCAS(_ text: String) -> String {
        text.split(separator: "\n", omittingEmptySubsequences: false).map { line -> String in
            var words = line.split(separator: " ", omittingEmptySubsequences: false).map(String.init)
            if words.first == "VALUE" && words.count == 5 { words[4] = "<cas>\r" }
            if ["VA", "HD", "EN", "NS", "EX", "NF"].contains(words.first ?? "") {
                words = words.map { $0.first == "c" && $0.dropFirst().allSatisfy({ $0.isNumber || $0 == "\r" }) ? "c<cas>" : $0 }
            }
            return words.joined(separator: " ")
        }.joined(separator: "\n")
    }

    // MARK: Real clients

    /// libmemcached's command-line tools, as Debian ships them.
    func testLibmemcachedTools() throws {
        let tools = ["memccp", "memccat", "memcrm", "memcflush", "memcstat"]
        guard tools.allSatisfy({ FileManager.default.isExecutableFile(atPath: "/usr/bin/\($0)") }) else {
            throw XCTSkip("libmemcached-tools is not installed (scripts/test.sh installs it)")
        }
        let (daemon, port) = try start()
        defer { daemon.stopCleanly() }
        let servers = "--servers=127.0.0.1:\(port)"
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("carriage-memc-\(getpid())")
        try FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        defer { try? FileManager.default.removeItem(at: directory) }
        let file = directory.appendingPathComponent("payload.bin")
        let payload = Data((0..<50_000).map { UInt8(truncatingIfNeeded: $0 &* 7 &+ 3) })
        try payload.write(to: file)

        XCTAssertEqual(try Self.runTool("memccp", [servers, file.path]).status, 0)
        let read = try Self.runTool("memccat", [servers, "payload.bin"])
        XCTAssertEqual(read.status, 0)
        XCTAssertEqual(read.output, payload + Data("\n".utf8), "memccat ends the value with a newline")
        let stats = try Self.runTool("memcstat", [servers])
        XCTAssertEqual(stats.status, 0)
        XCTAssertTrue(String(decoding: stats.output, as: UTF8.self).contains("curr_items: 1"), String(decoding: stats.output, as: UTF8.self))
        XCTAssertEqual(try Self.runTool("memcrm", [servers, "payload.bin"]).status, 0)
        XCTAssertNotEqual(try Self.runTool("memccat", [servers, "payload.bin"]).status, 0)
        XCTAssertEqual(try Self.runTool("memccp", [servers, file.path]).status, 0)
        XCTAssertEqual(try Self.runTool("memcflush", [servers]).status, 0)
        XCTAssertNotEqual(try Self.runTool("memccat", [servers, "payload.bin"]).status, 0)
    }

    /// pymemcache, a Python client from PyPI.
    func testPythonClient() throws {
        guard (try? Self.runTool("python3", ["-c", "import pymemcache"]).status) == 0 else {
            throw XCTSkip("python3 with pymemcache is not available (scripts/test.sh installs it)")
        }
        let (daemon, port) = try start()
        defer { daemon.stopCleanly() }
        let script = """
        from pymemcache.client.base import Client
        c = Client(("127.0.0.1", \(port)))
        assert c.set("k", b"v\\r\\nbinary\\x00\\xff", noreply=False) is True
        assert c.get("k") == b"v\\r\\nbinary\\x00\\xff"
        assert c.add("k", b"x", noreply=False) is False
        assert c.get_many(["k", "absent"]) == {"k": b"v\\r\\nbinary\\x00\\xff"}
        value, cas = c.gets("k")
        assert c.cas("k", b"new", cas) is True
        assert c.cas("k", b"newer", cas) is False
        assert c.get("k") == b"new"
        c.set("n", b"10")
        assert c.incr("n", 5) == 15
        assert c.decr("n", 20) == 0
        assert c.touch("n", 100) is True
        assert c.delete("n") is True
        assert c.get("n") is None
        assert c.append("k", b"!", noreply=False) is True and c.get("k") == b"new!"
        assert b"curr_items" in c.stats() or "curr_items" in c.stats()
        c.flush_all()
        assert c.get("k") is None
        print("ok")
        """
        let result = try Self.runTool("python3", ["-c", script])
        XCTAssertEqual(result.status, 0, String(decoding: result.output, as: UTF8.self))
        XCTAssertEqual(String(decoding: result.output, as: UTF8.self), "ok\n")
    }

    /// Runs `tool` (found on the PATH) and returns its exit status and standard output
    /// (standard error goes with it, for messages).
    static func runTool(_ tool: String, _ arguments: [String]) throws -> (status: Int32, output: Data) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        process.arguments = [tool] + arguments
        let pipe = Pipe()
        process.standardOutput = pipe
        process.standardError = FileHandle.nullDevice
        try process.run()
        let output = pipe.fileHandleForReading.readDataToEndOfFile()
        process.waitUntilExit()
        return (process.terminationStatus, output)
    }
}
