import Glibc

extension WorkerPool {
    /// How long jobs waited in the queue and how long they ran, as histograms (when the
    /// pool was made with `measuresTimings`). Buckets double from 1 µs to about 8.4 s;
    /// the last holds everything longer.
    public struct Timings: Sendable, Equatable {
        /// Upper bounds of the buckets but the last, in seconds: 1 µs, 2 µs, 4 µs, ...
        public static let bucketBounds: [Double] = (0..<Histogram.boundCount).map { Double(1 << $0) / 1e6 }

        /// From queuing (by any submit call, or a `run` call's job put in line behind a
        /// full queue) to a worker taking the job.
        public var queueWait = Histogram()
        /// From a worker taking the job to its end.
        public var run = Histogram()
    }

    /// One histogram of durations.
    public struct Histogram: Sendable, Equatable {
        static let boundCount = 24

        /// Durations counted in each bucket (not cumulative); one more than
        /// ``Timings/bucketBounds``.
        public var counts = [Int](repeating: 0, count: Histogram.boundCount + 1)
        /// The sum of every duration counted, in nanoseconds.
        public var sumNanoseconds: UInt64 = 0
        /// Durations counted.
        public var count: Int { counts.reduce(0, +) }

        /// Counts one duration.
        mutating func record(nanoseconds: UInt64) {
            counts[Self.bucket(nanoseconds: nanoseconds)] += 1
            sumNanoseconds &+= nanoseconds
        }

        /// The bucket of a duration: the first whose bound (2^k µs) is at least it.
        static func bucket(nanoseconds: UInt64) -> Int {
            let microseconds = (nanoseconds + 999) / 1000
            guard microseconds > 1 else { return 0 }
            return min(boundCount, UInt64.bitWidth - (microseconds - 1).leadingZeroBitCount)
        }
    }

    /// The histograms so far; nil when the pool was made without `measuresTimings`.
    public var timings: Timings? { queue.timings() }
}

/// Monotonic nanoseconds, for the timings (clock_gettime, a vDSO call: no system call).
@inline(__always)
func monotonicNanoseconds() -> UInt64 {
    var now = timespec()
    clock_gettime(CLOCK_MONOTONIC, &now)
    return UInt64(now.tv_sec) * 1_000_000_000 + UInt64(now.tv_nsec)
}
