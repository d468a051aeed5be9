/// A participant's view V_p: the part of the image that p has sent or received (Section 2).
///
/// Because views only grow by receiving the earliest outstanding message or by sending, a view
/// is down-closed, and since each sender's messages form a chain, the whole view is described by
/// one number per sender: `seen[s]`, the highest sequence of s's messages in V_p. Membership is
/// then O(1), and the view's leaves are at most one per sender.
struct View {
    enum State: Equatable {
        /// The SC arrived but the participant has not called `passiveOpen` (Section 2).
        case pending
        case open
    }

    let participant: ParticipantIndex
    var state: State
    var seen: [UInt32]
    /// `leafOf[s]`: whether s's newest message in the view is a leaf of the view.
    var leafOf: [Bool]
    /// Messages of the image not in the view whose predecessors all are: the outstanding
    /// messages that `receive` may return, in the order they became receivable.
    var ready = RingBuffer<ContextGraph.NodeIndex>()
    /// The local definition of P after `maskOut` / `maskIn` (Section 3.2.4).
    var masked: [Bool]
    /// Per sender, the highest sequence already reported stable in this view (kept only when
    /// events are reported; stability is monotone in a sender's sequence).
    var stableReported: [UInt32]
    /// A `waitForMessage` call is pending, with its optional deadline.
    var receiveWaiter: Instant??
    /// A send failed with `wouldBlock`: wake the participant when its host's share frees.
    var sendWaiter = false
    /// Section 3.3's `free_node`: per sender, the prefix of the view the participant released.
    /// nil until the first release: until then the threshold Θ decides alone.
    var released: [UInt32]?
    /// Section 5.1: `restart` with these leaves; the view becomes their down-closure once the
    /// image holds it, and receives nothing before. nil when not restoring.
    var restoring: [MessageID]?
    /// The prefix of the view the filters above no longer query (`Host.retainHistory`): nodes
    /// beyond it are kept whatever Θ says. nil: no filter said anything, Θ decides.
    var retainedBeyond: [UInt32]?

    init(participant: ParticipantIndex, participantCount: Int, state: State) {
        self.participant = participant
        self.state = state
        seen = Array(repeating: 0, count: participantCount)
        leafOf = Array(repeating: false, count: participantCount)
        masked = Array(repeating: false, count: participantCount)
        stableReported = Array(repeating: 0, count: participantCount)
    }

    func contains(_ mid: MessageID) -> Bool {
        mid.senderIndex < seen.count && mid.sequence >= 1 && mid.sequence <= seen[mid.senderIndex]
    }

    /// Extends the view with `mid`, whose predecessors are all in the view. O(in-degree).
    mutating func extend(with mid: MessageID, predecessors: [MessageID]) {
        for p in predecessors { unmarkLeaf(p) }
        markNewest(mid)
    }

    /// Extends the view with the message at node `n` of `graph`. O(in-degree).
    mutating func extend(with mid: MessageID, predecessorsOf n: ContextGraph.NodeIndex, in graph: ContextGraph) {
        for p in graph.predecessors(n) { unmarkLeaf(p) }
        markNewest(mid)
    }

    private mutating func unmarkLeaf(_ p: MessageID) {
        if p.sequence == seen[p.senderIndex] { leafOf[p.senderIndex] = false }
    }

    private mutating func markNewest(_ mid: MessageID) {
        seen[mid.senderIndex] = mid.sequence
        leafOf[mid.senderIndex] = true
    }

    var leaves: [MessageID] {
        var out: [MessageID] = []
        for s in 0..<seen.count where leafOf[s] { out.append(MessageID(sender: s, sequence: seen[s])) }
        return out
    }
}
