import Glibc

/// Whole-descriptor I/O for files and pipes (blocking descriptors): what the daemon's
/// start-up, its pid file and the standard error writer need.
package enum Descriptor {
    /// Opens `path`; the flags always include `O_CLOEXEC`.
    package static func open(_ path: String, _ flags: Int32, mode: mode_t = 0o644) throws(SystemError) -> Int32 {
        try syscallBlocking("open") { Glibc.open(path, flags | O_CLOEXEC, mode) }
    }

    /// Writes every byte, however many calls it takes.
    package static func writeAll(_ fd: Int32, _ bytes: [UInt8]) throws(SystemError) {
        var offset = 0
        while offset < bytes.count {
            offset += try syscallBlocking("write") {
                bytes.withUnsafeBytes { Glibc.write(fd, $0.baseAddress! + offset, $0.count - offset) }
            }
        }
    }

    /// Reads until end of file.
    package static func readToEnd(_ fd: Int32) throws(SystemError) -> [UInt8] {
        var received: [UInt8] = []
        var chunk = [UInt8](repeating: 0, count: 4096)
        while true {
            let n = try syscallBlocking("read") { chunk.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress, $0.count) } }
            if n == 0 { return received }
            received += chunk[0..<n]
        }
    }

    /// Closes `fd`. Never retried: Linux frees the descriptor even when `close` fails
    /// with EINTR, and a second close could hit a descriptor another thread just got.
    package static func close(_ fd: Int32) {
        _ = Glibc.close(fd)
    }

    /// The descriptors open in this process, from /proc/self/fd.
    package static func openDescriptors() -> [Int32] {
        var open: [Int32] = []
        guard let dir = opendir("/proc/self/fd") else { return open }
        while let entry = readdir(dir) {
            let name = withUnsafeBytes(of: entry.pointee.d_name) { String(decoding: $0.prefix { $0 != 0 }, as: UTF8.self) }
            if let fd = Int32(name) { open.append(fd) }
        }
        let own = dirfd(dir)
        closedir(dir)
        return open.filter { $0 != own }
    }
}
