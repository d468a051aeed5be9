/// Safe delivery: causal order, but each message only once it is stable, i.e. once every
/// participant has it in its context (Section 2), so a participant never acts on a message that
/// another might not have. This is also the worked example of the README's "write your own
/// policy": 30 lines on the `OrderingFilter` API.
public final class StableCausalFilter: OrderingFilter {
    public let name = "stable-causal"
    public let guarantees: Set<FilterGuarantee> = [.causal, .complete]
    private var waiting: [FilterMessage] = []          // input order: causal
    private var acknowledgement = Acknowledgement()

    public init() {}

    public func input(_ message: FilterMessage, _ context: FilterContext) {
        if !message.isControl(of: name) { waiting.append(message) }
    }

    /// Section 3.3: asks only about stability, which needs no node, so Θ may reclaim anything.
    public func releasedHistory(_ context: FilterContext) -> [UInt32] { context.viewFrontier }

    public func update(_ context: FilterContext) {
        // A message is stable only after its predecessors are, so the head goes first.
        while let m = waiting.first, context.isAgreedStable(m.id) {
            waiting.removeFirst()
            context.deliver(m, from: self)
        }
    }

    /// Stability needs every participant to speak after a message: acknowledge (Figure 8).
    public func batchEnded(received: [FilterMessage], sentSomething: Bool, _ context: FilterContext) {
        acknowledgement.afterBatch(received: received, sentSomething: sentSomething, filter: self, context)
    }
}
