import CarriageStore

extension Store {
    /// The store's lines of `STATS`, in order, named as both protocols' `STATS` and the
    /// metrics endpoint name them.
    package var statLines: [(name: String, value: Int)] {
        let totals = statistics
        return [
            ("keys", totals.keys), ("bytes_stored", totals.bytesStored),
            ("memory_used", memoryUsed), ("memory_limit", maxMemoryBytes),
            ("evictions", totals.evictions), ("expired", totals.expired),
            ("get_hits", totals.hits), ("get_misses", totals.misses),
        ]
    }
}
