/// A host's copy of the context graph G: the nodes of an image I_h and the edges between them
/// (Sections 2 and 3.1.1).
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
/// - Predecessors are stored contiguously (known at insertion); successors as linked lists in
///   one pool (they grow later).
struct ContextGraph {
    typealias NodeIndex = Int32

    let participantCount: Int
    private(set) var mids: [MessageID] = []
    private var predOffsets: [Int32] = [0]
    private var predPool: [NodeIndex] = []
    private var succHead: [Int32] = []
    private var edgeTarget: [NodeIndex] = []
    private var edgeNext: [Int32] = []
    private var clockPool: [UInt32] = []
    private(set) var payloads: [[UInt8]] = []
    private var nodeOf: [[NodeIndex]]
    /// `leafOf[s]`: whether the newest message of sender `s` in the image is a leaf of the image
    /// (only a sender's newest message can be a leaf: its older ones precede it).
    private var leafOf: [Bool]

    init(participantCount: Int) {
        self.participantCount = participantCount
        nodeOf = Array(repeating: [], count: participantCount)
        leafOf = Array(repeating: false, count: participantCount)
    }

    var count: Int { mids.count }

    /// How many of sender `s`'s messages the image holds (they are sequences 1...count).
    func frontier(_ sender: ParticipantIndex) -> UInt32 { UInt32(nodeOf[sender].count) }

    func contains(_ mid: MessageID) -> Bool {
        mid.senderIndex < participantCount && mid.sequence >= 1 && mid.sequence <= UInt32(nodeOf[mid.senderIndex].count)
    }

    func index(of mid: MessageID) -> NodeIndex? {
        contains(mid) ? nodeOf[mid.senderIndex][Int(mid.sequence) - 1] : nil
    }

    /// Index of a message known to be present.
    func node(_ sender: ParticipantIndex, _ sequence: UInt32) -> NodeIndex {
        nodeOf[sender][Int(sequence) - 1]
    }

    /// Component `q` of node `n`'s vector clock: how many of q's messages precede or equal n.
    func clock(_ n: NodeIndex, _ q: ParticipantIndex) -> UInt32 {
        clockPool[Int(n) * participantCount + q]
    }

    /// Whether `a` precedes `b` (a path from a to b): O(1).
    func precedes(_ a: MessageID, _ b: NodeIndex) -> Bool {
        a != mids[Int(b)] && clock(b, a.senderIndex) >= a.sequence
    }

    func predecessors(_ n: NodeIndex) -> ArraySlice<NodeIndex> {
        predPool[Int(predOffsets[Int(n)])..<Int(predOffsets[Int(n) + 1])]
    }

    /// Calls `body` for each immediate successor of `n` in the image (O(out-degree)).
    func forEachSuccessor(_ n: NodeIndex, _ body: (NodeIndex) -> Void) {
        var e = firstSuccessorEdge(n)
        while let (s, next) = successorEdge(e) {
            body(s)
            e = next
        }
    }

    /// Successor iteration without a closure, for callers that mutate while iterating:
    /// `var e = firstSuccessorEdge(n); while let (s, next) = successorEdge(e) { ...; e = next }`.
    func firstSuccessorEdge(_ n: NodeIndex) -> Int32 { succHead[Int(n)] }
    func successorEdge(_ e: Int32) -> (NodeIndex, Int32)? {
        e >= 0 ? (edgeTarget[Int(e)], edgeNext[Int(e)]) : nil
    }

    /// The leaves of the image, at most one per sender (O(participants)).
    var leaves: [MessageID] {
        var out: [MessageID] = []
        for s in 0..<participantCount where leafOf[s] {
            out.append(MessageID(sender: s, sequence: UInt32(nodeOf[s].count)))
        }
        return out
    }

    /// Why a message cannot be attached even though its predecessors are present.
    enum Contradiction: Error, Equatable {
        case wrongSequence(expected: UInt32)
        case notAnAntichain(MessageID, MessageID)
        case noPredecessors
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
            let pn = index(of: p)!
            ownChain = max(ownChain, clock(pn, s))
            for other in preds where other != p && precedes(other, pn) {
                return .notAnAntichain(other, p)
            }
        }
        // The sender's previous message must be in the new message's context.
        return ownChain == mid.sequence - 1 ? nil : .wrongSequence(expected: ownChain + 1)
    }

    /// Attaches a validated message. O(participants x in-degree).
    @discardableResult
    mutating func insert(_ mid: MessageID, predecessors preds: [MessageID], payload: [UInt8]) -> NodeIndex {
        let n = NodeIndex(mids.count)
        let base = clockPool.count
        clockPool.append(contentsOf: repeatElement(0, count: participantCount))
        for p in preds {
            let pn = index(of: p)!
            predPool.append(pn)
            let pbase = Int(pn) * participantCount
            for q in 0..<participantCount where clockPool[pbase + q] > clockPool[base + q] {
                clockPool[base + q] = clockPool[pbase + q]
            }
            edgeTarget.append(n)
            edgeNext.append(succHead[Int(pn)])
            succHead[Int(pn)] = Int32(edgeTarget.count - 1)
            if p.sequence == frontier(p.senderIndex) { leafOf[p.senderIndex] = false }
        }
        clockPool[base + mid.senderIndex] = mid.sequence
        predOffsets.append(Int32(predPool.count))
        succHead.append(-1)
        mids.append(mid)
        payloads.append(payload)
        nodeOf[mid.senderIndex].append(n)
        leafOf[mid.senderIndex] = true
        return n
    }

    /// The messages of the image beyond `boundary` and within `limit` (both vectors of per-sender
    /// sequence numbers, that is, down-closed sets): for each sender s, sequences
    /// boundary[s]+1 ... min(limit[s], frontier(s)), in arrival (topological) order. This is
    /// the answer to a retransmission request (Section 3.2.1): the requester's image is
    /// `boundary`, and `limit` is the down-closure of what it asks for. O(answer x log answer).
    func messages(after boundary: [UInt32], through limit: [UInt32]) -> [NodeIndex] {
        var out: [NodeIndex] = []
        for s in 0..<participantCount {
            // The boundary comes from the network and may be anything, UInt32.max included.
            let high = min(limit[s], frontier(s))
            guard boundary[s] < high else { continue }
            for k in (boundary[s] + 1)...high { out.append(node(s, k)) }
        }
        out.sort()
        return out
    }

    /// Node `n`'s vector clock: its down-closure, one sequence number per sender.
    func clockVector(_ n: NodeIndex) -> [UInt32] {
        Array(clockPool[Int(n) * participantCount..<(Int(n) + 1) * participantCount])
    }

    /// The image's frontier: how many messages of each sender it holds.
    var frontierVector: [UInt32] { nodeOf.map { UInt32($0.count) } }
}
