/// Tunables of one host's engine: timers of the recovery protocol (Sections 3.2.1, 3.2.3) and
/// the memory bounds of Section 3.3. All durations are nanoseconds of the shell's clock.
public struct HostConfig: Sendable, Hashable, Codable {
    /// How long a message waits in the holding queue before a retransmission request is sent.
    /// Zero asks at once; a little more than the network's reordering spread avoids asking for
    /// messages that are merely late.
    public var holdTimeoutNanoseconds: UInt64 = 10_000_000
    /// How long to wait for an answer to a retransmission request before escalating.
    public var retransmitTimeoutNanoseconds: UInt64 = 40_000_000
    /// Requests sent to the host the held message came from before broadcasting (the paper: 1).
    public var sourceRequestAttempts = 1
    /// Broadcast requests before the held message is discarded (the paper: 1).
    public var broadcastRequestAttempts = 1
    /// At most this many messages answer one retransmission request.
    public var retransmitBatchLimit = 256
    /// Section 3.3: "only a fixed number of out-of-order messages are saved in each
    /// conversation's holding queue; additional messages are discarded".
    public var holdingQueueLimit = 1024
    /// Section 3.3: "only a fixed number of pending conversations are allowed to queue for any
    /// single process".
    public var pendingConversationLimit = 16
    /// Data packets for conversations whose SC has not arrived, kept until it does (Section 3.2.1:
    /// they are answered with a request for the root).
    public var orphanPacketLimit = 64
    /// Whether the engine reports `EngineEvent`s as effects. Off, no event is constructed.
    public var reportsEvents = true
    /// Bounds enforced when decoding packets given as bytes.
    public var wireLimits = WireCodec.Limits()

    public init() {}
}
