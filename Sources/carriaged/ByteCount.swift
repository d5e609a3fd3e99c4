import ArgumentParser

/// A size given on the command line: `67108864`, `64MiB`, `64M`, `512KiB`, `1GiB`.
/// K, M and G (with or without `B` or `iB`) are powers of 1024.
struct ByteCount: ExpressibleByArgument, CustomStringConvertible {
    let bytes: Int

    init?(argument: String) {
        let text = argument.lowercased()
        let digits = text.prefix { $0.isNumber }
        guard let number = Int(digits) else { return nil }
        let multiplier: Int
        switch text.dropFirst(digits.count) {
        case "", "b": multiplier = 1
        case "k", "kb", "kib": multiplier = 1 << 10
        case "m", "mb", "mib": multiplier = 1 << 20
        case "g", "gb", "gib": multiplier = 1 << 30
        default: return nil
        }
        let (product, overflow) = number.multipliedReportingOverflow(by: multiplier)
        guard !overflow else { return nil }
        bytes = product
    }

    init(bytes: Int) {
        self.bytes = bytes
    }

    /// The largest unit that states it exactly: `64MiB`, not `67108864`.
    var description: String {
        for (shift, unit) in [(30, "GiB"), (20, "MiB"), (10, "KiB")] where bytes != 0 && bytes % (1 << shift) == 0 {
            return "\(bytes >> shift)\(unit)"
        }
        return "\(bytes)"
    }

    static var defaultValueDescription: String { "64MiB" }
}
