import Psync
import PsyncTrace

/// Replicated objects with commutative operations (Section 4.3, Figure 9).
///
/// Every participant manages a copy of an object and applies ("executes") the operations the
/// application messages carry. Operations are of two kinds: alphas, which commute with each
/// other (insert into a set), and betas, which do not (snapshot and clear the set). A total
/// order (Section 4.2) would keep the copies equal but makes every operation wait for its wave
/// to be complete; the point of Section 4.3 is that alphas need not wait:
///
/// - An alpha executes as soon as it is input, unless a beta that precedes it in the context
///   graph has not executed yet; then it executes right after that beta's batch, since every
///   replica must apply it after that beta.
/// - Betas execute in batches: the unexecuted betas none of whose beta ancestors is unexecuted
///   (the next "wave" of betas, an antichain), sorted by message id, once no beta still to come
///   can belong to the batch. The termination condition of Figure 9(c) proves that: every
///   agreed participant's newest message in the view is or follows a member of the batch. A
///   participant's messages form a chain, so everything it sends later follows that member too:
///   no future beta is concurrent with the whole batch.
///
/// The wave rule of Section 4.2 (one stable member: "all future messages sent to the
/// conversation must be in the context of the stable message") needs no test of its own, as it
/// implies the termination condition: if member b is stable over the agreed set, every other
/// agreed participant has a message following b, so its newest message follows b, and b's
/// sender's newest message is b or follows it. The trace tells the two cases apart: a batch is
/// recorded with condition "stable" when a member is stable (the wave rule would have let it go
/// too), and "termination" when Figure 9(c) alone lets it execute, before any member is stable.
///
/// Why replicas end equal: when a replica executes a batch, every message outside its view
/// follows a member of the batch (termination condition). So its view holds every alpha that
/// follows no member; no unexecuted beta precedes those, so it has executed them all already,
/// and it executes after the batch every alpha that follows a member. Every replica thus puts
/// the same alphas before each batch, and executes the same batches in the same order; alphas
/// among themselves may run in any order. That is why the filter promises only `.causal`:
/// delivered sequences differ, final states do not. One condition keeps the argument true when
/// filters below delay their input: a batch waits until every application message in the view
/// has been input (at the bottom of a stack that is always so).
///
/// Participants that fall silent would keep betas from ever becoming stable, so the filter
/// acknowledges as Figure 8 does (`Acknowledgement`). Its ACKs, like the control messages of
/// other filters, are never executed; control messages of filters above are passed up under the
/// same causal rule as alphas. The condition is over `context.agreed`, so a membership filter
/// can drop a failed participant (Section 3.2.4).
public final class CommutativeFilter: OrderingFilter {
    public let name = "commutative"
    public let guarantees: Set<FilterGuarantee> = [.causal]
    public private(set) var batchesExecuted = 0
    private let isCommutative: ([UInt8]) -> Bool
    /// Per sender, the sequence number of its newest message in the view (0: none yet). A
    /// sender's messages enter the view in sequence order.
    private var newest: [UInt32] = []
    /// Application messages in the view that the layer below has not input yet.
    private var awaitingInput: Set<MessageID> = []
    /// Input betas not yet executed.
    private var betas: [FilterMessage] = []
    /// Input alphas and control messages of filters above, in input order (a causal order),
    /// waiting for the unexecuted betas that precede them.
    private var waiting: [FilterMessage] = []

    /// `isCommutative` tells alphas from betas by the application payload.
    public init(isCommutative: @escaping ([UInt8]) -> Bool = CommutativeFilter.isAlphaInWorkload) {
        self.isCommutative = isCommutative
    }

    /// The simulator's `Workload` marks byte 1 of a payload `a` (alpha) or `b` (beta); anything
    /// without a `b` there is taken as an alpha.
    public static func isAlphaInWorkload(_ payload: [UInt8]) -> Bool {
        !(payload.count >= 2 && payload[1] == UInt8(ascii: "b"))
    }

    public func start(_ context: FilterContext) {
        newest = Array(repeating: 0, count: context.participants.count)
    }

    public func viewGrew(_ message: FilterMessage, _ context: FilterContext) {
        newest[message.id.senderIndex] = max(newest[message.id.senderIndex], message.id.sequence)
        if message.isApplication { awaitingInput.insert(message.id) }
    }

    public func input(_ message: FilterMessage, _ context: FilterContext) {
        awaitingInput.remove(message.id)
        // The stack inputs a filter's own control messages too: here, only ACKs.
        guard !message.isControl(of: name) else { return }
        if case .application(let payload) = message.content, !isCommutative(payload) {
            betas.append(message)
        } else {
            waiting.append(message)
        }
    }

    public func update(_ context: FilterContext) {
        releaseWaiting(context)
        while let batch = nextBatch(context) {
            batchesExecuted += 1
            let condition = batch.contains { context.isAgreedStable($0.id) } ? "stable" : "termination"
            context.record("batch", from: self, [("batch", .uint(UInt64(batchesExecuted))),
                                                 ("mids", .array(batch.map { .string($0.id.description) })),
                                                 ("condition", .string(condition))])
            for b in batch { execute(b, kind: "beta", context) }
            let done = Set(batch.map(\.id))
            betas.removeAll { done.contains($0.id) }
            releaseWaiting(context)
        }
    }

    /// Figure 8's ACK, so that betas become stable when participants fall silent.
    public func batchEnded(received: [FilterMessage], sentSomething: Bool, _ context: FilterContext) {
        Acknowledgement.afterBatch(received: received, sentSomething: sentSomething, filter: self, context)
    }

    /// Delivers, in input order, the waiting messages that no unexecuted beta precedes. A message
    /// kept back keeps back those that follow it (the beta precedes them too), so the order
    /// stays causal.
    private func releaseWaiting(_ context: FilterContext) {
        var blocked: [FilterMessage] = []
        for m in waiting {
            if betas.contains(where: { context.precedes($0.id, m.id) }) {
                blocked.append(m)
            } else if m.isApplication {
                execute(m, kind: "alpha", context)
            } else {
                context.deliver(m, from: self)
            }
        }
        waiting = blocked
    }

    /// The next batch of betas, sorted by id, once it may execute; nil while there is none or
    /// it may still grow.
    private func nextBatch(_ context: FilterContext) -> [FilterMessage]? {
        guard awaitingInput.isEmpty else { return nil }
        let batch = betas.filter { b in !betas.contains { context.precedes($0.id, b.id) } }.sorted { $0.id < $1.id }
        return !batch.isEmpty && terminates(batch.map(\.id), context) ? batch : nil
    }

    /// Figure 9(c): every agreed participant's newest message in the view is or follows a beta
    /// of the batch.
    private func terminates(_ batch: [MessageID], _ context: FilterContext) -> Bool {
        context.agreed.indices.allSatisfy { r in
            guard context.agreed[r] else { return true }
            guard newest[r] > 0 else { return false }
            let m = MessageID(sender: r, sequence: newest[r])
            return batch.contains { $0 == m || context.precedes($0, m) }
        }
    }

    private func execute(_ m: FilterMessage, kind: String, _ context: FilterContext) {
        context.record("execute", from: self, [("mid", .string(m.id.description)), ("op", .string(kind))])
        context.deliver(m, from: self)
    }
}
