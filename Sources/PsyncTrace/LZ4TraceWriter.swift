import Foundation

/// Writes a trace file: LZ4 frames (the standard frame format, readable by `lz4 -dc`) whose
/// content is JSON Lines (`LZ4FrameEncoder` says how records become frames). The producer
/// records the header first (`TraceReader` insists).
///
/// By default the encoding (JSON, compression, file writes) runs on a thread of its own: the
/// recording thread only appends events to a batch and hands full batches over, so tracing
/// slows a simulation far less than encoding inline would. The frames, and so the file's bytes,
/// are the same either way. The hand-over queue is bounded: a producer faster than the encoder
/// waits. Foundation is used for the thread and its condition variable only.
public final class LZ4TraceWriter: TraceSink, @unchecked Sendable {
    public struct Options: Sendable {
        public var maxFrameBytes = 256 * 1024
        public var maxFrameRecords = 16_384
        public var maxFrameNanoseconds: UInt64 = 1_000_000_000
        /// Encode on a background thread (true) or on the recording thread.
        public var background = true
        /// Events handed to the encoder at a time, and batches that may wait for it.
        public var handOffEvents = 4096
        public var queuedBatchLimit = 16
        public init() {}
    }

    public struct Statistics: Sendable, Equatable {
        public var records = 0
        public var uncompressedBytes = 0
        public var compressedBytes = 0
        public var frames = 0
    }

    public let options: Options
    private let encoder: LZ4FrameEncoder
    private var pending: [TraceEvent] = []
    private var closed = false

    // Shared with the encoding thread, guarded by `condition`.
    private let condition = NSCondition()
    private var queue: [Work] = []
    private var handedOff = 0
    private var completed = 0
    private var thread: Thread?

    private enum Work {
        case events([TraceEvent])
        /// End the current frame (a real-time shell's periodic flush, or the header).
        case endFrame
        case finish
    }

    public init(path: String, options: Options = Options()) throws(TraceError) {
        self.options = options
        encoder = try LZ4FrameEncoder(path: path, options: options)
        pending.reserveCapacity(options.handOffEvents)
        if options.background {
            let t = Thread { [unowned self] in self.encodeLoop() }
            t.name = "psync-trace-writer"
            thread = t
            t.start()
        }
    }

    deinit {
        if !closed { try? close() }
    }

    public func record(_ event: TraceEvent) {
        precondition(!closed, "record after close")
        guard options.background else { return encoder.encode(event) }
        pending.append(event)
        if case .header = event.kind { return handOff(.endFrame, wait: true) }
        if pending.count >= options.handOffEvents { handOff(nil, wait: false) }
    }

    /// Ends the current frame now and waits until it is in the file. Real-time shells call this
    /// from a timer, so that a quiet run still ends a frame every second.
    public func flush() throws(TraceError) {
        if options.background { handOff(.endFrame, wait: true) } else { encoder.writeFrame() }
        if let failure = encoder.failure { throw failure }
    }

    /// Encodes what is left, closes the file, and reports the first write error, if any.
    public func close() throws(TraceError) {
        guard !closed else { return }
        if options.background { handOff(.finish, wait: true) }
        closed = true
        try encoder.close()
    }

    /// Records, frames and bytes written; complete after `close`.
    public var statistics: Statistics { encoder.statistics }
    public var recordsWritten: Int { statistics.records }
    public var compressedBytes: Int { statistics.compressedBytes }
    public var uncompressedBytes: Int { statistics.uncompressedBytes }
    public var frames: Int { statistics.frames }

    private func handOff(_ marker: Work?, wait: Bool) {
        condition.lock()
        while queue.count >= options.queuedBatchLimit { condition.wait() }
        if !pending.isEmpty {
            queue.append(.events(pending))
            handedOff += 1
            pending.removeAll(keepingCapacity: true)
        }
        if let marker {
            queue.append(marker)
            handedOff += 1
        }
        condition.broadcast()
        if wait { while completed < handedOff { condition.wait() } }
        condition.unlock()
    }

    private func encodeLoop() {
        while true {
            condition.lock()
            while queue.isEmpty { condition.wait() }
            let work = queue.removeFirst()
            condition.broadcast()
            condition.unlock()
            switch work {
            case .events(let events): for e in events { encoder.encode(e) }
            case .endFrame: encoder.writeFrame()
            case .finish: encoder.writeFrame()
            }
            condition.lock()
            completed += 1
            condition.broadcast()
            condition.unlock()
            if case .finish = work { return }
        }
    }
}
