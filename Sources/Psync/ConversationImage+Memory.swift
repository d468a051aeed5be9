/// Memory management and flow control of one image (Section 3.3).
///
/// *Collection.* A message is collected once every other host is known to hold it and every
/// local participant has received it: then no host can ask for it again ("a host cannot be
/// asked to retransmit a message that is stable", Section 3.3) and no local participant will
/// read its buffer from the image. Hosts whose participants are masked out count too: masking
/// is not deletion (Section 3.2.4), a masked participant may be masked in again and then needs
/// what it missed. Memory therefore stays with a failed participant until a storage policy
/// takes it (Section 5's log) or the conversation ends; flow control does not wait for it. Knowing what a peer holds costs no extra message on a busy
/// conversation: it is the recovery protocol's knowledge (`PeerKnowledge`), read from the vector
/// clocks of the peer's participants' newest messages and from the frontiers that requests and
/// digests state. A quiet conversation learns it from digests. Collected messages are handed to
/// the host's `StableStorage` (Section 5's log) and their buffers freed (`reclaimsPayloads`).
///
/// *Graph nodes.* A collected node that is also stable in the image (every participant sent
/// something after it) and released (older than the last Θ messages, or below what
/// `freeNode` and the filters released in every local view) is reclaimed, oldest first. Stability
/// in the image guarantees that no unmasked participant can still send a message naming it as
/// an immediate predecessor, so its clock is never needed again.
///
/// *Flow control.* `bufferLimit` bounds the image's messages that are not yet *settled*: held
/// by every host whose participants are not all masked out, and received locally (collection
/// without the masked hosts). A host's own sends block at its share (`HostConfig.bufferLimit`
/// says why that split cannot deadlock).
struct MemoryState {
    /// Per sender: messages 1...collected[s] are collected.
    var collected: [UInt32]
    /// Per sender: messages 1...settled[s] are settled (collected, masked hosts aside).
    var settled: [UInt32]
    var settledTotal = 0
    /// The first node not yet known to be reclaimable; nodes from `graph.base` up to it are.
    var reclaimScan: ContextGraph.NodeIndex = 0
    /// Messages attached, sent or received since the last collection.
    var sinceCollect = 0
    /// Arrivals were discarded while every local view was pending: opening pulls them back.
    var discardedWhilePending = false
    /// A pull under `.paper` went out: a cut answer is continued (`answerWasCut`), as the pull
    /// may be answered with more than one batch.
    var pulledUnderPaper = false
    /// Some local view is being restored after a restart (Section 5.1).
    var restoring = false
    /// This image was recreated by `restart` under `.gaps` (`isCatchingUp`).
    var restarted = false
    /// Some local view's send failed with `wouldBlock` (collect at every step then).
    var hasSendWaiter = false
    /// Scratch space of `collect`, kept to avoid allocations per collection.
    var scratchThrough: [UInt32] = []
    var scratchSettled: [UInt32] = []

    init(participantCount: Int) {
        collected = Array(repeating: 0, count: participantCount)
        settled = collected
    }
}

/// Where collected messages go before their buffers are freed: Section 5's non-volatile image
/// ("the garbage collection mechanism must be modified to write messages to non-volatile
/// storage rather than free them"). Without one, collected buffers are simply freed.
public protocol StableStorage: AnyObject {
    /// Called once per message, each sender's messages in sequence order, when the message is
    /// collected; `message` carries its predecessors and payload (an SC's root is an AN here).
    func store(_ message: AddNode)

    /// A message stored earlier, read back (predecessors and payload); nil if this storage
    /// cannot (the default). A host whose storage reads back serves retransmissions of messages
    /// whose buffers it freed or whose nodes it reclaimed: such a message is held by every
    /// host, until one of them restarts without its memory (Section 5) and asks for everything
    /// again.
    func stored(_ message: MessageID, in conversation: ConversationID) -> AddNode?
}

extension StableStorage {
    public func stored(_ message: MessageID, in conversation: ConversationID) -> AddNode? { nil }

    /// The payload of a message stored earlier, read back (`stored`).
    public func payload(of message: MessageID, in conversation: ConversationID) -> [UInt8]? {
        stored(message, in: conversation)?.payload
    }
}

extension ConversationImage {
    /// Whether every local view is still pending (Section 2): such an image keeps only its
    /// root (Section 3.3, "only one message associated each such conversation is stored").
    var isPendingOnly: Bool { views.allSatisfy { $0.state == .pending } }

    /// Messages in the image that are not settled (what `bufferLimit` bounds).
    var unsettledCount: Int { graph.count - memory.settledTotal }

    /// This host's own messages that are not settled (the share flow control bounds).
    var ownUnsettledCount: Int {
        views.reduce(0) { $0 + Int(graph.frontier($1.participant) - memory.settled[$1.participant]) }
    }

    /// The host's share of the buffer limit: the limit divided by the conversation's hosts.
    var sendShare: Int? { config.bufferLimit.map { max(1, $0 / participantHosts.count) } }

    /// Whether memory management has anything to do: otherwise collection is skipped entirely.
    var managesMemory: Bool {
        config.reclaimsPayloads || config.retainedNodes != nil || config.bufferLimit != nil || storage != nil
            || memory.hasSendWaiter || views.contains { $0.released != nil }
    }

    /// Steps (messages attached, sent or received) between collections, per participant.
    static let collectionInterval = 4

    /// The image grew or a view did: collect once per `collectionInterval × participantCount`
    /// such steps, so the O(participants²) collection costs O(1) per step, and buffers are freed
    /// within that many steps of becoming collectable. A blocked sender collects at every step.
    mutating func noteGrowth(_ out: inout Outbox) {
        memory.sinceCollect += 1
        if memory.sinceCollect >= Self.collectionInterval * participantCount || memory.hasSendWaiter { collect(&out) }
    }

    /// Advances the settled and collected frontiers, hands newly collected messages to
    /// `storage`, frees their buffers, reclaims graph nodes and wakes blocked senders.
    /// O(participants²) plus the messages collected.
    mutating func collect(_ out: inout Outbox) {
        memory.sinceCollect = 0
        guard managesMemory, !isPendingOnly else { return }
        // Plain loops over reused buffers: collection runs every few messages, and a closure or
        // method reference over `self` would copy the whole image.
        var through = memory.scratchThrough, settled = memory.scratchSettled
        (memory.scratchThrough, memory.scratchSettled) = ([], [])
        through.removeAll(keepingCapacity: true)
        settled.removeAll(keepingCapacity: true)
        for s in 0..<participantCount {
            // A pending view has received nothing: its buffers stay (it receives everything when
            // it opens), but flow control does not wait for it.
            var local = graph.frontier(s), opened = graph.frontier(s)
            for v in views {
                local = min(local, v.seen[s])
                if v.state == .open { opened = min(opened, v.seen[s]) }
            }
            through.append(local)
            settled.append(opened)
        }
        // What each peer is known to hold (`peerHolds`): what it stated, raised by the clocks
        // of its participants' newest messages.
        for k in otherHosts.indices {
            let masked = isMaskedPeer(k)
            for s in 0..<participantCount {
                var held = peers.stated[k][s]
                for p in peers.participantsOn[k] { held = max(held, clockKnowledge(k, p, s)) }
                through[s] = min(through[s], held)
                if !masked { settled[s] = min(settled[s], held) }
            }
        }
        for s in 0..<participantCount {
            if settled[s] > memory.settled[s] {
                memory.settledTotal += Int(settled[s] - memory.settled[s])
                memory.settled[s] = settled[s]
            }
            guard through[s] > memory.collected[s] else { continue }
            if let storage {
                for k in (memory.collected[s] + 1)...through[s] where !graph.isPayloadFreed(MessageID(sender: s, sequence: k)) {
                    storage.store(storedMessage(graph.node(s, k)))
                }
            }
            memory.collected[s] = through[s]
            if config.reclaimsPayloads { graph.freePayloads(sender: s, through: through[s]) }
        }
        (memory.scratchThrough, memory.scratchSettled) = (through, settled)
        reclaimNodes()
        wakeBlockedSenders(&out)
    }

    /// The AN that carries node `n`, for storage.
    func storedMessage(_ n: ContextGraph.NodeIndex) -> AddNode {
        let mid = graph.mid(n)
        return AddNode(conversation: id, message: mid, sender: participants[mid.senderIndex],
                       predecessors: Array(graph.predecessors(n)), payload: graph.payload(n))
    }

    /// Reclaims the longest prefix of the arrival order whose nodes are all reclaimable, in
    /// chunks of at least a quarter of the live nodes, so that each node is moved O(1) times.
    mutating func reclaimNodes() {
        guard config.retainedNodes != nil || views.contains(where: { $0.released != nil }) else { return }
        memory.reclaimScan = max(memory.reclaimScan, graph.base)
        while Int(memory.reclaimScan) < graph.count && isReclaimable(memory.reclaimScan) { memory.reclaimScan += 1 }
        let ready = Int(memory.reclaimScan - graph.base)
        if ready > 0 && ready >= max(32, graph.liveCount / 4) { graph.compact(below: memory.reclaimScan) }
    }

    /// Whether node `n` may be reclaimed: collected, stable in the image over every participant,
    /// and released by every local view: below what its filters still query, and freed by the
    /// participant or older than the last Θ messages. O(participants).
    func isReclaimable(_ n: ContextGraph.NodeIndex) -> Bool {
        let mid = graph.mid(n)
        let s = mid.senderIndex
        guard mid.sequence <= memory.collected[s] else { return false }
        for q in 0..<participantCount where q != s {
            guard graph.clock(sender: q, graph.frontier(q), s) >= mid.sequence else { return false }
        }
        let outsideThreshold = config.retainedNodes.map { Int(n) < graph.count - $0 } ?? false
        return views.allSatisfy { v in
            (v.retainedBeyond.map { mid.sequence <= $0[s] } ?? true) && (v.released.map { mid.sequence <= $0[s] } ?? outsideThreshold)
        }
    }

    /// Section 3.3's `free_node`, as a per-sender prefix: the view at `slot` no longer needs the
    /// nodes of `frontier` (a down-closed set). Releases only grow.
    mutating func release(through frontier: [UInt32], slot: Int) {
        var released = views[slot].released ?? Array(repeating: 0, count: participantCount)
        for s in released.indices where s < frontier.count && frontier[s] > released[s] {
            released[s] = min(frontier[s], views[slot].seen[s])
        }
        views[slot].released = released
    }

    /// Sets what the filters of the view at `slot` still query (`Host.retainHistory`). Lowering
    /// it restarts the scan for reclaimable nodes, which may have passed nodes now kept.
    mutating func retainHistory(beyond frontier: [UInt32], slot: Int) {
        let kept = (0..<participantCount).map { $0 < frontier.count ? frontier[$0] : 0 }
        if let old = views[slot].retainedBeyond, zip(old, kept).contains(where: { $0 > $1 }) {
            memory.reclaimScan = graph.base
        }
        views[slot].retainedBeyond = kept
    }

    /// Wakes the participants whose `send` failed with `wouldBlock` once the host's share has
    /// room again.
    mutating func wakeBlockedSenders(_ out: inout Outbox) {
        guard memory.hasSendWaiter, !isCatchingUp else { return }
        if let share = sendShare, ownUnsettledCount >= share { return }
        memory.hasSendWaiter = false
        for slot in views.indices where views[slot].sendWaiter {
            views[slot].sendWaiter = false
            out.wake(.sendable(id, participants[views[slot].participant]))
        }
    }

    /// Flow control for a local send: throws `wouldBlock` (and remembers to wake the sender)
    /// when the host's own uncollected messages fill its share of the buffer.
    mutating func admitSend(slot: Int, _ out: inout Outbox) throws(PsyncError) {
        guard let share = sendShare, ownUnsettledCount >= share else { return }
        collect(&out)
        guard ownUnsettledCount >= share else { return }
        if !memory.hasSendWaiter && config.recovery == .gaps {
            // What releases the sender is knowing that the peers hold its messages: ask now.
            let frontier = graph.frontierVector
            var targets: [HostID] = []
            for k in otherHosts.indices where !isMaskedPeer(k) && !peerCovers(k, frontier) { targets.append(otherHosts[k]) }
            if !targets.isEmpty { sendDigest(to: targets, isReply: false, reason: .blocked, &out) }
        }
        out.counters.sendsBlocked += 1
        out.event(.sendBlocked(id, participants[views[slot].participant], unsettled: ownUnsettledCount))
        throw blockSend(slot: slot)
    }

    /// The send of the view at `slot` cannot go now: remember to wake it (`.sendable`) and
    /// return the error to throw.
    mutating func blockSend(slot: Int) -> PsyncError {
        views[slot].sendWaiter = true
        memory.hasSendWaiter = true
        return .wouldBlock(id)
    }

    /// Section 3.3 for arrivals: whether a message that could be attached or held must be
    /// discarded instead (a full buffer, or a pending conversation that already has its root).
    /// Traced; Section 3.2's mechanisms recover it later.
    mutating func mustDiscardArrival(_ an: AddNode, from: HostID, _ out: inout Outbox) -> Bool {
        let mid = an.message
        if graph.count > 0 && isPendingOnly {
            memory.discardedWhilePending = true
            out.drop(Drop(.pendingConversation, conversation: id, message: mid, from: from))
            return true
        }
        if let limit = config.bufferLimit, mid != .root, unsettledCount >= limit, let k = otherHostSlot(from) {
            // The arrival says what its host holds, which may settle enough to make room; under
            // `.paper` (no digests) it is the only way a full image learns anything.
            learn(whatHolds: an, slot: k)
            collect(&out)
            guard unsettledCount >= limit else { return false }
            out.drop(Drop(.bufferFull, conversation: id, message: mid, from: from,
                          detail: "\(unsettledCount) messages not yet stable, limit \(limit)"))
            return true
        }
        return false
    }

    /// `otherHosts[k]` sent `an`, so it holds `an`'s predecessors and their down-closure (a
    /// host sends only what its image holds, and images are down-closed). O(participants x
    /// in-degree).
    mutating func learn(whatHolds an: AddNode, slot k: Int) {
        for p in an.predecessors where graph.contains(p) {
            let s = p.senderIndex
            if p.sequence > peers.stated[k][s] { peers.stated[k][s] = p.sequence }
            for q in 0..<participantCount {
                let c = graph.clock(sender: s, p.sequence, q)
                if c > peers.stated[k][q] { peers.stated[k][q] = c }
            }
        }
    }

    /// A pending view opened: if arrivals were discarded while the image was pending, pull them
    /// back from every peer (`askForWhatFollows`; under `.gaps` repeated until a peer states its
    /// frontier).
    mutating func pullAfterPending(now: Instant, _ out: inout Outbox) {
        guard memory.discardedWhilePending else { return }
        memory.discardedWhilePending = false
        memory.pulledUnderPaper = config.recovery == .paper
        askForWhatFollows(&out)
        if config.recovery == .gaps {
            peers.pulling = Array(repeating: true, count: otherHosts.count)
            noteActivity(now: now, &out)
        }
    }

    /// Asks every other host for everything beyond this image: under `.gaps` a digest stating
    /// the image's frontier; under `.paper` a broadcast request with the image's leaves and no
    /// message (Section 3.2.3: answered with everything after the leaves).
    mutating func askForWhatFollows(to hosts: [HostID]? = nil, _ out: inout Outbox) {
        let hosts = hosts ?? otherHosts
        switch config.recovery {
        case .gaps:
            sendDigest(to: hosts, isReply: false, reason: .digest, &out)
        case .paper:
            let request = RetransmitRequest(conversation: id, message: nil, leaves: graph.leaves)
            out.counters.retransmitRequestsSent += hosts.count
            out.event(.retransmitRequested(request, to: hosts, broadcast: hosts.count > 1))
            out.transmit(.retransmitRequest(request), to: hosts)
        }
    }
}

extension ConversationImage {
    /// The live node of `mid` in the view at `slot`, for operations that need the node.
    func liveNode(_ mid: MessageID, slot: Int) throws(PsyncError) -> ContextGraph.NodeIndex {
        guard views[slot].contains(mid), graph.contains(mid) else { throw .notInView(mid) }
        guard let n = graph.index(of: mid) else { throw .reclaimed(mid) }
        return n
    }
}

/// Section 3.3 figures of one image (`Host.memory`).
public struct ImageMemory: Sendable, Equatable {
    /// Messages the image holds, reclaimed ones included.
    public var messages: Int
    /// Graph nodes not reclaimed.
    public var liveNodes: Int
    /// Messages not yet settled (what `bufferLimit` bounds).
    public var unsettled: Int
    /// Messages in the holding queue.
    public var heldMessages: Int
    /// Bytes of the payloads the image still holds.
    public var payloadBytes: Int
    /// Per sender: how many of its messages are collected, have freed buffers, have reclaimed nodes.
    public var collected: [UInt32]
    public var payloadsFreed: [UInt32]
    public var nodesReclaimed: [UInt32]
}
