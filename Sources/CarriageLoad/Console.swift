import Glibc

/// Lines for people on standard error (progress, error samples, failures), written with
/// one `write` each so lines from different moments never interleave mid-line.
enum Console {
    static func error(_ line: String) {
        var text = line
        text.append("\n")
        text.withUTF8 { bytes in
            var offset = 0
            while offset < bytes.count {
                let n = write(STDERR_FILENO, bytes.baseAddress! + offset, bytes.count - offset)
                if n < 0 && errno == EINTR { continue }
                if n <= 0 { return }
                offset += n
            }
        }
    }

    static var isTerminal: Bool { isatty(STDERR_FILENO) == 1 }
}
