import Foundation
import Glibc
import XCTest

/// TLS on both listeners (`--tls-cert`), end to end: openssl s_client, Python's ssl module
/// and pymemcache as clients; mutual TLS; what is not TLS on a TLS port; a handshake that
/// stalls; a certificate reload on SIGHUP; and bytes OpenSSL holds that no edge announces.
final class TLSTests: XCTestCase {
    /// A CA, a server certificate for 127.0.0.1 it signed, a client certificate it signed,
    /// and a client certificate from another CA; made once with the openssl command.
    private static let files: URL? = makeFiles()

    private var pki: URL { Self.files! }
    private func path(_ name: String) -> String { pki.appendingPathComponent(name).path }

    private static func makeFiles() -> URL? {
        guard FileManager.default.isExecutableFile(atPath: "/usr/bin/openssl") else { return nil }
        let directory = FileManager.default.temporaryDirectory.appendingPathComponent("carriage-tls-\(getpid())")
        try? FileManager.default.createDirectory(at: directory, withIntermediateDirectories: true)
        let script = """
        set -e
        cd '\(directory.path)'
        for ca in ca rogue; do
          openssl req -x509 -newkey rsa:2048 -nodes -keyout $ca.key -out $ca.pem -days 2 -subj /CN=carriage-test-$ca 2>/dev/null
        done
        make() { # name CN ca extension
          openssl req -newkey rsa:2048 -nodes -keyout $1.key -out $1.csr -subj /CN=$2 2>/dev/null
          printf '%s\\n' "$4" > $1.ext
          openssl x509 -req -in $1.csr -CA $3.pem -CAkey $3.key -CAcreateserial -out $1.pem -days 2 -extfile $1.ext 2>/dev/null
        }
        make server server-one ca 'subjectAltName=IP:127.0.0.1'
        make server2 server-two ca 'subjectAltName=IP:127.0.0.1'
        make client client-one ca 'extendedKeyUsage=clientAuth'
        make stranger stranger rogue 'extendedKeyUsage=clientAuth'
        """
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", script]
        try? process.run()
        process.waitUntilExit()
        return process.terminationStatus == 0 ? directory : nil
    }

    override class func tearDown() {
        if let files { try? FileManager.default.removeItem(at: files) }
        super.tearDown()
    }

    override func setUpWithError() throws {
        if Self.files == nil { throw XCTSkip("the openssl command is not available (scripts/test.sh installs it)") }
    }

    private func start(_ arguments: [String] = [], certificate: String = "server") throws -> TestDaemon {
        try TestDaemon(["--memcached-port", "0", "--tls-cert", path("\(certificate).pem"), "--tls-key", path("\(certificate).key")] + arguments)
    }

    /// Runs `command` in bash with `input` on its standard input; its output and status.
    private func shell(_ command: String, input: String = "") throws -> (status: Int32, output: String) {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", command]
        let stdin = Pipe()
        let stdout = Pipe()
        process.standardInput = stdin
        process.standardOutput = stdout
        process.standardError = stdout
        let exit = ExitWatch(process)
        try process.run()
        stdin.fileHandleForWriting.write(Data(input.utf8))
        try stdin.fileHandleForWriting.close()
        let output = stdout.fileHandleForReading.readDataToEndOfFile()
        if !exit.wait(timeout: 60) {
            process.terminate()
            XCTFail("\(command) did not finish in 60 s")
        }
        process.waitUntilExit()
        return (process.terminationStatus, String(decoding: output, as: UTF8.self))
    }

    private func python(_ script: String) throws -> (status: Int32, output: String) {
        try shell("python3 - <<'PYTHON'\n\(script)\nPYTHON")
    }

    private func requirePymemcache() throws {
        guard (try? shell("python3 -c 'import pymemcache'").status) == 0 else {
            throw XCTSkip("python3 with pymemcache is not available (scripts/test.sh installs it)")
        }
    }

    // MARK: Start-up

    /// What cannot work stops start-up, in one line that names the flag or file.
    func testBadTLSSettingsAreOneClearLine() throws {
        let cases: [([String], String)] = [
            (["--tls-cert", path("server.pem")], "--tls-cert and --tls-key go together"),
            (["--tls-cert", path("server.pem"), "--tls-key", path("server.key"), "--tls-verify-clients"], "--tls-verify-clients needs --tls-ca"),
            (["--tls-ca", path("ca.pem")], "need --tls-cert and --tls-key"),
            (["--tls-cert", path("server.pem"), "--tls-key", path("server.key"), "--tls-listeners", "smtp"], "--tls-listeners takes line, memcached"),
            (["--tls-cert", path("server.pem"), "--tls-key", path("server.key"), "--tls-listeners", "memcached"], "--tls-listeners memcached needs --memcached-port"),
            (["--tls-cert", "/nonexistent/cert.pem", "--tls-key", path("server.key")], "cannot load --tls-cert /nonexistent/cert.pem"),
            (["--tls-cert", path("server.pem"), "--tls-key", path("server2.key")], "key values mismatch"),
            (["--tls-cert", path("server.pem"), "--tls-key", path("server.key"), "--tls-ca", path("server.key")], "cannot load --tls-ca"),
        ]
        for (arguments, expected) in cases {
            let (status, stderr, _) = try TestDaemon.runToExit(["--port", "0"] + arguments)
            XCTAssertEqual(status, 1, "\(arguments): \(stderr)")
            XCTAssertEqual(stderr.split(separator: "\n").count, 1, "\(arguments): \(stderr)")
            XCTAssertTrue(stderr.contains(expected), "\(arguments): \(stderr)")
        }
    }

    // MARK: Clients

    func testOpenSSLClientOnBothProtocols() throws {
        let daemon = try start()
        defer { daemon.stopCleanly() }
        let memcached = try XCTUnwrap(daemon.memcachedPort)
        let ca = path("ca.pem")
        let line = try shell("openssl s_client -connect 127.0.0.1:\(daemon.port) -CAfile \(ca) -verify_return_error -quiet -tls1_2 2>/dev/null",
                             input: "PING\nSET k hello\nGET k\nQUIT\n")
        XCTAssertEqual(line.output, "OK PONG\nOK\nOK hello\nOK BYE\n")
        let text = try shell("openssl s_client -connect 127.0.0.1:\(memcached) -CAfile \(ca) -verify_return_error -quiet 2>/dev/null",
                             input: "set m 0 0 5\r\nhello\r\nget m zz\r\nquit\r\n")
        XCTAssertEqual(Array(text.output.utf8), Array("STORED\r\nVALUE m 0 5\r\nhello\r\nEND\r\n".utf8), text.output)
        // TLS 1.1 and older are refused.
        let old = try shell("openssl s_client -connect 127.0.0.1:\(daemon.port) -tls1_1 -quiet", input: "PING\nQUIT\n")
        XCTAssertFalse(old.output.contains("OK PONG"), old.output)
    }

    func testPythonClientsStoreAndReadBinaryValues() throws {
        try requirePymemcache()
        let daemon = try start()
        defer { daemon.stopCleanly() }
        let memcached = try XCTUnwrap(daemon.memcachedPort)
        let result = try python("""
        import socket, ssl
        from pymemcache.client.base import Client
        context = ssl.create_default_context(cafile="\(path("ca.pem"))")
        with socket.create_connection(("127.0.0.1", \(daemon.port))) as raw:
            with context.wrap_socket(raw, server_hostname="127.0.0.1") as s:
                s.sendall(b"CAP hELLO\\n")
                assert s.recv(100) == b"OK Hello\\n"
        c = Client(("127.0.0.1", \(memcached)), tls_context=context)
        value = bytes(range(256)) * 400 + b"\\r\\nEND\\r\\n"
        assert c.set("binary", value, noreply=False) is True
        assert c.get("binary") == value
        assert c.get_many(["binary", "absent"]) == {"binary": value}
        print("ok")
        """)
        XCTAssertEqual(result.output, "ok\n")
    }

    // MARK: Mutual TLS

    func testMutualTLSAcceptsItsClientsAndRefusesOthers() throws {
        let daemon = try start(["--tls-ca", path("ca.pem"), "--tls-verify-clients"])
        defer { daemon.stopCleanly() }
        let base = "openssl s_client -connect 127.0.0.1:\(daemon.port) -CAfile \(path("ca.pem")) -quiet"
        let accepted = try shell("\(base) -cert \(path("client.pem")) -key \(path("client.key"))", input: "PING\nQUIT\n")
        XCTAssertTrue(accepted.output.contains("OK PONG"), accepted.output)
        let anonymous = try shell(base, input: "PING\nQUIT\n")
        XCTAssertFalse(anonymous.output.contains("OK PONG"), anonymous.output)
        let stranger = try shell("\(base) -cert \(path("stranger.pem")) -key \(path("stranger.key"))", input: "PING\nQUIT\n")
        XCTAssertFalse(stranger.output.contains("OK PONG"), stranger.output)
        XCTAssertTrue(daemon.awaitLog(containing: "TLS handshake failed from 127.0.0.1:", occurrences: 2), daemon.stderrText)
        XCTAssertTrue(daemon.stderrText.contains("certificate"), daemon.stderrText)
    }

    func testVerifyingClientsIsProtectionEnoughForANonLoopbackAddress() throws {
        let daemon = try TestDaemon(["--host", "0.0.0.0", "--tls-cert", path("server.pem"), "--tls-key", path("server.key"),
                                     "--tls-ca", path("ca.pem"), "--tls-verify-clients"])
        defer { daemon.stopCleanly() }
        let (status, stderr, _) = try TestDaemon.runToExit(["--host", "0.0.0.0", "--port", "0",
                                                             "--tls-cert", path("server.pem"), "--tls-key", path("server.key")])
        XCTAssertEqual(status, 1)
        XCTAssertTrue(stderr.contains("refusing to serve"), stderr)
        // Mutual TLS on one listener leaves the other open to anyone.
        let partly = try TestDaemon.runToExit(["--host", "0.0.0.0", "--port", "0", "--memcached-port", "0",
                                               "--tls-cert", path("server.pem"), "--tls-key", path("server.key"),
                                               "--tls-ca", path("ca.pem"), "--tls-verify-clients", "--tls-listeners", "line"])
        XCTAssertEqual(partly.status, 1)
        XCTAssertTrue(partly.stderr.contains("refusing to serve"), partly.stderr)
    }

    // MARK: What is not TLS

    func testPlainTextAndGarbageAreClosedWithAReason() throws {
        let daemon = try start()
        defer { daemon.stopCleanly() }
        let plain = try daemon.connect()
        try plain.send("PING\n")
        XCTAssertTrue(try plain.isClosedByServer())
        XCTAssertTrue(daemon.awaitLog(containing: "wrong version number"), daemon.stderrText)
        let garbage = try daemon.connect()
        try garbage.send((0..<600).map { UInt8(truncatingIfNeeded: $0 &* 37 &+ 0x16) })
        XCTAssertTrue(try garbage.isClosedByServer())
        // A handshake that starts and then stops is closed at --request-timeout (below).
        // And the server still serves TLS.
        let after = try shell("openssl s_client -connect 127.0.0.1:\(daemon.port) -quiet", input: "PING\nQUIT\n")
        XCTAssertTrue(after.output.contains("OK PONG"), after.output)
        XCTAssertEqual(try Self.stat(daemon, "tls_handshake_failures"), 2)
    }

    func testAStalledHandshakeIsClosedAtTheRequestTimeout() throws {
        let daemon = try start(["--request-timeout", "1"])
        defer { daemon.stopCleanly() }
        let client = try daemon.connect()
        // The first bytes of a ClientHello record, and nothing more.
        try client.send([0x16, 0x03, 0x01, 0x02, 0x00, 0x01])
        let started = Date()
        XCTAssertTrue(try client.isClosedByServer())
        XCTAssertLessThan(Date().timeIntervalSince(started), 10)
        XCTAssertTrue(daemon.awaitLog(containing: "request timeout"), daemon.stderrText)
    }

    /// STATS read over TLS.
    private static func stat(_ daemon: TestDaemon, _ name: String) throws -> Int? {
        let process = Process()
        process.executableURL = URL(fileURLWithPath: "/bin/bash")
        process.arguments = ["-c", "printf 'STATS\\nQUIT\\n' | openssl s_client -connect 127.0.0.1:\(daemon.port) -quiet 2>/dev/null"]
        let out = Pipe()
        process.standardOutput = out
        try process.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        process.waitUntilExit()
        for line in text.split(separator: "\n") {
            let parts = line.split(separator: " ")
            if parts.count == 3 && parts[1] == name { return Int(parts[2]) }
        }
        return nil
    }

    // MARK: Reload

    func testSighupReloadsTheCertificateWhileClientsStayConnected() throws {
        try requirePymemcache()
        let live = pki.appendingPathComponent("live")
        try? FileManager.default.removeItem(at: live)
        try FileManager.default.createDirectory(at: live, withIntermediateDirectories: true)
        let certificate = live.appendingPathComponent("cert.pem").path
        let key = live.appendingPathComponent("key.pem").path
        try FileManager.default.copyItem(atPath: path("server.pem"), toPath: certificate)
        try FileManager.default.copyItem(atPath: path("server.key"), toPath: key)
        let daemon = try TestDaemon(["--tls-cert", certificate, "--tls-key", key])
        defer { daemon.stopCleanly() }
        let subject = "openssl s_client -connect 127.0.0.1:\(daemon.port) </dev/null 2>/dev/null | grep -o 'subject=CN = [a-z-]*'"
        XCTAssertEqual(try shell(subject).output, "subject=CN = server-one\n")

        // A client that stays connected across the reload, in the background.
        let held = Process()
        held.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        held.arguments = ["python3", "-c", """
        import socket, ssl, sys
        context = ssl.create_default_context(cafile="\(path("ca.pem"))")
        s = context.wrap_socket(socket.create_connection(("127.0.0.1", \(daemon.port))), server_hostname="127.0.0.1")
        s.sendall(b"PING\\n"); assert s.recv(100) == b"OK PONG\\n"
        print("ready", flush=True)
        sys.stdin.readline()
        s.sendall(b"PING\\n"); print(s.recv(100).decode().strip(), flush=True)
        """]
        let toHeld = Pipe()
        let fromHeld = Pipe()
        held.standardInput = toHeld
        held.standardOutput = fromHeld
        try held.run()
        var heard = Data()
        while !heard.contains(UInt8(ascii: "\n")) {
            let more = fromHeld.fileHandleForReading.availableData
            if more.isEmpty { break }
            heard += more
        }
        XCTAssertEqual(String(decoding: heard, as: UTF8.self), "ready\n")

        try FileManager.default.removeItem(atPath: certificate)
        try FileManager.default.removeItem(atPath: key)
        try FileManager.default.copyItem(atPath: path("server2.pem"), toPath: certificate)
        try FileManager.default.copyItem(atPath: path("server2.key"), toPath: key)
        kill(daemon.pid, SIGHUP)
        XCTAssertTrue(daemon.awaitLog(containing: "TLS: reloaded"), daemon.stderrText)
        XCTAssertEqual(try shell(subject).output, "subject=CN = server-two\n")

        toHeld.fileHandleForWriting.write(Data("go\n".utf8))
        XCTAssertEqual(String(decoding: fromHeld.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self), "OK PONG\n")
        held.waitUntilExit()

        // A file that does not load keeps the certificate loaded before.
        try Data("not a certificate\n".utf8).write(to: URL(fileURLWithPath: certificate))
        kill(daemon.pid, SIGHUP)
        XCTAssertTrue(daemon.awaitLog(containing: "TLS: cannot reload"), daemon.stderrText)
        XCTAssertEqual(try shell(subject).output, "subject=CN = server-two\n")
    }

    // MARK: Readiness

    /// Many requests in one TLS record, then the client only waits: every byte OpenSSL
    /// decrypted must be run though no edge announces what it holds. Then a reply larger
    /// than the socket takes at once, and a value split over many records.
    func testPipelinedRequestsInOneRecordAreAllAnswered() throws {
        try requirePymemcache()
        // At debug level the daemon logs why it closes a connection, for a failure message.
        let daemon = try start(["--log-level", "debug"])
        defer { daemon.stopCleanly() }
        let memcached = try XCTUnwrap(daemon.memcachedPort)
        let result = try python("""
        import select, socket, ssl
        from pymemcache.client.base import Client
        context = ssl.create_default_context(cafile="\(path("ca.pem"))")
        def expect(count):
            want = b"OK PONG\\n" * count
            got = b""
            while len(got) < len(want):
                data = s.recv(65536)
                assert data, "closed after %d bytes" % len(got)
                got += data
            assert got == want, got[-100:]
        # 200 TLS records of one request each, in one TCP write: all in the kernel before
        # the server reads; OpenSSL reads one record at a time, and no edge announces the
        # rest once the first read has taken the edge.
        raw = socket.create_connection(("127.0.0.1", \(daemon.port)))
        incoming, outgoing = ssl.MemoryBIO(), ssl.MemoryBIO()
        tls = context.wrap_bio(incoming, outgoing, server_hostname="127.0.0.1")
        while True:
            try:
                tls.do_handshake()
                break
            except ssl.SSLWantReadError:
                raw.sendall(outgoing.read())
                incoming.write(raw.recv(65536))
        raw.sendall(outgoing.read())
        for _ in range(200):
            tls.write(b"PING\\n")
        raw.sendall(outgoing.read())
        raw.settimeout(20)
        answered = b""
        while answered.count(b"\\n") < 200:
            try:
                answered += tls.read(65536)
            except ssl.SSLWantReadError:
                data = raw.recv(65536)
                assert data, "closed"
                incoming.write(data)
        assert answered == b"OK PONG\\n" * 200, answered[-100:]
        # A connection of its own from here on, opened when it is used.
        s = context.wrap_socket(socket.create_connection(("127.0.0.1", \(daemon.port))), server_hostname="127.0.0.1")
        s.settimeout(20)
        # 3,000 requests (15 KB) in one write: one TLS record; more than a turn's budget.
        s.sendall(b"PING\\n" * 3000)
        expect(3000)
        # 100,000 requests (500 KB, 31 records) while replies back up: sent and read by
        # one thread, as the socket becomes ready. (An SSL object must not be used by two
        # threads at once: a sending thread beside a reading one can break the session.)
        s.setblocking(False)
        payload = b"PING\\n" * 100000
        want = b"OK PONG\\n" * 100000
        sent, got = 0, b""
        while len(got) < len(want):
            readable, writable, _ = select.select([s], [s] if sent < len(payload) else [], [], 20)
            assert readable or writable, "stalled after %d bytes" % len(got)
            if writable:
                try:
                    sent += s.send(payload[sent:sent + 16384])
                except (ssl.SSLWantWriteError, ssl.SSLWantReadError):
                    pass
            while readable or s.pending():
                readable = False
                try:
                    data = s.recv(65536)
                except (ssl.SSLWantReadError, ssl.SSLWantWriteError):
                    break
                assert data, "closed after %d bytes" % len(got)
                got += data
        assert got == want, got[-100:]
        s.setblocking(True)
        c = Client(("127.0.0.1", \(memcached)), tls_context=context, timeout=20)
        value = bytes(range(256)) * 4000
        assert c.set("big", value, noreply=False) is True
        assert c.get("big") == value
        print("ok")
        """)
        XCTAssertEqual(result.output, "ok\n", daemon.stderrText)
    }

    // MARK: The load tool

    /// carriage-load --tls --auth on both protocols: every request checked, none lost; a
    /// wrong password is a refused login, counted as an error.
    func testLoadToolSpeaksTLSAndLogsIn() throws {
        let users = pki.appendingPathComponent("users").path
        try Data("bench:pw\n".utf8).write(to: URL(fileURLWithPath: users))
        chmod(users, 0o600)
        let daemon = try start(["--auth-file", users])
        defer { daemon.stopCleanly() }
        let memcached = try XCTUnwrap(daemon.memcachedPort)
        let common = ["--tls", "--tls-ca", path("ca.pem"), "--auth", "bench:pw", "--connections", "8", "--requests", "4000", "--json"]
        let line = try LoadToolRun(["--port", "\(daemon.port)", "--request", "SET %k %v", "--request", "GET %k"] + common)
        XCTAssertEqual(line.status, 0, line.stderr)
        XCTAssertEqual(try line.json()["requests"] as? Int, 4000)
        let text = try LoadToolRun(["--port", "\(memcached)", "--protocol", "memcached", "--pipeline", "8",
                                "--request", "set %k 0 0 %n\\r\\n%v", "--request", "get %k"] + common)
        XCTAssertEqual(text.status, 0, text.stderr)
        XCTAssertEqual(try text.json()["requests"] as? Int, 4000)
        let refused = try LoadToolRun(["--port", "\(daemon.port)", "--tls", "--auth", "bench:nope", "--connections", "2", "--duration", "1"])
        XCTAssertEqual(refused.status, 1)
        XCTAssertTrue(refused.stderr.contains("login refused: 'ERR auth failed'"), refused.stderr)
    }
}
