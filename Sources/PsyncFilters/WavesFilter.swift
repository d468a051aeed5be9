import Psync
import PsyncTrace

/// Total order by waves: the ordered broadcast of Section 4.2 (Figure 8).
///
/// The view is split into a committed part and an uncommitted part. A wave is the set of roots
/// of the uncommitted part: messages sent "at the same logical time". Because "a single stable
/// message in a given wave implies that all possible members of the wave are contained in the
/// participant's view", the wave is committed as soon as one of its messages is stable, sorted
/// deterministically (by sender position), and delivered; the next wave follows. Every
/// participant runs the same sort on the same waves, so all deliver the same sequence. Local
/// messages are included; ACKs (Figure 8) are ordered but not delivered.
///
/// The committed part is down-closed and a sender's messages form a chain, so it is one number
/// per sender, and a wave has at most one message per sender: (s, committed[s] + 1) when that
/// message is in the view with all its predecessors committed. Finding a wave is O(participants
/// x in-degree). Stability is over `context.agreed`, so a membership filter above can remove a
/// failed participant (Section 3.2.4); and a wave is formed of the messages the membership
/// filter admits (`FilterContext.admission`): a message of a removed participant past its
/// removal's cut is skipped (counted as committed, never delivered), and while that is not yet
/// known of a root of the uncommitted part the wave waits. Without this, a survivor that
/// removed a partitioned participant early commits a wave without a message of it that a
/// survivor still waiting for its acknowledgements puts in the same wave.
public final class WavesFilter: OrderingFilter {
    public let name: String
    public let guarantees: Set<FilterGuarantee> = [.causal, .totalOrder, .complete]
    private var committed: [UInt32] = []
    private var delivery = OrderedDelivery()
    private var acknowledgement: Acknowledgement
    public private(set) var wavesCommitted = 0

    /// `ackDelayNanoseconds`: 0 acknowledges at once, as Figure 8 does; see `Acknowledgement`.
    public init(name: String = "waves", ackDelayNanoseconds: UInt64 = 0) {
        self.name = name
        acknowledgement = Acknowledgement(delayNanoseconds: ackDelayNanoseconds)
    }

    public func start(_ context: FilterContext) {
        committed = Array(repeating: 0, count: context.participants.count)
    }

    public func viewGrew(_ message: FilterMessage, _ context: FilterContext) { delivery.viewGrew(message) }

    public func input(_ message: FilterMessage, _ context: FilterContext) { delivery.input(message) }

    /// Section 3.3: waves query the predecessors of uncommitted messages only.
    public func releasedHistory(_ context: FilterContext) -> [UInt32] { committed }

    public func update(_ context: FilterContext) {
        while let wave = currentWave(context), !wave.isEmpty, let trigger = wave.first(where: { context.isAgreedStable($0) }) {
            wavesCommitted += 1
            for m in wave { committed[m.senderIndex] = m.sequence }
            context.record("wave", from: self, [("wave", .uint(UInt64(wavesCommitted))),
                                                ("mids", .array(wave.map { .string($0.description) })),
                                                ("stable", .string(trigger.description))])
            for m in wave { delivery.enqueue(m) }
        }
        delivery.deliverReady(from: self, context)
    }

    public func batchEnded(received: [FilterMessage], sentSomething: Bool, _ context: FilterContext) {
        acknowledgement.afterBatch(received: received, sentSomething: sentSomething, filter: self, context)
    }

    public func timerFired(_ token: Int, _ context: FilterContext) {
        if token == Acknowledgement.timerToken { acknowledgement.timerFired(filter: self, context) }
    }

    /// The roots of the uncommitted part of the view, sorted by sender; nil when there is no
    /// wave to commit: none, or one whose membership is not yet decided (`Admission.pending`).
    func currentWave(_ context: FilterContext) -> [MessageID]? {
        // Excluded messages (a suffix of their sender's chain) that are roots are skipped first,
        // until none is left, so that which messages are roots does not depend on when each
        // came; one that is not a root waits for its predecessors, as a delivered one would.
        var skipped = true
        while skipped {
            skipped = false
            for s in committed.indices {
                let m = MessageID(sender: s, sequence: committed[s] + 1)
                if isRoot(m, context), context.admits(m) == .excluded {
                    committed[s] = m.sequence
                    delivery.forget(m)
                    skipped = true
                }
            }
        }
        var wave: [MessageID] = []
        for s in committed.indices {
            let m = MessageID(sender: s, sequence: committed[s] + 1)
            if isRoot(m, context) {
                // A message the wave will not deliver (an ACK) need not wait: a wave with it and
                // the same wave without it deliver the same (and a last ACK, which no one ever
                // follows, would never be vouched for).
                if context.admits(m) == .pending && !delivery.skips(m, by: self, context) { return nil }
                wave.append(m)
            }
        }
        return wave
    }

    /// In the view, uncommitted, with every predecessor committed.
    private func isRoot(_ m: MessageID, _ context: FilterContext) -> Bool {
        context.contains(m) && context.prev(m).allSatisfy { $0.sequence <= committed[$0.senderIndex] }
    }
}
