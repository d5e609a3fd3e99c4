import Foundation
import Glibc
import XCTest

/// A real memcached on a free loopback port, the oracle of differential tests; skips the
/// test when memcached is not installed (scripts/test.sh installs it).
final class RealMemcached {
    let port: Int
    private let process = Process()

    init(arguments: [String] = []) throws {
        guard let binary = ["/usr/bin/memcached", "/usr/local/bin/memcached"].first(where: {
            FileManager.default.isExecutableFile(atPath: $0)
        }) else {
            throw XCTSkip("memcached is not installed (scripts/test.sh installs it)")
        }
        port = try unusedLoopbackPort()
        process.executableURL = URL(fileURLWithPath: binary)
        process.arguments = ["-l", "127.0.0.1", "-p", "\(port)", "-U", "0"] + arguments + (getuid() == 0 ? ["-u", "root"] : [])
        process.standardOutput = FileHandle.nullDevice
        process.standardError = FileHandle.nullDevice
        try process.run()
    }

    deinit {
        process.terminate()
        process.waitUntilExit()
    }

    /// A connection, once memcached accepts them (it starts in a few milliseconds).
    func connect() throws -> LineClient {
        for _ in 0..<100 {
            if let client = try? LineClient(port: port) { return client }
            usleep(50_000)
        }
        throw XCTSkip("memcached did not start on port \(port)")
    }
}
