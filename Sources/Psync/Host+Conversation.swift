/// The conversation abstraction of Section 2 (with the additions of Sections 3.2 and 5.1), as
/// operations a local participant invokes on its host. Operations that block in the paper
/// (`passive_open`, `receive`) are split sans-I/O style: a non-blocking call, and a wait that
/// completes later as an effect (`.opened`, `.messageAvailable`, or `.timedOut`).
///
/// Node handles are message ids (`MessageID`), which are conversation-wide unique.
extension Host {
    // MARK: Opening and closing (Section 3.1.2)

    /// Creates an empty conversation with `participants` (which must include `opener`, a local
    /// participant). The opener is placed first in the SC's list; no packet is sent until its
    /// first `send`, which carries the SC (Figure 3).
    @discardableResult
    public func activeOpen(_ participants: [ParticipantID], as opener: ParticipantID,
                           conversation cid: ConversationID) throws(PsyncError) -> ConversationID {
        guard opener.host == id else { throw .invalidParticipants("the opener \(opener) is not on \(id)") }
        guard participants.contains(opener) else { throw .invalidParticipants("the opener \(opener) is not in the set") }
        guard Set(participants).count == participants.count else { throw .invalidParticipants("a participant is listed twice") }
        guard participants.count <= config.wireLimits.maxParticipants else {
            throw .invalidParticipants("more than \(config.wireLimits.maxParticipants) participants")
        }
        guard slot(of: cid) == nil, !closed.contains(cid) else { throw .conversationExists(cid) }
        let ordered = [opener] + participants.filter { $0 != opener }
        _ = addImage(ConversationImage(id: cid, participants: ordered, localHost: id, openedBy: opener, config: config,
                                       rng: rng.split(), storage: storage))
        foreign.remove(cid)
        outbox.event(.open(cid, opener, participants: ordered, active: true))
        return cid
    }

    /// Section 5.1's `restart(cid, pid, participant_set, leaf_mid_set)`, issued by a recovering
    /// participant on a host that lost its memory, in lieu of opening: recreates the image,
    /// first from `logged` (what the host's non-volatile log kept, Section 5), sends an RS to
    /// every other host of the conversation (they answer with their images' leaves, and the
    /// standard lost-message protocol rebuilds the rest), and opens `pid`'s view. With `leaves`
    /// (a checkpoint's `getMids`) the view becomes their down-closure once the image holds it,
    /// and the participant receives what follows; with none (Section 5.2, re-execution) it
    /// starts at the root, and its sends of messages already in the graph are suppressed.
    /// `participants` is the list `participants(cid)` gave before the failure, in its order.
    @discardableResult
    public func restart(_ cid: ConversationID, as pid: ParticipantID, participants: [ParticipantID], leaves: [MessageID],
                        logged: [AddNode] = [], now: Instant) throws(PsyncError) -> ConversationID {
        guard pid.host == id else { throw .invalidParticipants("\(pid) is not on \(id)") }
        guard participants.contains(pid), Set(participants).count == participants.count,
              participants.count <= config.wireLimits.maxParticipants
        else { throw .invalidParticipants("\(pid) missing, a participant twice, or too many") }
        guard slot(of: cid) == nil else { throw .conversationExists(cid) }
        guard leaves.allSatisfy({ leaf in leaf.senderIndex < participants.count && leaf.sequence >= 1 }) else {
            throw .invalidParticipants("a leaf names no participant")
        }
        closed.remove(cid)
        foreign.remove(cid)
        var image = ConversationImage(id: cid, participants: participants, localHost: id, openedBy: pid, config: config,
                                      rng: rng.split(), storage: storage)
        let slot = image.viewSlot(of: pid)!
        if !leaves.isEmpty {
            image.views[slot].restoring = leaves
            image.memory.restoring = true
        }
        // The restart record comes first, then the log's arrivals (the count is known after).
        let mark = outbox.effects.count
        let restored = image.restoreLogged(logged, host: id, now: now, &outbox)
        let i = addImage(image)
        outbox.event(.restart(cid, pid, leaves: leaves, logged: restored), at: mark)
        let rs = Restart(conversation: cid, participant: pid, leaves: leaves)
        outbox.transmit(.restart(rs), to: images[i]!.otherHosts)
        images[i]!.finishRestoring(&outbox)
        if leaves.isEmpty { images[i]!.queueReceivable(slot: slot, &outbox) }
        if config.recovery == .gaps { images[i]!.pullAfterRestart(rs, now: now, &outbox) }
        // Other local participants of the conversation open it as usual.
        if images[i]!.graph.count > 0 { announce(i, now: now) }
        return cid
    }

    /// Returns the oldest pending conversation that includes `pid`, if any. Otherwise `pid`
    /// waits: the host emits `.opened(cid, pid)` when an SC for it arrives, or `.timedOut`
    /// after `timeoutNanoseconds` (Section 3.2.2).
    public func passiveOpen(_ pid: ParticipantID, now: Instant, timeoutNanoseconds: UInt64? = nil) -> ConversationID? {
        precondition(pid.host == id, "passiveOpen of \(pid) on \(id): a participant opens on its own host")
        if var queue = pending[pid], !queue.isEmpty {
            let cid = queue.removeFirst()
            pending[pid] = queue.isEmpty ? nil : queue
            if let i = slot(of: cid), let v = images[i]!.viewSlot(of: pid) {
                images[i]!.views[v].state = .open
                outbox.event(.open(cid, pid, participants: images[i]!.participants, active: false))
                images[i]!.pullAfterPending(now: now, &outbox)
                return cid
            }
        }
        let deadline = timeoutNanoseconds.map { now.adding(nanoseconds: $0) }
        openWaiters[pid] = deadline
        if let d = deadline { outbox.setTimer(.passiveOpen(pid), d) }
        return nil
    }

    /// Closes `pid`'s view. No packet is exchanged (Section 3.1.2); when every local participant
    /// has closed, the image is released and later packets for it are dropped.
    public func close(_ cid: ConversationID, as pid: ParticipantID) throws(PsyncError) {
        let (i, v) = try lookup(cid, pid, requireOpen: false)
        images[i]!.views.remove(at: v)
        pending[pid]?.removeAll { $0 == cid }
        if images[i]!.views.isEmpty {
            images[i] = nil
            slotOf[cid] = nil
            cached = nil
            closed.insert(cid)
        }
    }

    // MARK: Sending and receiving (Sections 2 and 3.1.3)

    /// Sends `payload` in the context of `pid`'s view: the new message's predecessors are the
    /// view's leaves, so the graph stays the transitive reduction. O(participants).
    ///
    /// With a `bufferLimit`, throws `wouldBlock` when this host's messages that are not yet
    /// settled (held by every host not masked out, Section 3.3) fill its share of the buffer
    /// ("the send operation blocks"); the host emits `.sendable(cid, pid)` once they no longer do.
    @discardableResult
    public func send(_ payload: [UInt8], in cid: ConversationID, as pid: ParticipantID, now: Instant) throws(PsyncError) -> MessageID {
        let (i, v) = try lookup(cid, pid)
        let mid = try images[i]!.send(payload, slot: v, now: now, &outbox)
        images[i]!.noteActivity(now: now, &outbox)
        if mid == .root { announce(i, now: now) }
        return mid
    }

    /// Returns the earliest outstanding message of `pid`'s view, if any: one whose predecessors
    /// are all in the view (Section 2). The view grows by it. O(participants).
    public func receive(_ cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> (MessageID, [UInt8])? {
        let (i, v) = try lookup(cid, pid)
        return images[i]!.receive(slot: v, &outbox)
    }

    /// Returns true if `receive` would return a message now. Otherwise `pid` waits: the host
    /// emits `.messageAvailable(cid, pid)` when one becomes outstanding, or `.timedOut` after
    /// `timeoutNanoseconds`.
    public func waitForMessage(_ cid: ConversationID, as pid: ParticipantID, now: Instant,
                               timeoutNanoseconds: UInt64? = nil) throws(PsyncError) -> Bool {
        let (i, v) = try lookup(cid, pid)
        if !images[i]!.views[v].ready.isEmpty { return true }
        let deadline = timeoutNanoseconds.map { now.adding(nanoseconds: $0) }
        images[i]!.views[v].receiveWaiter = .some(deadline)
        if let d = deadline { outbox.setTimer(.receive(cid, pid), d) }
        return false
    }

    /// Section 3.2.2: sends an exact duplicate of `mid`, flagged as resent, to every host; a host
    /// that has it answers with its successors. Does nothing (returns false) for a stable message.
    @discardableResult
    public func resend(_ mid: MessageID, in cid: ConversationID, as pid: ParticipantID, now: Instant) throws(PsyncError) -> Bool {
        let (i, v) = try lookup(cid, pid)
        guard images[i]!.views[v].contains(mid) else { throw .notInView(mid) }
        return images[i]!.resend(mid, slot: v, &outbox)
    }

    // MARK: Masking (Section 3.2.4)

    /// Removes `target` from `pid`'s working definition of P: stability no longer waits for it,
    /// and once every local participant masks it, its messages are discarded unless a held
    /// message depends on them.
    public func maskOut(_ target: ParticipantID, in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) {
        try setMask(target, true, cid, pid)
    }

    /// Returns `target` to `pid`'s working definition of P.
    public func maskIn(_ target: ParticipantID, in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) {
        try setMask(target, false, cid, pid)
    }

    private func setMask(_ target: ParticipantID, _ masked: Bool, _ cid: ConversationID, _ pid: ParticipantID) throws(PsyncError) {
        let (i, v) = try lookup(cid, pid)
        guard let t = images[i]!.index(of: target) else { throw .invalidParticipants("\(target) is not a participant of \(cid)") }
        guard target != pid else { throw .invalidParticipants("a participant cannot mask itself") }
        images[i]!.views[v].masked[t] = masked
        outbox.event(masked ? .maskOut(cid, by: pid, target) : .maskIn(cid, by: pid, target))
        if masked { images[i]!.discardHeldOfMasked(t, &outbox) }
        if outbox.reportsEvents { images[i]!.reportNewlyStable(slot: v, &outbox) }
        images[i]!.collect(&outbox)
    }

    // MARK: Inspecting the view (Section 2)

    /// The root of `pid`'s view, or nil while the view is empty.
    public func root(_ cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> MessageID? {
        let (image, slot) = try inspect(cid, pid)
        return image.views[slot].contains(.root) ? .root : nil
    }

    /// The leaves of `pid`'s view: at most one per participant. O(participants).
    public func leaves(_ cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> [MessageID] {
        let (image, slot) = try inspect(cid, pid)
        return image.views[slot].leaves
    }

    public func participants(_ cid: ConversationID) throws(PsyncError) -> [ParticipantID] {
        guard let i = slot(of: cid), let image = images[i] else { throw .unknownConversation(cid) }
        return image.participants
    }

    public func sender(_ mid: MessageID, in cid: ConversationID) throws(PsyncError) -> ParticipantID {
        guard let i = slot(of: cid), let image = images[i] else { throw .unknownConversation(cid) }
        guard mid.senderIndex < image.participantCount else { throw .notInView(mid) }
        return image.participants[mid.senderIndex]
    }

    /// Nodes of `pid`'s view with an edge from `mid`.
    public func next(_ mid: MessageID, in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> [MessageID] {
        let (image, slot) = try inspect(cid, pid)
        let n = try image.liveNode(mid, slot: slot)
        var out: [MessageID] = []
        image.graph.forEachSuccessor(n) { s in
            let m = image.graph.mid(s)
            if image.views[slot].contains(m) { out.append(m) }
        }
        return out.sorted()
    }

    /// Nodes of `pid`'s view with an edge to `mid` (its immediate predecessors).
    public func prev(_ mid: MessageID, in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> [MessageID] {
        let (image, slot) = try inspect(cid, pid)
        return image.graph.predecessors(try image.liveNode(mid, slot: slot)).sorted()
    }

    /// Whether the image holds a message `pid` has not received. O(1).
    public func outstanding(_ cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> Bool {
        let (image, slot) = try inspect(cid, pid)
        return !image.views[slot].ready.isEmpty
    }

    /// Whether `pid`'s view contains a path from `a` to `b`. O(1), by vector clocks. Throws
    /// `reclaimed` if `b`'s node was reclaimed.
    public func precedes(_ a: MessageID, _ b: MessageID, in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> Bool {
        let (image, slot) = try inspect(cid, pid)
        let view = image.views[slot]
        guard view.contains(a), view.contains(b) else { return false }
        return image.graph.precedes(a, try image.liveNode(b, slot: slot))
    }

    /// Whether `mid` is stable in `pid`'s view, over `pid`'s masked definition of P. O(participants).
    public func stable(_ mid: MessageID, in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> Bool {
        let (image, slot) = try inspect(cid, pid)
        return image.isStable(mid, slot: slot)
    }

    /// The largest n for which `mid` is n-stable in `pid`'s view (Section 3.2.3); 0 if absent.
    public func nStable(_ mid: MessageID, in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> Int {
        let (image, slot) = try inspect(cid, pid)
        return image.stability(of: mid, slot: slot)
    }

    /// The participants other than `mid`'s sender that have a message in `pid`'s view following
    /// `mid`: the acknowledgements the view holds. `stable` asks whether these are all of P
    /// (masked), `nStable` counts them; filters use it for stability over a set of their own
    /// (membership). O(participants).
    public func followers(_ mid: MessageID, in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> [ParticipantIndex] {
        let (image, slot) = try inspect(cid, pid)
        return image.followers(of: mid, slot: slot)
    }

    /// Whether `mid` is in `pid`'s view (sent or received by it). O(1).
    public func contains(_ mid: MessageID, in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> Bool {
        let (image, slot) = try inspect(cid, pid)
        return image.views[slot].contains(mid)
    }

    /// The payload of a message in `pid`'s view. Throws `payloadReclaimed` once the message is
    /// stable everywhere and its buffer was freed (Section 3.3): keep what you need when you
    /// receive it.
    public func payload(_ mid: MessageID, in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> [UInt8] {
        let (image, slot) = try inspect(cid, pid)
        let n = try image.liveNode(mid, slot: slot)
        guard !image.graph.isPayloadFreed(mid) else { throw .payloadReclaimed(mid) }
        return image.graph.payload(n)
    }

    // MARK: Memory management and flow control (Section 3.3)

    /// Section 3.3's `free_node`: `pid` no longer needs `mid` nor any of its predecessors. Their
    /// nodes are reclaimed once they are also stable everywhere and every local participant
    /// released them; later operations that need those nodes throw `reclaimed`. Once a
    /// participant calls it, it alone (not the threshold Θ) decides what its view releases.
    public func freeNode(_ mid: MessageID, in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) {
        let (i, v) = try lookup(cid, pid, requireOpen: false)
        guard images[i]!.views[v].contains(mid) else { throw .notInView(mid) }
        guard let n = images[i]!.graph.index(of: mid) else { return }   // reclaimed already
        try release(through: images[i]!.graph.clockVector(n), in: cid, as: pid)
    }

    /// `free_node` for a down-closed set given as a per-sender prefix (how filters release what
    /// they no longer query: a total order's committed prefix). Releases only grow.
    public func release(through frontier: [UInt32], in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) {
        let (i, v) = try lookup(cid, pid, requireOpen: false)
        images[i]!.release(through: frontier, slot: v)
        images[i]!.collect(&outbox)
    }

    /// Nodes beyond `frontier` (a per-sender prefix) in `pid`'s view stay queryable whatever
    /// the threshold Θ says: a filter stack says this for the messages its filters may still
    /// query (`OrderingFilter.releasedHistory`). Replaces the previous setting; a missing
    /// entry counts as 0 (everything of that sender is kept).
    public func retainHistory(beyond frontier: [UInt32], in cid: ConversationID, as pid: ParticipantID) throws(PsyncError) {
        let (i, v) = try lookup(cid, pid, requireOpen: false)
        images[i]!.retainHistory(beyond: frontier, slot: v)
    }

    /// How many of each sender's messages `pid`'s view holds (a view is down-closed, so this
    /// vector is the view). O(participants).
    public func viewFrontier(_ cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> [UInt32] {
        let (image, slot) = try inspect(cid, pid)
        return image.views[slot].seen
    }

    /// Section 5.2: while `pid` re-executes (its own next message is already in the image), that
    /// message, so that a filter stack can send its own control messages again exactly where the
    /// first execution sent them; nil once the participant is past its old messages.
    /// O(in-degree).
    public func reexecutionStep(_ cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> ReexecutionStep? {
        // In place, not through `inspect`: a filter stack asks on every send and every pump.
        let (i, v) = try lookup(cid, pid, requireOpen: false)
        return images[i]!.reexecutionStep(slot: v)
    }

    /// Whether `send` would go through now (Section 3.3 flow control). O(local participants).
    public func canSend(_ cid: ConversationID, as pid: ParticipantID) throws(PsyncError) -> Bool {
        let (image, _) = try inspect(cid, pid)
        guard let share = image.sendShare else { return true }
        return image.ownUnsettledCount < share
    }

    /// Section 3.3 figures of `cid`'s image, for tools and tests.
    public func memory(_ cid: ConversationID) -> ImageMemory? {
        guard let i = slot(of: cid), let image = images[i] else { return nil }
        return ImageMemory(messages: image.graph.count, liveNodes: image.graph.liveCount,
                           unsettled: image.unsettledCount, heldMessages: image.holding.count,
                           payloadBytes: image.graph.payloadBytes,
                           collected: image.memory.collected, payloadsFreed: image.graph.payloadsFreed,
                           nodesReclaimed: image.graph.reclaimedOf)
    }

    /// Section 5.1 `get_cid` is the handle itself here; `getMids` maps nodes to ids, which are
    /// the same values: kept so checkpointing code reads like the paper.
    public func getMids(_ nodes: [MessageID]) -> [MessageID] { nodes }

    // MARK: Whole-image inspection (for checkers and tools, not part of Section 2)

    /// Every live message of the image (reclaimed nodes excepted, Section 3.3) with its
    /// immediate predecessors, in arrival order.
    public func image(_ cid: ConversationID) -> [(MessageID, [MessageID])]? {
        guard let i = slot(of: cid), let g = images[i]?.graph else { return nil }
        return (Int(g.base)..<g.count).map { n in
            let node = ContextGraph.NodeIndex(n)
            return (g.mid(node), Array(g.predecessors(node)))
        }
    }

    /// How many of each participant's messages the image holds (reclaimed ones included): an
    /// image is down-closed, so this vector is the image's set of messages.
    public func frontier(_ cid: ConversationID) -> [UInt32]? {
        guard let i = slot(of: cid) else { return nil }
        return images[i]?.graph.frontierVector
    }

    /// The number of messages in the holding queue of `cid`.
    public func heldCount(_ cid: ConversationID) -> Int { slot(of: cid).flatMap { images[$0]?.holding.count } ?? 0 }

    /// The image's index and the participant's view slot, for operations that change them.
    func lookup(_ cid: ConversationID, _ pid: ParticipantID, requireOpen: Bool = true) throws(PsyncError) -> (Int, Int) {
        guard let i = slot(of: cid) else { throw .unknownConversation(cid) }
        guard let v = images[i]!.viewSlot(of: pid) else { throw .notLocalParticipant(pid, cid) }
        if requireOpen && images[i]!.views[v].state != .open { throw .notOpen(pid, cid) }
        return (i, v)
    }

    /// A copy of the image and the participant's view slot, for read-only queries (copying a
    /// struct of arrays only retains their buffers).
    func inspect(_ cid: ConversationID, _ pid: ParticipantID) throws(PsyncError) -> (ConversationImage, Int) {
        let (i, v) = try lookup(cid, pid, requireOpen: false)
        return (images[i]!, v)
    }
}
