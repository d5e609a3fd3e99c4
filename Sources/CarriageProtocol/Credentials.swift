/// The users `--auth-file` lets in: `user:password` lines, as memcached's `-Y` reads them.
///
/// Passwords are compared in time that depends only on the length of what is compared
/// against, never on where the bytes first differ, and a user that does not exist costs
/// the same comparison as one that does; so timing tells a client nothing.
public struct Credentials: Sendable {
    private struct Entry: Sendable {
        let user: [UInt8]
        let password: [UInt8]
    }

    private let entries: [Entry]

    /// The users, in file order.
    public var users: [String] { entries.map { String(decoding: $0.user, as: UTF8.self) } }

    /// Parses an auth file: one `user:password` per line (the password is everything after
    /// the first `:`, and may hold `:`); a CR before the LF is dropped; empty lines and
    /// lines starting with `#` are skipped. Neither part may be empty or hold a space (the
    /// protocols send them space-separated), and a user appears once.
    public init(parsing text: [UInt8]) throws(CredentialsError) {
        var entries: [Entry] = []
        var lineNumber = 0
        for rawLine in text.split(separator: UInt8(ascii: "\n"), omittingEmptySubsequences: false) {
            lineNumber += 1
            var line = rawLine
            if line.last == UInt8(ascii: "\r") { line = line.dropLast() }
            if line.isEmpty || line.first == UInt8(ascii: "#") { continue }
            guard let colon = line.firstIndex(of: UInt8(ascii: ":")) else {
                throw .malformedLine(lineNumber, "no ':' between user and password")
            }
            let user = line[..<colon]
            let password = line[(colon + 1)...]
            guard !user.isEmpty else { throw .malformedLine(lineNumber, "the user is empty") }
            guard !password.isEmpty else { throw .malformedLine(lineNumber, "the password is empty") }
            guard !line.contains(where: { $0 == UInt8(ascii: " ") || $0 == UInt8(ascii: "\t") || $0 < 0x20 }) else {
                throw .malformedLine(lineNumber, "spaces and control characters are not allowed")
            }
            guard !entries.contains(where: { $0.user.elementsEqual(user) }) else {
                throw .malformedLine(lineNumber, "user '\(String(decoding: user, as: UTF8.self))' appears twice")
            }
            entries.append(Entry(user: Array(user), password: Array(password)))
        }
        guard !entries.isEmpty else { throw .noUsers }
        self.entries = entries
    }

    /// Whether `user` exists with exactly this `password`.
    public func verify(user: ArraySlice<UInt8>, password: ArraySlice<UInt8>) -> Bool {
        var matched = false
        for entry in entries {
            // Every entry's password is compared, the user's or not: no early exit.
            let userMatches = entry.user.elementsEqual(user)
            let passwordMatches = Self.constantTimeEquals(entry.password, password)
            matched = matched || (userMatches && passwordMatches)
        }
        return matched
    }

    /// Equal bytes, in time that depends on `expected`'s length only.
    static func constantTimeEquals(_ expected: [UInt8], _ given: ArraySlice<UInt8>) -> Bool {
        var difference = UInt8(truncatingIfNeeded: expected.count ^ given.count)
        var index = given.startIndex
        for byte in expected {
            // Past the end of `given`, compare against 0: still one step per byte.
            let other = index < given.endIndex ? given[index] : 0
            difference |= byte ^ other
            if index < given.endIndex { index += 1 }
        }
        return difference == 0 && expected.count == given.count
    }
}
