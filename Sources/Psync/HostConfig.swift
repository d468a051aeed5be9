/// Tunables of one host's engine: timers of the recovery protocol (Sections 3.2.1, 3.2.3) and
/// the memory bounds of Section 3.3. All durations are nanoseconds of the shell's clock.
///
/// `HostConfig()` is the default recovery policy with its tunables; `HostConfig(recovery:
/// .paper)` sets the paper's literal rule with the paper's counts (one request to the source,
/// one broadcast, fixed timeouts).
public struct HostConfig: Sendable, Hashable, Codable {
    /// How lost messages are recovered (Sections 3.2.1-3.2.3).
    public var recovery: RecoveryPolicy = .gaps
    /// How long a message waits in the holding queue before its missing predecessors are asked
    /// for. Zero asks at once; a little more than the network's reordering spread avoids asking
    /// for messages that are merely late.
    public var holdTimeoutNanoseconds: UInt64 = 10_000_000
    /// How long to wait for an answer to a retransmission request before asking again. Under
    /// `.gaps` this is the first wait; each further request doubles it, up to
    /// `retransmitTimeoutMaxNanoseconds`, plus up to a quarter of seeded jitter.
    public var retransmitTimeoutNanoseconds: UInt64 = 40_000_000
    /// The longest wait between two requests for the same gap, and between two digests (`.gaps`).
    public var retransmitTimeoutMaxNanoseconds: UInt64 = 320_000_000
    /// Requests sent to the host a held message came from before asking elsewhere
    /// (`.paper`: 1, "guaranteed to have m'", Section 3.2.1).
    public var sourceRequestAttempts = 2
    /// Requests sent to one other member, preferably one known to hold the missing message,
    /// before broadcasting (`.gaps` only).
    public var memberRequestAttempts = 1
    /// Broadcast requests before the held message is discarded (`.paper`: 1, Section 3.2.3).
    public var broadcastRequestAttempts = 5
    /// How long an image must be quiet before it sends a digest (`.gaps` tail recovery).
    public var digestQuietNanoseconds: UInt64 = 80_000_000
    /// Digests a peer may leave unanswered before a host stops sending it digests (`.gaps`):
    /// it is suspected of having failed until any packet of its arrives.
    public var digestAttempts = 6
    /// At most this many messages answer one retransmission request; a cut answer flags its
    /// last message (`answerCut`) so that the requester asks again at once.
    public var retransmitBatchLimit = 256
    /// Section 3.3: "only a fixed number of out-of-order messages are saved in each
    /// conversation's holding queue; additional messages are discarded".
    public var holdingQueueLimit = 1024
    /// Section 3.3: "only a fixed number of pending conversations are allowed to queue for any
    /// single process".
    public var pendingConversationLimit = 16
    /// Section 3.3: free a message's buffer as soon as every host is known to hold it and every
    /// local participant has received it ("a host cannot be asked to retransmit a message that
    /// is stable"). Off, every payload is kept (the baseline of `psync bench memory`). With a
    /// `StableStorage` on the host, messages are handed to it first.
    public var reclaimsPayloads = true
    /// Section 3.3's threshold Θ: participants may query only the last `retainedNodes` messages;
    /// older nodes are reclaimed once they are stable in the image (every participant sent
    /// something after them), collected, and below what the filters above still query. nil
    /// keeps every node (unless `Host.freeNode` releases some).
    public var retainedNodes: Int?
    /// Section 3.3 flow control: how many messages a conversation's image may hold that are
    /// not yet settled (held by every host not masked out, and received by the open local
    /// participants). Arrivals past it are discarded (and recovered later, Section 3.2). A
    /// host's own sends block (`PsyncError.wouldBlock`) at its share of it, the limit divided
    /// by the conversation's hosts: messages that some host still lacks are then at most the
    /// limit, so an image that is full can always drain and no cycle of full buffers can
    /// deadlock. It drains by what hosts learn of each other: under `.gaps` from digests (a
    /// blocked host asks at once); under `.paper` only from the messages that arrive, so there
    /// a conversation whose other participants never send blocks for good. nil is unbounded.
    public var bufferLimit: Int?
    /// Data packets for conversations whose SC has not arrived, kept until it does (Section 3.2.1:
    /// they are answered with a request for the root).
    public var orphanPacketLimit = 64
    /// Whether the engine reports `EngineEvent`s as effects. Off, no event is constructed.
    public var reportsEvents = true
    /// Bounds enforced when decoding packets given as bytes.
    public var wireLimits = WireCodec.Limits()

    public init(recovery: RecoveryPolicy = .gaps) {
        self.recovery = recovery
        if recovery == .paper {
            sourceRequestAttempts = 1
            memberRequestAttempts = 0
            broadcastRequestAttempts = 1
            retransmitTimeoutMaxNanoseconds = retransmitTimeoutNanoseconds
        }
    }

    /// Requests for one gap before its held messages are discarded (`.gaps`).
    var requestAttempts: Int { sourceRequestAttempts + memberRequestAttempts + broadcastRequestAttempts }
}

extension HostConfig {
    enum CodingKeys: String, CodingKey {
        case recovery, holdTimeoutNanoseconds, retransmitTimeoutNanoseconds, retransmitTimeoutMaxNanoseconds
        case sourceRequestAttempts, memberRequestAttempts, broadcastRequestAttempts, digestQuietNanoseconds, digestAttempts
        case retransmitBatchLimit, holdingQueueLimit, pendingConversationLimit, reclaimsPayloads, retainedNodes, bufferLimit
        case orphanPacketLimit, reportsEvents, wireLimits
    }

    /// Decodes a configuration written by any version: a setting that is absent takes the value
    /// the run that wrote it had. Traces name their configuration, and replay re-runs it, so a
    /// trace written before Section 3.3 (no `reclaimsPayloads`) kept every payload.
    public init(from decoder: any Decoder) throws {
        let c = try decoder.container(keyedBy: CodingKeys.self)
        self.init(recovery: try c.decodeIfPresent(RecoveryPolicy.self, forKey: .recovery) ?? .gaps)
        func read<T: Decodable>(_ key: CodingKeys, _ field: inout T) throws {
            if let value = try c.decodeIfPresent(T.self, forKey: key) { field = value }
        }
        try read(.holdTimeoutNanoseconds, &holdTimeoutNanoseconds)
        try read(.retransmitTimeoutNanoseconds, &retransmitTimeoutNanoseconds)
        try read(.retransmitTimeoutMaxNanoseconds, &retransmitTimeoutMaxNanoseconds)
        try read(.sourceRequestAttempts, &sourceRequestAttempts)
        try read(.memberRequestAttempts, &memberRequestAttempts)
        try read(.broadcastRequestAttempts, &broadcastRequestAttempts)
        try read(.digestQuietNanoseconds, &digestQuietNanoseconds)
        try read(.digestAttempts, &digestAttempts)
        try read(.retransmitBatchLimit, &retransmitBatchLimit)
        try read(.holdingQueueLimit, &holdingQueueLimit)
        try read(.pendingConversationLimit, &pendingConversationLimit)
        reclaimsPayloads = try c.decodeIfPresent(Bool.self, forKey: .reclaimsPayloads) ?? false
        retainedNodes = try c.decodeIfPresent(Int.self, forKey: .retainedNodes)
        bufferLimit = try c.decodeIfPresent(Int.self, forKey: .bufferLimit)
        try read(.orphanPacketLimit, &orphanPacketLimit)
        try read(.reportsEvents, &reportsEvents)
        try read(.wireLimits, &wireLimits)
    }
}
