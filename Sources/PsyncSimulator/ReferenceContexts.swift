import Psync

/// The reference model's contexts (Section 2): a message is sent in the context of everything
/// its sender's application had sent or received, that is of a prefix of the sender's history
/// (`SimulationResult.histories`). The simulator records only that prefix's length per message,
/// independently of the engine's data structures.
///
/// In a correct run, every history lists each sender's messages in sequence order without a gap
/// (every message is in the context of its sender's previous one), which `Checker.receiveOrder`
/// verifies. A history prefix is then exactly the set { (s, q) : q ≤ c[s] } of its per-sender
/// counts c, so a context is stored as that vector: n counts per message instead of a set.
/// (Where a history is out of sequence order, the vectors misdescribe its prefixes, and the
/// checks that read them may report more than `receiveOrder` does.)
///
/// Building: one walk of each history, O(total history length + n × messages) time;
/// memory: 4n bytes per message plus an index entry.
public struct ReferenceContexts: Sendable {
    public let participants: Int
    /// Where each message's vector starts in `counts`.
    private var offsets: [MessageID: Int] = [:]
    private var counts: [UInt32] = []

    /// `sent[p]` lists participant p's messages in sending order, each with the length of p's
    /// history when it was sent (lengths never decrease along a participant's sends).
    /// `former[p]`: the same of p's lost incarnations (Section 5), oldest first, and each
    /// incarnation's `resent`: its sends the engine suppressed because the message was in the
    /// graph already (a re-execution, or a resumption from a checkpoint). Such a message keeps
    /// the context it was first sent in, where the later history may hold more; a message an
    /// earlier incarnation sent but that reached no one is sent anew, in the new context.
    init(histories: [[MessageID]], sent: [[(message: MessageID, contextLength: Int)]], resent: [Set<MessageID>] = [],
         former: [[Incarnation]] = []) {
        participants = histories.count
        offsets.reserveCapacity(sent.reduce(0) { $0 + $1.count })
        for p in histories.indices {
            for incarnation in (p < former.count ? former[p] : []) { record(incarnation) }
            record(Incarnation(history: histories[p], sends: sent[p], resent: p < resent.count ? resent[p] : []))
        }
    }

    /// What one incarnation of a participant's application recorded.
    struct Incarnation {
        var history: [MessageID]
        var sends: [(message: MessageID, contextLength: Int)]
        var resent: Set<MessageID>
    }

    private mutating func record(_ incarnation: Incarnation) {
        var prefix = [UInt32](repeating: 0, count: participants)
        var walked = 0
        for (m, length) in incarnation.sends {
            precondition(length >= walked, "context lengths go back in time")
            while walked < min(length, incarnation.history.count) {
                prefix[incarnation.history[walked].senderIndex] += 1
                walked += 1
            }
            guard offsets[m] == nil || !incarnation.resent.contains(m) else { continue }
            offsets[m] = counts.count
            counts += prefix
        }
    }

    /// The number of messages with a recorded context.
    public var count: Int { offsets.count }

    /// m's context as per-sender counts: it holds (s, q) for every q ≤ vector[s] (indices start
    /// at the slice's `startIndex`; use `vector[vector.startIndex + s]`, or `contains`). nil if
    /// nobody sent m, as far as the model knows. O(1).
    public func vector(of m: MessageID) -> ArraySlice<UInt32>? {
        offsets[m].map { counts[$0..<$0 + participants] }
    }

    /// Whether x is in m's context; false if m is unknown. O(1).
    public func contains(_ x: MessageID, in m: MessageID) -> Bool {
        guard let base = offsets[m], x.senderIndex < participants else { return false }
        return x.sequence <= counts[base + x.senderIndex]
    }

    /// Adds x, and with it its sender's earlier messages, to m's context, as if m had been sent
    /// after x: for experiments with the checkers (a tampered model they must reject). O(1).
    public mutating func include(_ x: MessageID, inContextOf m: MessageID) {
        guard let base = offsets[m], x.senderIndex < participants else { return }
        counts[base + x.senderIndex] = max(counts[base + x.senderIndex], x.sequence)
    }
}
