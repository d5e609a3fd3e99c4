/// What `MemcachedProcessor.process` did with the bytes it was given.
package enum MemcachedStep: Equatable {
    /// No complete request yet: a partial line, or a data block still arriving. Nothing
    /// was consumed; call again with more bytes.
    case incomplete
    /// One request ran; its reply (if any) is in the output.
    case ran(consumed: Int)
    /// `quit`: close the connection.
    case quit
    /// A storage command whose data block is too large was refused: `consumed` bytes are
    /// done, and the next `remaining` bytes to arrive are its data, to be dropped unread.
    case discard(consumed: Int, remaining: Int)
    /// A line longer than the limit, with no end in sight: its error is in the output;
    /// close after sending it.
    case lineTooLong
}
