import Foundation
import Glibc

/// A blocking TCP client for tests: writes bytes, reads reply lines, with a receive
/// timeout so a missing reply fails the test instead of hanging it.
/// `@unchecked Sendable`: a test may send on one thread while it reads on another;
/// `send` touches only the fd, `readLine` only the buffer.
final class LineClient: @unchecked Sendable {
    struct Failure: Error, CustomStringConvertible {
        let description: String
    }

    private(set) var fd: Int32
    private var buffer: [UInt8] = []
    private var start = 0

    init(port: Int, timeoutSeconds: Int = 20) throws {
        fd = socket(AF_INET, Int32(SOCK_STREAM.rawValue), 0)
        guard fd >= 0 else { throw Failure(description: "socket: \(String(cString: strerror(errno)))") }
        var timeout = timeval(tv_sec: timeoutSeconds, tv_usec: 0)
        setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &timeout, socklen_t(MemoryLayout<timeval>.size))
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_port = UInt16(port).bigEndian
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        let rc = withUnsafePointer(to: &address) {
            $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { Glibc.connect(fd, $0, socklen_t(MemoryLayout<sockaddr_in>.size)) }
        }
        guard rc == 0 else {
            let message = String(cString: strerror(errno))
            Glibc.close(fd)
            throw Failure(description: "connect to 127.0.0.1:\(port): \(message)")
        }
    }

    deinit { close() }

    func close() {
        if fd >= 0 { Glibc.close(fd) }
        fd = -1
    }

    func send(_ text: String) throws { try send(Array(text.utf8)) }

    func send(_ bytes: [UInt8]) throws {
        var offset = 0
        while offset < bytes.count {
            let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress! + offset, $0.count - offset, Int32(MSG_NOSIGNAL)) }
            if n < 0 {
                if errno == EINTR { continue }
                throw Failure(description: "send: \(String(cString: strerror(errno)))")
            }
            offset += n
        }
    }

    /// Sends what the socket takes now, without waiting; returns how many bytes it took
    /// (a client whose server has stopped reading it).
    @discardableResult
    func sendWithoutWaiting(_ bytes: [UInt8]) -> Int {
        let n = bytes.withUnsafeBytes { Glibc.send(fd, $0.baseAddress!, $0.count, Int32(MSG_NOSIGNAL | MSG_DONTWAIT)) }
        return max(0, n)
    }

    /// The next line without its LF; nil at end of stream.
    func readLine() throws -> String? {
        while true {
            if let newline = buffer[start...].firstIndex(of: 10) {
                let line = String(decoding: buffer[start..<newline], as: UTF8.self)
                start = newline + 1
                if start > 1 << 16 { buffer.removeFirst(start); start = 0 }
                return line
            }
            if try !fill() {
                return nil
            }
        }
    }

    /// Exactly `count` bytes; fewer only at end of stream.
    func readBytes(_ count: Int) throws -> [UInt8] {
        while buffer.count - start < count {
            if try !fill() { break }
        }
        let end = min(buffer.count, start + count)
        let bytes = Array(buffer[start..<end])
        start = end
        return bytes
    }

    /// Reads one more chunk; false at end of stream.
    private func fill() throws -> Bool {
        var chunk = [UInt8](repeating: 0, count: 1 << 16)
        while true {
            let n = chunk.withUnsafeMutableBytes { Glibc.recv(fd, $0.baseAddress, $0.count, 0) }
            if n > 0 {
                buffer += chunk[0..<n]
                return true
            }
            if n == 0 { return false }
            if errno == EINTR { continue }
            if errno == EAGAIN { throw Failure(description: "timed out waiting for a reply") }
            if errno == ECONNRESET { return false }
            throw Failure(description: "recv: \(String(cString: strerror(errno)))")
        }
    }

    /// Sends one request line and returns the one reply line.
    func request(_ line: String) throws -> String {
        try send(line + "\n")
        guard let reply = try readLine() else { throw Failure(description: "connection closed before replying to \(line)") }
        return reply
    }

    /// Reads lines up to and including `END` (a STATS reply) into a dictionary.
    func stats() throws -> [String: Int] {
        try send("STATS\n")
        var result: [String: Int] = [:]
        while let line = try readLine(), line != "END" {
            let parts = line.split(separator: " ")
            guard parts.count == 3, parts[0] == "STAT" else { throw Failure(description: "bad STATS line \(line)") }
            result[String(parts[1])] = Int(parts[2])
        }
        return result
    }

    /// True when the server closed the connection (EOF or reset) before any more bytes.
    func isClosedByServer() throws -> Bool {
        try readLine() == nil
    }

    func shutdownWrite() { Glibc.shutdown(fd, Int32(SHUT_WR)) }

    /// Closes with a reset (SO_LINGER 0) instead of a FIN.
    func reset() {
        var linger = Glibc.linger(l_onoff: 1, l_linger: 0)
        setsockopt(fd, SOL_SOCKET, SO_LINGER, &linger, socklen_t(MemoryLayout<Glibc.linger>.size))
        close()
    }
}
