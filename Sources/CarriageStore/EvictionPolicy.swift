/// What the store does when a write needs memory that `--max-memory` does not leave.
public enum EvictionPolicy: String, CaseIterable, Sendable {
    /// Refuse the write (`out of memory`); nothing stored is lost.
    case none
    /// Evict the least recently used items of the shard (per slab class) to make room.
    case lru
}
