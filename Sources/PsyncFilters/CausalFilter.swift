/// Causal order: messages in Psync's receive order, which respects the context relation
/// (Section 2: "m is received before m' if m precedes m'"). The participant's own messages are
/// delivered when sent. This is also the smallest complete filter: copy it to start a new one.
public final class CausalFilter: OrderingFilter {
    public let name = "causal"
    public let guarantees: Set<FilterGuarantee> = [.causal, .complete]
    private var ready: [FilterMessage] = []

    public init() {}

    public func input(_ message: FilterMessage, _ context: FilterContext) { ready.append(message) }

    /// Section 3.3: queries no node, so Θ may reclaim anything.
    public func releasedHistory(_ context: FilterContext) -> [UInt32] { context.viewFrontier }

    public func update(_ context: FilterContext) {
        for m in ready { context.deliver(m, from: self) }
        ready.removeAll()
    }
}
