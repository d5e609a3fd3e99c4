import CarriagePosix
import CarriageStore
import Glibc

/// The store on disk (`--snapshot PATH`): written whole to a temporary file beside PATH,
/// fsynced and renamed over it, so PATH always holds a complete snapshot; read back at
/// start, before the listeners open.
///
/// Layout (integers little-endian):
///
/// | bytes | what |
/// | --- | --- |
/// | 8 | magic `CARRSNAP` |
/// | 4 | format version, 1 |
/// | 4 | reserved, 0 |
/// | 8 | unix time written |
/// | ... | items, each a ``SnapshotRecord`` (its first byte, the key length, is never 0) |
/// | 1 | 0: the end of the items |
/// | 7 | `SNAPEND` |
/// | 8 | the number of items |
/// | 4 | CRC-32C of every byte before it |
///
/// A file that ends early, whose lengths are impossible, or whose checksum does not match
/// is refused whole: start-up stops with one line naming it (``SnapshotError``).
enum SnapshotFile {
    static let magic = Array("CARRSNAP".utf8)
    static let endMagic: [UInt8] = [0] + Array("SNAPEND".utf8)
    static let version: UInt32 = 1
    static let headerSize = 24
    static let trailerSize = 20

    struct Written: Equatable {
        var items = 0
        var bytes = 0
    }

    struct Loaded: Equatable {
        var items = 0
        /// Expired since the snapshot was written: skipped.
        var expired = 0
        var bytes = 0
    }

    // MARK: Writing

    /// Writes `store` to `path` (through `path.tmp-<pid>`, fsynced, renamed over it, the
    /// directory fsynced). Writes go on meanwhile; each shard's lock is held for a slice.
    static func write(_ store: Store, to path: String, unixNow: Int) throws(SnapshotError) -> Written {
        let temporary = "\(path).tmp-\(getpid())"
        do throws(SystemError) {
            let fd = try Descriptor.open(temporary, O_WRONLY | O_CREAT | O_TRUNC, mode: 0o600)
            var written = Written()
            do {
                var checksum = CRC32C()
                var buffer: [UInt8] = []
                buffer.reserveCapacity(2 * Store.snapshotSliceBytes)
                buffer += magic
                LittleEndian.append(version, to: &buffer)
                LittleEndian.append(UInt32(0), to: &buffer)
                LittleEndian.append(Int64(unixNow), to: &buffer)
                var cursor = Store.SnapshotCursor()
                var more = true
                while more {
                    let records = store.exportSnapshot(from: &cursor, into: &buffer, unixNow: unixNow)
                    written.items += records ?? 0
                    more = records != nil
                    if !more || buffer.count >= Store.snapshotSliceBytes {
                        if !more {
                            buffer += endMagic
                            LittleEndian.append(UInt64(written.items), to: &buffer)
                        }
                        checksum.update(buffer[...])
                        if !more { LittleEndian.append(checksum.value, to: &buffer) }
                        try Descriptor.writeAll(fd, buffer)
                        written.bytes += buffer.count
                        buffer.removeAll(keepingCapacity: true)
                    }
                }
                try Descriptor.sync(fd)
            } catch {
                Descriptor.close(fd)
                throw error
            }
            Descriptor.close(fd)
            try Descriptor.rename(temporary, to: path)
            try Descriptor.syncDirectory(directory(of: path))
            return written
        } catch {
            Descriptor.remove(temporary)
            throw .cannotWrite(path: path, error)
        }
    }

    private static func directory(of path: String) -> String {
        guard let slash = path.lastIndex(of: "/") else { return "." }
        return slash == path.startIndex ? "/" : String(path[..<slash])
    }

    // MARK: Reading

    /// Loads the snapshot at `path` into `store` (expired items skipped, CAS uniques kept).
    /// Returns nil when there is no file (a first start).
    static func load(from path: String, into store: Store, unixNow: Int) throws(SnapshotError) -> Loaded? {
        let fd: Int32
        do {
            fd = try Descriptor.open(path, O_RDONLY)
        } catch {
            if error.errno == ENOENT { return nil }
            throw .cannotRead(path: path, error)
        }
        defer { Descriptor.close(fd) }
        var reader = Reader(fd: fd, path: path)
        try reader.open()
        var loaded = Loaded()
        var maxCAS: UInt64 = 0
        var checksum = CRC32C()

        // Some other file is named as such even when it is shorter than a header.
        let leading = min(magic.count, reader.size)
        try reader.fill(leading)
        guard reader.available.prefix(leading).elementsEqual(magic.prefix(leading)) else { throw .notASnapshot(path: path) }
        let header = try reader.take(headerSize)
        let fileVersion = LittleEndian.read(header, at: 8, as: UInt32.self)
        guard fileVersion == version else { throw .unsupportedVersion(path: path, version: fileVersion) }
        checksum.update(header)

        while true {
            guard try reader.peekByte() != 0 else { break }
            let offset = reader.offset
            switch SnapshotRecord.decode(reader.available) {
            case .record(let record, let consumed):
                do {
                    if try store.restore(record, unixNow: unixNow) { loaded.items += 1 } else { loaded.expired += 1 }
                } catch {
                    throw .doesNotFit(path: path, loaded: loaded.items)
                }
                maxCAS = max(maxCAS, record.cas)
                checksum.update(try reader.take(consumed))
            case .needs(let count):
                try reader.fill(count)
            case .invalid(let reason):
                throw .corrupt(path: path, atByte: offset, reason: reason)
            }
        }
        let trailerStart = reader.offset
        let trailer = try reader.take(trailerSize)
        guard Array(trailer.prefix(8)) == endMagic else {
            throw .corrupt(path: path, atByte: trailerStart, reason: "no end marker after the items")
        }
        checksum.update(trailer.prefix(16))
        guard LittleEndian.read(trailer, at: 16, as: UInt32.self) == checksum.value else { throw .checksumMismatch(path: path) }
        let count = LittleEndian.read(trailer, at: 8, as: UInt64.self)
        guard count == UInt64(loaded.items + loaded.expired) else {
            throw .corrupt(path: path, atByte: trailerStart, reason: "\(count) items announced, \(loaded.items + loaded.expired) found")
        }
        guard reader.offset == reader.size else {
            throw .corrupt(path: path, atByte: reader.offset, reason: "bytes after the trailer")
        }
        store.finishRestore(maxCAS: maxCAS)
        loaded.bytes = reader.size
        return loaded
    }

    /// Reads a file forward through a buffer, never past what it holds: a length that
    /// runs past the end is a truncated file, found before any allocation for it.
    private struct Reader {
        let fd: Int32
        let path: String
        private(set) var size = 0
        /// Bytes of the file consumed.
        private(set) var offset = 0
        private var buffer: [UInt8] = []
        private var start = 0

        init(fd: Int32, path: String) {
            self.fd = fd
            self.path = path
        }

        mutating func open() throws(SnapshotError) {
            do throws(SystemError) {
                size = try Descriptor.size(fd)
            } catch {
                throw .cannotRead(path: path, error)
            }
        }

        var available: ArraySlice<UInt8> { buffer[start...] }

        /// Makes at least `count` bytes available.
        mutating func fill(_ count: Int) throws(SnapshotError) {
            guard offset + count <= size else { throw .truncated(path: path, atByte: size) }
            if start > 0 && start >= buffer.count / 2 {
                buffer.removeFirst(start)
                start = 0
            }
            while buffer.count - start < count {
                let unread = size - (offset + buffer.count - start)
                let want = min(max(count - (buffer.count - start), 1 << 20), max(unread, 1))
                let n: Int
                do throws(SystemError) {
                    n = try Descriptor.read(fd, appendingTo: &buffer, count: want)
                } catch {
                    throw .cannotRead(path: path, error)
                }
                if n == 0 { throw .truncated(path: path, atByte: offset + buffer.count - start) }
            }
        }

        mutating func peekByte() throws(SnapshotError) -> UInt8 {
            try fill(1)
            return buffer[start]
        }

        /// The next `count` bytes, consumed.
        mutating func take(_ count: Int) throws(SnapshotError) -> ArraySlice<UInt8> {
            try fill(count)
            let taken = buffer[start..<(start + count)]
            start += count
            offset += count
            return taken
        }
    }
}
