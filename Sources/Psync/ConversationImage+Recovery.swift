/// Recovery from lost messages and failed hosts within one conversation, the paper's way
/// (`RecoveryPolicy.paper`): the holding-queue timers and retransmission requests of Sections
/// 3.2.1 and 3.2.3 and the answers to them; and, for both policies, holding and the successors
/// a host resends when it receives a resent message it already has (Section 3.2.2).
extension ConversationImage {
    /// Puts a message whose predecessors are missing in the holding queue. Under `.paper` the
    /// message gets a timer of its own; under `.gaps` each missing predecessor that is not held
    /// itself opens (or joins) a gap.
    mutating func hold(_ an: AddNode, missing: [MessageID], from: HostID, now: Instant, _ out: inout Outbox) {
        guard holding.count < config.holdingQueueLimit else {
            return out.drop(Drop(.holdingQueueFull, conversation: id, message: an.message, from: from))
        }
        let deadline = now.adding(nanoseconds: config.holdTimeoutNanoseconds)
        holding.hold(an, from: from, missing: missing, deadline: deadline)
        out.event(.hold(id, an.message, missing: missing))
        switch config.recovery {
        case .paper: out.setTimer(.hold(id, an.message), deadline)
        case .gaps: openGaps(missing: missing, source: from, deadline: deadline, &out)
        }
    }

    /// The escalation of Sections 3.2.1 and 3.2.3: ask the host the held message came from
    /// ("guaranteed to have m'"), then, if it does not answer, every host; then discard.
    mutating func holdTimerFired(_ mid: MessageID, now: Instant, _ out: inout Outbox) {
        guard var entry = holding[mid], entry.deadline <= now else { return }
        let next: HoldingQueue.Stage
        switch entry.stage {
        case .waiting:
            next = .askedSource(attempt: 1)
        case .askedSource(let k):
            next = k < config.sourceRequestAttempts ? .askedSource(attempt: k + 1) : .broadcast(attempt: 1)
        case .broadcast(let k):
            guard k < config.broadcastRequestAttempts else {
                _ = holding.discard(mid, graph: graph)
                return out.drop(Drop(.discardedAfterFailedRequest, conversation: id, message: mid, from: entry.from))
            }
            next = .broadcast(attempt: k + 1)
        }
        let request = RetransmitRequest(conversation: id, message: mid, leaves: graph.leaves)
        let broadcast: Bool
        if case .broadcast = next { broadcast = true } else { broadcast = false }
        let destinations = broadcast ? otherHosts : [entry.from]
        entry.stage = next
        entry.deadline = now.adding(nanoseconds: config.retransmitTimeoutNanoseconds)
        holding[mid] = entry
        out.counters.retransmitRequestsSent += destinations.count
        out.event(.retransmitRequested(request, to: destinations, broadcast: broadcast))
        out.transmit(.retransmitRequest(request), to: destinations)
        out.setTimer(.hold(id, mid), entry.deadline)
    }

    /// Answers a retransmission request with every message "between the leaf set and the
    /// out-of-order message, exclusive" (Section 3.2.1). The requester's image is the
    /// down-closure of its leaves, which per sender is a sequence number, so the answer is a
    /// set of per-sender ranges: no graph search. A host that lacks a leaf knows only that
    /// leaf's own sequence (the weakness `RecoveryPolicy.gaps` removes). A host that lacks the
    /// named message (a broadcast request, Section 3.2.3) answers with everything after the
    /// leaves. Either answer is cut at `retransmitBatchLimit`.
    func answer(_ rr: RetransmitRequest, from: HostID, _ out: inout Outbox) {
        guard isParticipantHost(from) else {
            return out.drop(Drop(.nonParticipant, conversation: id, from: from, detail: "retransmission request"))
        }
        var boundary = [UInt32](repeating: 0, count: participantCount)
        for leaf in rr.leaves {
            guard leaf.senderIndex < participantCount else {
                return out.drop(Drop(.contradiction, conversation: id, from: from, detail: "leaf \(leaf) outside the participant list"))
            }
            boundary[leaf.senderIndex] = max(boundary[leaf.senderIndex], leaf.sequence)
            if graph.contains(leaf) {
                for q in 0..<participantCount { boundary[q] = max(boundary[q], graph.clock(sender: leaf.senderIndex, leaf.sequence, q)) }
            }
        }
        let target = rr.message.flatMap { graph.index(of: $0) }
        transmitAnswer(answerable(after: boundary, through: target.map(graph.clockVector) ?? graph.frontierVector)
            .filter { $0 != target }, to: from, &out)
    }

    /// Once every local participant has masked `sender` out (Section 3.2.4), its held messages
    /// that no other held message waits for are discarded: they would not have been accepted
    /// now, and asking for what they miss would go on for nothing. Traced as `masked`.
    mutating func discardHeldOfMasked(_ sender: ParticipantIndex, _ out: inout Outbox) {
        guard allViewsMask(sender) else { return }
        for m in holding.heldMessages(limit: holding.count) where m.senderIndex == sender && !holding.isAwaited(m) {
            guard let entry = holding.discard(m, graph: graph) else { continue }
            out.drop(Drop(.masked, conversation: id, message: m, from: entry.from, detail: "held when its sender was masked out"))
        }
    }

    /// Section 3.2.2: on a resent copy of a message it has, a host "resends all the messages in
    /// its image that are immediate successors of the duplicate message", to the resending host.
    func resendSuccessors(of n: ContextGraph.NodeIndex, to host: HostID, _ out: inout Outbox) {
        var successors: [(ContextGraph.NodeIndex, [UInt8])] = []
        // A freed successor is held everywhere, the resending host included (Section 3.3),
        // unless that host restarted without its memory and stable storage has it (Section 5).
        graph.forEachSuccessor(n) { s in servedPayload(s).map { successors.append((s, $0)) } }
        successors.sort { $0.0 < $1.0 }
        out.event(.resentSuccessors(id, of: graph.mid(n), successors: successors.map { graph.mid($0.0) }, to: host))
        out.counters.retransmittedMessages += successors.count
        for (s, payload) in successors { out.transmit(dataPacket(s, resent: false, payload: payload), to: [host]) }
    }
}
