import Glibc

/// Lines for people on standard error, each written whole with as few `write`s as it
/// takes, so lines from different moments never interleave mid-line. (The C `stderr`
/// global is not concurrency-safe in Swift 6.)
package enum StandardError {
    package static func write(line text: String) {
        var bytes = Array(text.utf8)
        bytes.append(UInt8(ascii: "\n"))
        try? Descriptor.writeAll(STDERR_FILENO, bytes)
    }

    /// Whether standard error is a terminal (progress lines are for people only).
    package static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}
