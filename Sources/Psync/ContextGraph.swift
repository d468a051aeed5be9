/// A host's copy of the context graph G: the nodes of an image I_h and the edges between them
/// (Sections 2 and 3.1.1), with the memory management of Section 3.3.
///
/// Representation, chosen for Section 6.2's requirement that send and receive cost O(participants)
/// independent of the graph's size:
/// - Nodes are numbered in arrival order (`NodeIndex`), which is a topological order.
/// - A message id maps to its node by two array indexings (`nodeOf[sender][sequence - 1]`): a
///   sender's messages always enter an image in sequence order, so each sender's list is dense.
/// - Each node stores a vector clock: for every participant, the highest sequence number of that
///   participant's messages in the node's context (its own sequence for its sender). Because a
///   sender's messages form a chain, this vector *is* the node's down-closure, so
///   `precedes(a, b)` is one comparison and stability needs one comparison per participant.
///   The price is 4 bytes per participant per node.
/// - Predecessors are stored contiguously as message ids (known at insertion; an id outlives
///   its node's reclamation); successors as linked lists in one pool (they grow later).
///
/// Section 3.3's two parts of a node are reclaimed separately:
/// - The *buffer*: `freePayloads(sender:through:)` empties a sender's payloads once they are
///   held everywhere (`ConversationImage+Memory.swift`); `payloadsFreed[s]` says how far.
/// - The *graph entry*: `compact(below:)` drops a prefix of the arrival order (a down-closed
///   set, so every remaining node's successors remain). Node indices stay absolute: `base` is
///   the first live node, and each array is addressed relative to it. A reclaimed sender's
///   newest clock is kept (`compactedClock`), because a view's and the image's newest message
///   of a quiet sender may be a reclaimed one and stability reads its clock.
struct ContextGraph {
    typealias NodeIndex = Int32

    let participantCount: Int
    /// The first live node: nodes `0..<base` have been reclaimed.
    private(set) var base: NodeIndex = 0
    /// Per live node (index `n - base`): id, predecessor range, successor list head, payload.
    private var mids: [MessageID] = []
    private var predOffsets: [Int] = [0]
    private var predBase = 0
    private var predPool: [MessageID] = []
    private var succHead: [Int] = []
    private var edgeBase = 0
    private var edgeTarget: [NodeIndex] = []
    private var edgeNext: [Int] = []
    private var clockPool: [UInt32] = []
    private var payloads: [[UInt8]] = []
    /// Per sender: node indices of its live messages; `reclaimedOf[s]` of its messages
    /// (sequences 1...reclaimedOf[s]) have no node any more.
    private var nodeOf: [[NodeIndex]]
    private(set) var reclaimedOf: [UInt32]
    /// Per sender: the clock of its newest reclaimed message.
    private var compactedClock: [[UInt32]]
    /// Per sender: its messages 1...payloadsFreed[s] have had their buffers freed.
    private(set) var payloadsFreed: [UInt32]
    /// Bytes of the payloads the image holds (freed ones excluded).
    private(set) var payloadBytes = 0
    /// `leafOf[s]`: whether the newest message of sender `s` in the image is a leaf of the image
    /// (only a sender's newest message can be a leaf: its older ones precede it).
    private var leafOf: [Bool]

    init(participantCount: Int) {
        self.participantCount = participantCount
        nodeOf = Array(repeating: [], count: participantCount)
        leafOf = Array(repeating: false, count: participantCount)
        reclaimedOf = Array(repeating: 0, count: participantCount)
        payloadsFreed = Array(repeating: 0, count: participantCount)
        compactedClock = Array(repeating: Array(repeating: 0, count: participantCount), count: participantCount)
    }

    /// How many messages the image holds, reclaimed ones included (the next node's index).
    var count: Int { Int(base) + mids.count }
    /// How many nodes are live (not reclaimed).
    var liveCount: Int { mids.count }

    /// How many of sender `s`'s messages the image holds (they are sequences 1...count).
    func frontier(_ sender: ParticipantIndex) -> UInt32 { reclaimedOf[sender] + UInt32(nodeOf[sender].count) }

    /// Whether the image holds `mid`, reclaimed or not.
    func contains(_ mid: MessageID) -> Bool {
        mid.senderIndex < participantCount && mid.sequence >= 1 && mid.sequence <= frontier(mid.senderIndex)
    }

    /// Whether `mid`'s graph entry has been reclaimed (Section 3.3's `free_node` or Θ).
    func isReclaimed(_ mid: MessageID) -> Bool {
        mid.senderIndex < participantCount && mid.sequence >= 1 && mid.sequence <= reclaimedOf[mid.senderIndex]
    }

    /// Whether `mid`'s buffer has been freed (it is held everywhere, Section 3.3).
    func isPayloadFreed(_ mid: MessageID) -> Bool {
        mid.senderIndex < participantCount && mid.sequence >= 1 && mid.sequence <= payloadsFreed[mid.senderIndex]
    }

    /// The live node of `mid`: nil if the image lacks it or it has been reclaimed.
    func index(of mid: MessageID) -> NodeIndex? {
        contains(mid) && !isReclaimed(mid) ? node(mid.senderIndex, mid.sequence) : nil
    }

    /// Index of a live message known to be present.
    func node(_ sender: ParticipantIndex, _ sequence: UInt32) -> NodeIndex {
        nodeOf[sender][Int(sequence - reclaimedOf[sender]) - 1]
    }

    func mid(_ n: NodeIndex) -> MessageID { mids[Int(n - base)] }

    /// The payload of a live node: empty once freed (check `isPayloadFreed` first).
    func payload(_ n: NodeIndex) -> [UInt8] { payloads[Int(n - base)] }

    /// Component `q` of node `n`'s vector clock: how many of q's messages precede or equal n.
    func clock(_ n: NodeIndex, _ q: ParticipantIndex) -> UInt32 {
        clockPool[Int(n - base) * participantCount + q]
    }

    /// Component `q` of the clock of sender `s`'s message `sequence`, which may be reclaimed if
    /// it is s's newest reclaimed message (a view's or the image's newest message of s never
    /// lies below that: only messages every local view received are reclaimed). Zero for
    /// `sequence` 0 and for older reclaimed messages: a lower bound, safe for stability.
    func clock(sender s: ParticipantIndex, _ sequence: UInt32, _ q: ParticipantIndex) -> UInt32 {
        if sequence > reclaimedOf[s] { return clock(node(s, sequence), q) }
        return sequence > 0 && sequence == reclaimedOf[s] ? compactedClock[s][q] : 0
    }

    /// The clock of sender `s`'s message `sequence` as a vector (see `clock(sender:_:_:)`).
    func clockVector(sender s: ParticipantIndex, _ sequence: UInt32) -> [UInt32] {
        if sequence > reclaimedOf[s] { return clockVector(node(s, sequence)) }
        return sequence > 0 && sequence == reclaimedOf[s] ? compactedClock[s] : Array(repeating: 0, count: participantCount)
    }

    /// Whether `a` precedes `b` (a path from a to b): O(1).
    func precedes(_ a: MessageID, _ b: NodeIndex) -> Bool {
        a != mid(b) && clock(b, a.senderIndex) >= a.sequence
    }

    /// The immediate predecessors of live node `n`, as ids (they may be reclaimed).
    func predecessors(_ n: NodeIndex) -> ArraySlice<MessageID> {
        let i = Int(n - base)
        return predPool[(predOffsets[i] - predBase)..<(predOffsets[i + 1] - predBase)]
    }

    /// Calls `body` for each immediate successor of live node `n` (O(out-degree)). Successors
    /// come after `n` in arrival order, so they are live.
    func forEachSuccessor(_ n: NodeIndex, _ body: (NodeIndex) -> Void) {
        var e = firstSuccessorEdge(n)
        while let (s, next) = successorEdge(e) {
            body(s)
            e = next
        }
    }

    /// Successor iteration without a closure, for callers that mutate while iterating:
    /// `var e = firstSuccessorEdge(n); while let (s, next) = successorEdge(e) { ...; e = next }`.
    func firstSuccessorEdge(_ n: NodeIndex) -> Int { succHead[Int(n - base)] }
    func successorEdge(_ e: Int) -> (NodeIndex, Int)? {
        // Lists run from newer edges to older ones; edges below `edgeBase` led to reclaimed nodes.
        e >= edgeBase ? (edgeTarget[e - edgeBase], edgeNext[e - edgeBase]) : nil
    }

    /// The leaves of the image, at most one per sender (O(participants)).
    var leaves: [MessageID] {
        var out: [MessageID] = []
        for s in 0..<participantCount where leafOf[s] {
            out.append(MessageID(sender: s, sequence: frontier(s)))
        }
        return out
    }

    /// Why a message cannot be attached even though its predecessors are present.
    enum Contradiction: Error, Equatable {
        case wrongSequence(expected: UInt32)
        case notAnAntichain(MessageID, MessageID)
        case noPredecessors
        /// A predecessor's graph entry was reclaimed and its clock is no longer known. A correct
        /// peer cannot send such a message: Section 3.3 reclaims a node once every participant
        /// has sent something after it, so nobody can still name it as an immediate predecessor.
        case reclaimedPredecessor(MessageID)
    }

    /// Checks that `mid` with immediate predecessors `preds` (all present) extends the image as a
    /// transitive reduction: it is the sender's next message, it follows the sender's previous
    /// message, and no predecessor precedes another. O(participants x in-degree).
    func validate(_ mid: MessageID, predecessors preds: [MessageID]) -> Contradiction? {
        let s = mid.senderIndex
        guard mid.sequence == frontier(s) + 1 else { return .wrongSequence(expected: frontier(s) + 1) }
        if mid == .root { return preds.isEmpty ? nil : .noPredecessors }
        guard !preds.isEmpty else { return .noPredecessors }
        var ownChain: UInt32 = 0
        for p in preds {
            if p.sequence < reclaimedOf[p.senderIndex] { return .reclaimedPredecessor(p) }
            ownChain = max(ownChain, clock(sender: p.senderIndex, p.sequence, s))
            for other in preds where other != p && other.sequence <= clock(sender: p.senderIndex, p.sequence, other.senderIndex) {
                return .notAnAntichain(other, p)
            }
        }
        // The sender's previous message must be in the new message's context.
        return ownChain == mid.sequence - 1 ? nil : .wrongSequence(expected: ownChain + 1)
    }

    /// Attaches a validated message. O(participants x in-degree).
    @discardableResult
    mutating func insert(_ mid: MessageID, predecessors preds: [MessageID], payload: [UInt8]) -> NodeIndex {
        let n = NodeIndex(count)
        let start = clockPool.count
        clockPool.append(contentsOf: repeatElement(0, count: participantCount))
        for p in preds {
            predPool.append(p)
            guard let pn = index(of: p) else {
                let clockP = compactedClock[p.senderIndex]
                for q in 0..<participantCount where clockP[q] > clockPool[start + q] { clockPool[start + q] = clockP[q] }
                if p.sequence == frontier(p.senderIndex) { leafOf[p.senderIndex] = false }
                continue
            }
            let slot = Int(pn - base)
            let pstart = slot * participantCount
            for q in 0..<participantCount where clockPool[pstart + q] > clockPool[start + q] {
                clockPool[start + q] = clockPool[pstart + q]
            }
            edgeTarget.append(n)
            edgeNext.append(succHead[slot])
            succHead[slot] = edgeBase + edgeTarget.count - 1
            if p.sequence == frontier(p.senderIndex) { leafOf[p.senderIndex] = false }
        }
        clockPool[start + mid.senderIndex] = mid.sequence
        predOffsets.append(predBase + predPool.count)
        succHead.append(-1)
        mids.append(mid)
        payloads.append(payload)
        payloadBytes += payload.count
        nodeOf[mid.senderIndex].append(n)
        leafOf[mid.senderIndex] = true
        return n
    }

    /// Frees the buffers of sender `s`'s messages up to `sequence` (Section 3.3: "the buffer is
    /// reclaimed as soon as the corresponding node becomes stable"). O(messages freed).
    mutating func freePayloads(sender s: ParticipantIndex, through sequence: UInt32) {
        guard sequence > payloadsFreed[s] else { return }
        for k in (payloadsFreed[s] + 1)...sequence where k > reclaimedOf[s] {
            let i = Int(node(s, k) - base)
            payloadBytes -= payloads[i].count
            payloads[i] = []
        }
        payloadsFreed[s] = sequence
    }

    /// Reclaims the graph entries of nodes `base..<newBase`: a prefix of the arrival order,
    /// hence down-closed. Amortized O(1) per node: callers compact in chunks.
    mutating func compact(below newBase: NodeIndex) {
        guard newBase > base else { return }
        let dropped = Int(newBase - base)
        var newestDropped = [Int](repeating: -1, count: participantCount)
        for i in 0..<dropped { newestDropped[mids[i].senderIndex] = i }
        for (s, i) in newestDropped.enumerated() where i >= 0 {
            reclaimedOf[s] = mids[i].sequence
            payloadsFreed[s] = max(payloadsFreed[s], mids[i].sequence)
            compactedClock[s] = Array(clockPool[i * participantCount..<(i + 1) * participantCount])
        }
        for s in 0..<participantCount {
            let gone = nodeOf[s].prefix { $0 < newBase }.count
            if gone > 0 { nodeOf[s].removeFirst(gone) }
        }
        let newPredBase = predOffsets[dropped]
        predPool.removeFirst(newPredBase - predBase)
        predBase = newPredBase
        predOffsets.removeFirst(dropped)
        let goneEdges = edgeTarget.prefix { $0 < newBase }.count
        edgeTarget.removeFirst(goneEdges)
        edgeNext.removeFirst(goneEdges)
        edgeBase += goneEdges
        mids.removeFirst(dropped)
        succHead.removeFirst(dropped)
        payloadBytes -= payloads[..<dropped].reduce(0) { $0 + $1.count }
        payloads.removeFirst(dropped)
        clockPool.removeFirst(dropped * participantCount)
        base = newBase
    }

    /// The live messages of the image beyond `boundary` and within `limit` (both vectors of
    /// per-sender sequence numbers, that is, down-closed sets), freed buffers included only
    /// `includingFreed`: for each sender s, sequences boundary[s]+1 ... min(limit[s], frontier(s)),
    /// in arrival (topological) order. This is the answer to a retransmission request (Section
    /// 3.2.1): the requester's image is `boundary`, and `limit` is the down-closure of what it
    /// asks for. Freed messages are held by every host (Section 3.3), so they are part of an
    /// answer only where stable storage can give their payloads back to a host that restarted
    /// without its memory (Section 5). O(answer x log answer).
    func messages(after boundary: [UInt32], through limit: [UInt32], includingFreed: Bool) -> [NodeIndex] {
        var out: [NodeIndex] = []
        for s in 0..<participantCount {
            // The boundary comes from the network and may be anything, UInt32.max included.
            let low = max(boundary[s], includingFreed ? reclaimedOf[s] : payloadsFreed[s])
            let high = min(limit[s], frontier(s))
            guard low < high else { continue }
            for k in (low + 1)...high { out.append(node(s, k)) }
        }
        out.sort()
        return out
    }

    /// Node `n`'s vector clock: its down-closure, one sequence number per sender.
    func clockVector(_ n: NodeIndex) -> [UInt32] {
        let i = Int(n - base)
        return Array(clockPool[i * participantCount..<(i + 1) * participantCount])
    }

    /// The image's frontier: how many messages of each sender it holds.
    var frontierVector: [UInt32] { (0..<participantCount).map(frontier) }
}
