/// Incorporating messages that arrive from other hosts (Section 3.1.3): validation, the holding
/// queue, and attachment to the image.
extension ConversationImage {
    /// A data message (the root from an SC, or an AN). Returns true if the root was attached.
    mutating func receiveData(_ an: AddNode, from: HostID, now: Instant, _ out: inout Outbox) -> Bool {
        let mid = an.message
        guard isParticipantHost(from), mid.senderIndex < participantCount, participants[mid.senderIndex] == an.sender
        else { out.drop(Drop(.nonParticipant, conversation: id, message: mid, from: from)); return false }
        // A cut retransmission answer asks for the rest once this message is placed.
        defer { if an.answerCut { answerWasCut(from: from, now: now, &out) } }
        if config.recovery == .gaps, let k = otherHostSlot(from) { peers.heardFrom(k) }
        guard an.predecessors.count <= participantCount,
              an.predecessors.allSatisfy({ $0.senderIndex < participantCount })
        else {
            out.drop(Drop(.contradiction, conversation: id, message: mid, from: from, detail: "predecessor outside the participant list"))
            return false
        }
        if graph.contains(mid) {
            // Section 3.2.2: a host that already has a resent message answers with its successors
            // (or, if its node was reclaimed, with everything after it: the successors are gone).
            if an.resent {
                if let n = graph.index(of: mid) {
                    resendSuccessors(of: n, to: from, &out)
                } else {
                    var boundary = graph.clockVector(sender: mid.senderIndex, mid.sequence)
                    boundary[mid.senderIndex] = max(boundary[mid.senderIndex], mid.sequence)
                    transmitAnswer(answerable(after: boundary, through: graph.frontierVector), to: from, &out)
                }
            }
            out.drop(Drop(.duplicate, conversation: id, message: mid, from: from))
            return false
        }
        if holding.contains(mid) {
            out.drop(Drop(.duplicate, conversation: id, message: mid, from: from))
            return false
        }
        if allViewsMask(mid.senderIndex) && !holding.isAwaited(mid) {
            out.drop(Drop(.masked, conversation: id, message: mid, from: from))
            if an.resent { answerMaskedResend(an, from: from, &out) }
            return false
        }
        if mustDiscardArrival(an, from: from, &out) { return false }
        if !an.predecessors.allSatisfy({ graph.contains($0) }) {
            hold(an, missing: HoldingQueue.missing(of: an, in: graph), from: from, now: now, &out)
            return false
        }
        return attach(an, from: from, now: now, &out)
    }

    /// A masked-out participant (Section 3.2.4) resent its message: it asks whether it was
    /// received (Section 3.2.2). The message is discarded, but its host is answered with what
    /// lies beyond the message's context, as a resent message already held is answered with its
    /// successors: a participant removed while it was cut off learns how the conversation went
    /// on without it, its removal included, even after every other host gave up digests to it
    /// and it gave up its own. One answer per resent copy, nothing once its context covers
    /// this image.
    mutating func answerMaskedResend(_ an: AddNode, from: HostID, _ out: inout Outbox) {
        var boundary = [UInt32](repeating: 0, count: participantCount)
        for p in an.predecessors + [an.message] {
            if p != an.message, graph.contains(p) {
                for (s, n) in graph.clockVector(sender: p.senderIndex, p.sequence).enumerated() { boundary[s] = max(boundary[s], n) }
            }
            boundary[p.senderIndex] = max(boundary[p.senderIndex], p.sequence)
        }
        let missing = answerable(after: boundary, through: graph.frontierVector)
        if !missing.isEmpty { transmitAnswer(missing, to: from, &out) }
    }

    /// Attaches a message whose predecessors are present, then every held message that this
    /// releases (Section 3.1.3), iteratively. Returns true if the root was attached.
    mutating func attach(_ first: AddNode, from: HostID, now: Instant, _ out: inout Outbox) -> Bool {
        var attachedRoot = false
        var work = [first]
        while let an = work.popLast() {
            if let c = graph.validate(an.message, predecessors: an.predecessors) {
                let reason: DropReason = if case .reclaimedPredecessor = c { .reclaimedContext } else { .contradiction }
                out.drop(Drop(reason, conversation: id, message: an.message, from: from, detail: "\(c)"))
                continue
            }
            let n = graph.insert(an.message, predecessors: an.predecessors, payload: an.payload)
            out.counters.messagesAttached += 1
            out.event(.arrive(id, an.message, predecessors: an.predecessors))
            noteGrowth(&out)
            for slot in views.indices where isReceivable(n, slot: slot) { makeReceivable(n, slot: slot, &out) }
            wakeReexecuting(an.message, &out)
            attachedRoot = attachedRoot || an.message == .root
            for entry in releaseHeld(waitingFor: an.message, &out) { work.append(entry.packet) }
        }
        noteActivity(now: now, &out)
        if memory.restoring { finishRestoring(&out) }
        return attachedRoot
    }

    /// Section 5.2: a local participant's own old message came back from the network, the next
    /// it has to send again. It is told (`.sendable`), since nothing it receives may follow
    /// (what follows the message waits for it to be sent again). O(local participants).
    mutating func wakeReexecuting(_ mid: MessageID, _ out: inout Outbox) {
        for v in views where v.participant == mid.senderIndex && v.state == .open && v.seen[mid.senderIndex] + 1 == mid.sequence {
            out.wake(.sendable(id, participants[v.participant]))
        }
    }

    /// `mid` is in the image now: the held messages that waited only for it leave the holding
    /// queue (traced `release`), for the caller to attach. O(1) when nothing is held.
    mutating func releaseHeld(waitingFor mid: MessageID, _ out: inout Outbox) -> [HoldingQueue.Entry] {
        guard holding.count > 0 else { return [] }
        let released = holding.attached(mid)
        for entry in released { out.event(.release(id, entry.packet.message)) }
        return released
    }

    /// Node `n` became receivable in a view: queue it, and wake a waiting `receive`.
    mutating func makeReceivable(_ n: ContextGraph.NodeIndex, slot: Int, _ out: inout Outbox) {
        views[slot].ready.push(n)
        if views[slot].state == .open, views[slot].receiveWaiter != nil {
            views[slot].receiveWaiter = nil
            out.wake(.messageAvailable(id, participants[views[slot].participant]))
        }
    }
}
