import CarriagePosix

/// Why a snapshot could not be read or written, in words an operator can act on. A file
/// that cannot be loaded stops start-up and is left as it is.
public enum SnapshotError: Error, Equatable, CustomStringConvertible {
    case cannotRead(path: String, SystemError)
    case notASnapshot(path: String)
    case unsupportedVersion(path: String, version: UInt32)
    /// The file ends before its last record, or before its trailer.
    case truncated(path: String, atByte: Int)
    case corrupt(path: String, atByte: Int, reason: String)
    case checksumMismatch(path: String)
    /// `--max-memory` has no room for the items (with `--eviction none`).
    case doesNotFit(path: String, loaded: Int)
    case cannotWrite(path: String, SystemError)

    public var description: String {
        switch self {
        case .cannotRead(let path, let error):
            return "cannot read snapshot \(path): \(error.reason)"
        case .notASnapshot(let path):
            return "\(path) is not a carriaged snapshot (wrong magic bytes); move it away or pass another --snapshot"
        case .unsupportedVersion(let path, let version):
            return "snapshot \(path) has format version \(version), which this carriaged cannot read"
        case .truncated(let path, let offset):
            return "snapshot \(path) is truncated (it ends at byte \(offset), inside a record or before its trailer); it was left untouched: move it away to start empty"
        case .corrupt(let path, let offset, let reason):
            return "snapshot \(path) is corrupt at byte \(offset) (\(reason)); it was left untouched: move it away to start empty"
        case .checksumMismatch(let path):
            return "snapshot \(path) is corrupt (its checksum does not match its contents); it was left untouched: move it away to start empty"
        case .doesNotFit(let path, let loaded):
            return "snapshot \(path) does not fit in --max-memory (\(loaded) items loaded before it was full): raise --max-memory, or use --eviction lru"
        case .cannotWrite(let path, let error):
            return "cannot write snapshot \(path): \(error)"
        }
    }
}
