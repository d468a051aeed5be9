import Psync

/// Quorum stability (Section 3.4: "a quorum_stable routine that determines if a majority of
/// processes have received and responded to a particular message"): a message is delivered once
/// it is n-stable (Section 3.2.3) with n the quorum, i.e. once n participants, the sender
/// included, have it in their context, so a copy survives n-1 host failures.
///
/// Messages are taken in the order the layer below gives (for the lowest filter, the receive
/// order) and each is delivered when it reaches the quorum; participants with nothing to say
/// acknowledge (Figure 8's rule), so that every message eventually does. That keeps causal order: anything
/// that follows m follows m's predecessors, so a predecessor is never less stable than m.
public final class QuorumFilter: OrderingFilter {
    public let name = "quorum"
    /// The quorum size; nil means a majority of the participants.
    public let quorum: Int?
    public var guarantees: Set<FilterGuarantee> { [.causal, .quorum(quorum), .complete] }
    private var pending: [FilterMessage] = []
    private var acknowledgement = Acknowledgement()

    /// A quorum larger than the conversation is never reached: nothing would be delivered.
    public func problem(below: [OrderingFilter], participants: Int) -> String? {
        guard let quorum, quorum > participants else { return nil }
        return "quorum:\(quorum) needs at least \(quorum) participants; the conversation has \(participants)"
    }

    public init(quorum: Int? = nil) {
        precondition(quorum.map { $0 >= 1 } ?? true, "a quorum counts at least the sender")
        self.quorum = quorum
    }

    /// The quorum for `participants` participants: `quorum`, or a majority.
    public static func size(_ quorum: Int?, participants: Int) -> Int { quorum ?? participants / 2 + 1 }

    public func input(_ message: FilterMessage, _ context: FilterContext) {
        if !message.isControl(of: name) { pending.append(message) }
    }

    /// Quorum stability needs participants to respond: Figure 8's acknowledgement rule.
    public func batchEnded(received: [FilterMessage], sentSomething: Bool, _ context: FilterContext) {
        acknowledgement.afterBatch(received: received, sentSomething: sentSomething, filter: self, context)
    }

    public func timerFired(_ token: Int, _ context: FilterContext) {
        if token == Acknowledgement.timerToken { acknowledgement.timerFired(filter: self, context) }
    }

    /// Section 3.3: asks only about stability, which needs no node, so Θ may reclaim anything.
    public func releasedHistory(_ context: FilterContext) -> [UInt32] { context.viewFrontier }

    public func update(_ context: FilterContext) {
        let k = Self.size(quorum, participants: context.participants.count)
        var waiting: [FilterMessage] = []
        for m in pending {
            if context.nStable(m.id) >= k { context.deliver(m, from: self) } else { waiting.append(m) }
        }
        pending = waiting
    }
}
