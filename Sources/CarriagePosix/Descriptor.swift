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

    /// Reads what is there, up to `count` bytes, appending to `buffer`; 0 at end of file.
    package static func read(_ fd: Int32, appendingTo buffer: inout [UInt8], count: Int) throws(SystemError) -> Int {
        let start = buffer.count
        buffer.append(contentsOf: repeatElement(0, count: count))
        do {
            let n = try syscallBlocking("read") {
                buffer.withUnsafeMutableBytes { Glibc.read(fd, $0.baseAddress! + start, count) }
            }
            buffer.removeLast(count - n)
            return n
        } catch {
            buffer.removeLast(count)
            throw error
        }
    }

    /// The size of the open file, in bytes.
    package static func size(_ fd: Int32) throws(SystemError) -> Int {
        var status = stat()
        _ = try syscallBlocking("fstat") { fstat(fd, &status) }
        return Int(status.st_size)
    }

    /// The open file's permission bits (`st_mode & 0o7777`).
    package static func permissions(_ fd: Int32) throws(SystemError) -> mode_t {
        var status = stat()
        _ = try syscallBlocking("fstat") { fstat(fd, &status) }
        return status.st_mode & 0o7777
    }

    /// Forces what was written to `fd` onto the disk.
    package static func sync(_ fd: Int32) throws(SystemError) {
        _ = try syscallBlocking("fsync") { fsync(fd) }
    }

    /// Renames `from` to `to`, replacing `to` in one step.
    package static func rename(_ from: String, to: String) throws(SystemError) {
        _ = try syscallBlocking("rename") { Glibc.rename(from, to) }
    }

    /// Removes the file at `path`; a missing one is not an error.
    package static func remove(_ path: String) {
        _ = unlink(path)
    }

    /// Makes a rename into `directory` durable: its entry is on disk once this returns.
    package static func syncDirectory(_ directory: String) throws(SystemError) {
        let fd = try open(directory, O_RDONLY | O_DIRECTORY)
        defer { close(fd) }
        try sync(fd)
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
