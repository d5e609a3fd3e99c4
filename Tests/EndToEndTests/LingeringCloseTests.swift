import Foundation
import Glibc
import XCTest

/// The server's last words reach the client: a socket the server closes while the client
/// may still be sending is drained first, so the kernel does not answer with a reset that
/// destroys the reply in flight.
final class LingeringCloseTests: XCTestCase {
    /// Against a full server: clients that send, wait, send again and only then read all
    /// get BUSY (with a plain close, nearly all got a reset).
    ///
    /// The clients are Python's plain sockets: with a plain close, Python's `recv` gets the
    /// reset in 100 of 100 tries here.
    func testEveryRefusedClientReadsBusy() throws {
        guard (try? MemcachedProtocolTests.runTool("python3", ["-c", "pass"]).status) == 0 else {
            throw XCTSkip("python3 is not available")
        }
        let daemon = try TestDaemon(["--max-connections", "2"])
        defer { daemon.stopCleanly() }
        let held = [try daemon.connect(), try daemon.connect()]
        for client in held { XCTAssertEqual(try client.request("PING"), "OK PONG") }
        let script = """
        import socket, time
        replies = {}
        for _ in range(200):
            s = socket.create_connection(("127.0.0.1", \(daemon.port)))
            try:
                s.sendall(b"PING\\n")
                time.sleep(0.02)  # input that arrives after the refusal
                s.sendall(b"PING\\n")
                reply = s.recv(100).decode()
            except Exception as error:
                reply = type(error).__name__
            replies[reply] = replies.get(reply, 0) + 1
            s.close()
        print(replies)
        """
        let run = try MemcachedProtocolTests.runTool("python3", ["-c", script])
        XCTAssertEqual(String(decoding: run.output, as: UTF8.self), "{'BUSY too many connections\\n': 200}\n")
        for client in held { XCTAssertEqual(try client.request("PING"), "OK PONG") }
    }

    /// A reply, then a line too long, then the client's half-close: both replies arrive.
    func testRepliesBeforeLineTooLongArrive() throws {
        let daemon = try TestDaemon()
        defer { daemon.stopCleanly() }
        for _ in 0..<5 {
            let client = try daemon.connect()
            try client.send(Array("PING\n".utf8) + [UInt8](repeating: UInt8(ascii: "x"), count: 200_000) + Array("\n".utf8))
            client.shutdownWrite()
            XCTAssertEqual(try client.readLine(), "OK PONG")
            XCTAssertEqual(try client.readLine(), "ERR line too long")
            XCTAssertTrue(try client.isClosedByServer())
        }
    }

    /// QUIT with more pipelined behind it: the replies up to QUIT arrive, then a close.
    func testRepliesUpToQuitArrive() throws {
        let daemon = try TestDaemon()
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        try client.send("PING\nQUIT\n" + String(repeating: "PING\n", count: 20_000))
        XCTAssertEqual(try client.readLine(), "OK PONG")
        XCTAssertEqual(try client.readLine(), "OK BYE")
        XCTAssertTrue(try client.isClosedByServer())
    }
}
