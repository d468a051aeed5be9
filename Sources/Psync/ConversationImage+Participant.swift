/// The operations a local participant performs on its view (Section 2, Section 3.2.2 resend,
/// Section 3.2.4 masking). `slot` is the participant's position in `views`.
extension ConversationImage {
    /// Sends in the context of the view: the new message's predecessors are the view's leaves,
    /// so the graph stays the transitive reduction. O(participants).
    mutating func send(_ payload: [UInt8], slot: Int, now: Instant, _ out: inout Outbox) throws(PsyncError) -> MessageID {
        // A re-sent message already in the graph takes no buffer space: flow control after it.
        if let again = try resendSuppressed(payload, slot: slot, &out) { return again }
        if memory.restarted {
            guard !isCatchingUp else { throw blockSend(slot: slot) }
            memory.restarted = false
        }
        try admitSend(slot: slot, &out)
        let me = views[slot].participant
        // Before the root exists only the opener's view is open (the others open on its SC).
        assert(graph.count > 0 || me == 0, "only the opener can send a conversation's first message")
        let mid = MessageID(sender: me, sequence: graph.frontier(me) + 1)
        let preds = views[slot].leaves
        let n = graph.insert(mid, predecessors: preds, payload: payload)
        views[slot].extend(with: mid, predecessors: preds)
        out.counters.messagesSent += 1
        out.event(.send(id, participants[me], mid, predecessors: preds, payloadBytes: payload.count))
        for other in views.indices where other != slot && isReceivable(n, slot: other) {
            makeReceivable(n, slot: other, &out)
        }
        out.transmit(dataPacket(n, resent: false), to: otherHosts)
        if out.reportsEvents { reportNewlyStable(slot: slot, after: me, &out) }
        noteGrowth(&out)
        // Only a re-executing participant (Section 5.2) sends a message that held messages
        // already wait for: its first execution sent it, and the others built on it.
        for entry in releaseHeld(waitingFor: mid, &out) { _ = attach(entry.packet, from: entry.from, now: now, &out) }
        return mid
    }

    /// The earliest outstanding message of the view, if any; the view grows by it. O(participants).
    mutating func receive(slot: Int, _ out: inout Outbox) -> (MessageID, [UInt8])? {
        guard let n = views[slot].ready.pop() else { return nil }
        let mid = graph.mid(n)
        let payload = graph.payload(n)
        views[slot].extend(with: mid, predecessorsOf: n, in: graph)
        var e = graph.firstSuccessorEdge(n)
        while let (s, next) = graph.successorEdge(e) {
            if isReceivable(s, slot: slot) { makeReceivable(s, slot: slot, &out) }
            e = next
        }
        out.counters.messagesReceived += 1
        if out.reportsEvents {
            out.event(.receive(id, participants[views[slot].participant], mid))
            reportNewlyStable(slot: slot, after: mid.senderIndex, &out)
        }
        noteGrowth(&out)
        return (mid, payload)
    }

    /// Reports the messages that became stable in the view since the last report. For each
    /// sender s, the stable prefix of s's messages ends at the smallest, over the other
    /// unmasked participants q, of how many of s's messages q's newest message follows.
    /// When only `changed`'s newest message is new, a sender's prefix can grow only if that
    /// message follows more of its messages than already reported: usually O(participants),
    /// O(participants^2) at worst. Run only when events are reported.
    mutating func reportNewlyStable(slot: Int, after changed: ParticipantIndex? = nil, _ out: inout Outbox) {
        // The reported frontier is taken out of the view while it changes, so that updating it
        // does not copy it (a copy of the view would share its buffer): tracing pays for this
        // on every receive.
        var reported = views[slot].stableReported
        views[slot].stableReported = []
        defer { views[slot].stableReported = reported }
        let seen = views[slot].seen, masked = views[slot].masked
        for s in 0..<participantCount {
            if let q = changed, s != q, graph.clock(sender: q, seen[q], s) <= reported[s] { continue }
            var frontier = seen[s]
            for q in 0..<participantCount where q != s && !masked[q] && frontier > reported[s] {
                frontier = min(frontier, graph.clock(sender: q, seen[q], s))
            }
            guard frontier > reported[s] else { continue }
            let pid = participants[views[slot].participant]
            for k in (reported[s] + 1)...frontier {
                out.event(.stable(id, pid, MessageID(sender: s, sequence: k)))
            }
            reported[s] = frontier
        }
    }

    /// Section 3.2.2: an exact duplicate flagged as resent, unless the message is stable. A
    /// resend is how a participant gets the successors of `mid` it lacks: hosts that have the
    /// duplicate answer with them. When `mid`'s buffer is freed (every host holds it, Section
    /// 3.3) there is no duplicate to send; the same question is asked without it: everything
    /// beyond this image, from every host (the paper's RR with the image's leaves and no
    /// message, or a digest).
    mutating func resend(_ mid: MessageID, slot: Int, _ out: inout Outbox) -> Bool {
        if isStable(mid, slot: slot) { return false }
        if graph.isPayloadFreed(mid) {
            askForWhatFollows(&out)
            return true
        }
        out.counters.resends += 1
        out.event(.resent(id, mid))
        out.transmit(dataPacket(graph.index(of: mid)!, resent: true), to: otherHosts)
        return true
    }
}
