extension WorkerPool {
    /// A consistent snapshot of a pool's counters, all read under the queue's lock at once.
    public struct Stats: Sendable, Equatable {
        /// The number of worker threads.
        public var workers: Int
        /// Workers running a job at the moment of the snapshot.
        public var busy: Int
        /// Jobs waiting in the queue.
        public var queued: Int
        /// Queue slots allocated now: the ring starts small and doubles on demand up to
        /// ``WorkerPool/queueCapacity``, 16 bytes a slot.
        public var queueSlots: Int
        /// Threads blocked in ``WorkerPool/submit(_:)`` (or a batch submit) until a slot
        /// frees.
        public var waitingSubmitters: Int
        /// Jobs that ran to their end, whether they returned or threw.
        public var completed: Int
        /// Jobs that threw an error (a subset of `completed`).
        public var failed: Int
        /// `trySubmit` calls that returned `false` (queue full or pool shut down).
        public var rejected: Int
        /// Queued jobs dropped, unrun, by ``WorkerPool/ShutdownMode/discardPending``.
        public var discarded: Int
        /// Jobs completed by each worker; the index is the worker's index.
        /// Its sum is always `completed`.
        public var completedPerWorker: [Int]
    }
}
