/// Reintegrating a failed participant (Section 5): the restarting host's side (`restart`: the
/// image rebuilt from the log and the network, the view restored or re-executed) and the other
/// hosts' side (an RS: tell the local participants, send the image's leaves).
extension ConversationImage {
    /// Attaches messages read back from the host's non-volatile log (Section 5: "a restarting
    /// host first directly recovers a portion of its image from non-volatile storage"). A log
    /// holds each sender's messages in order but interleaves senders freely, so messages wait
    /// until their predecessors are in. Entries that never fit are dropped, traced: the network
    /// fills in the rest. O(messages x passes).
    mutating func restoreLogged(_ logged: [AddNode], host: HostID, now: Instant, _ out: inout Outbox) -> Int {
        var waiting = logged.filter { $0.conversation == id && !graph.contains($0.message) }
        var restored = 0
        while !waiting.isEmpty {
            var next: [AddNode] = []
            for an in waiting {
                if graph.contains(an.message) { continue }
                guard an.message.senderIndex < participantCount, an.predecessors.allSatisfy({ graph.contains($0) }) else {
                    next.append(an)
                    continue
                }
                if let c = graph.validate(an.message, predecessors: an.predecessors) {
                    out.drop(Drop(.contradiction, conversation: id, message: an.message, from: host, detail: "log: \(c)"))
                    continue
                }
                graph.insert(an.message, predecessors: an.predecessors, payload: an.payload)
                out.event(.arrive(id, an.message, predecessors: an.predecessors))
                restored += 1
            }
            if next.count == waiting.count {
                for an in next {
                    out.drop(Drop(.contradiction, conversation: id, message: an.message, from: host,
                                  detail: "log entry whose context is not in the log"))
                }
                break
            }
            waiting = next
        }
        noteActivity(now: now, &out)
        return restored
    }

    /// Section 5.1: an RS from `from`, whose participant `rs.participant` restarted. The host
    /// forgets what it knew of that host's image, tells its local participants, and sends the
    /// leaves of its image "as standard AN messages"; under `.gaps` the restarting host's digest
    /// asks for the rest.
    ///
    /// The RS is echoed back as its acknowledgement (the restarting host repeats it until then),
    /// so a host may get it more than once: only the first since the restarted host's
    /// participants last sent something new counts as a restart.
    mutating func receiveRestart(_ rs: Restart, from: HostID, localHost: HostID, _ out: inout Outbox) {
        guard let k = otherHostSlot(from), let p = index(of: rs.participant) else {
            return out.drop(Drop(.nonParticipant, conversation: id, from: from, detail: "RS for \(rs.participant)"))
        }
        if rs.participant.host == localHost {
            peers.restartAcked[k] = true
            if peers.restartAcked.allSatisfy({ $0 }) { peers.restart = nil }
            return wakeBlockedSenders(&out)
        }
        guard rs.participant.host == from else {
            return out.drop(Drop(.nonParticipant, conversation: id, from: from, detail: "RS for \(rs.participant)"))
        }
        peers.heardFrom(k)
        let isNew = peers.forgotten[k].map { old in peers.participantsOn[k].contains { graph.frontier($0) > old[$0] } } ?? true
        if isNew {
            peers.stated[k] = Array(repeating: 0, count: participantCount)
            var forgotten = peers.forgotten[k] ?? Array(repeating: 0, count: participantCount)
            for q in peers.participantsOn[k] { forgotten[q] = max(forgotten[q], graph.frontier(q)) }
            peers.forgotten[k] = forgotten
            out.event(.restartNotified(id, restarted: participants[p]))
            discardHeld(of: p, from: from, &out)
            for v in views where v.state == .open {
                out.wake(.restarted(id, participants[v.participant], restarted: rs.participant))
            }
        }
        out.transmit(.restart(rs), to: [from])
        // Leaves whose buffers are freed go only if stable storage gives them back.
        transmitAnswer(graph.leaves.compactMap(graph.index(of:)), to: from, &out)
    }

    /// The restarted participant's old messages in the holding queue are discarded: one whose
    /// predecessors reached no image (sent just before the crash, lost on the way) would wait
    /// for ever, or be released by the new incarnation's message of the same id, sent in
    /// another context, and the images would then disagree on what that id means. One that
    /// some image holds comes back by the usual recovery. O(held).
    mutating func discardHeld(of p: ParticipantIndex, from: HostID, _ out: inout Outbox) {
        for mid in holding.entries.keys.filter({ $0.senderIndex == p }).sorted() {
            guard let entry = holding.discard(mid, graph: graph) else { continue }
            out.drop(Drop(.supersededByRestart, conversation: id, message: mid, from: entry.from,
                          detail: "held message of \(participants[p]) from before its restart"))
        }
    }

    /// Under `.gaps`, the restarting host pulls from every peer (digests, repeated until each
    /// answers with one) and repeats its RS with them until each echoes it: neither is lost
    /// for good to a lossy network.
    mutating func pullAfterRestart(_ rs: Restart, now: Instant, _ out: inout Outbox) {
        peers.restart = rs
        memory.restarted = true
        peers.pulling = Array(repeating: true, count: otherHosts.count)
        askForWhatFollows(&out)
        noteActivity(now: now, &out)
    }

    /// Whether a restarted participant may still have sent messages this image has not
    /// recovered: some peer has not stated its frontier yet, or stated more of a local
    /// participant's messages than the image holds. A new send then could take the id of an
    /// old message with another context, so it waits (Section 5.2 assumes the same ids). A peer
    /// that left every digest unanswered (suspected failed) is not waited for. Nor does it send
    /// before every peer echoed its RS: a peer discards the old messages it only held when the
    /// RS comes (`discardHeld`), and one of them could otherwise take the new message's place.
    var isCatchingUp: Bool {
        guard memory.restarted else { return false }
        for k in otherHosts.indices where peers.silentRounds[k] < config.digestAttempts
            && (peers.pulling[k] || (peers.restart != nil && !peers.restartAcked[k])) { return true }
        for v in views {
            for k in otherHosts.indices where peers.stated[k][v.participant] > graph.frontier(v.participant) { return true }
        }
        return false
    }

    /// Restoring views (Section 5.1) whose leaves' down-closure is now in the image become that
    /// down-closure, and start receiving from there. O(participants²) per restored view.
    mutating func finishRestoring(_ out: inout Outbox) {
        memory.restoring = false
        for slot in views.indices {
            guard let leaves = views[slot].restoring else { continue }
            guard leaves.allSatisfy({ graph.contains($0) }) else {
                memory.restoring = true
                continue
            }
            var seen = [UInt32](repeating: 0, count: participantCount)
            for leaf in leaves {
                seen[leaf.senderIndex] = max(seen[leaf.senderIndex], leaf.sequence)
                for q in 0..<participantCount { seen[q] = max(seen[q], graph.clock(sender: leaf.senderIndex, leaf.sequence, q)) }
            }
            views[slot].restore(seen: seen, in: graph)
            out.event(.restored(id, participants[views[slot].participant], view: seen))
            queueReceivable(slot: slot, &out)
        }
    }

    /// Queues what a view that was just set (restored, or empty with an image read from the
    /// log) can receive: only each sender's next message can be receivable. O(participants x
    /// in-degree).
    mutating func queueReceivable(slot: Int, _ out: inout Outbox) {
        for s in 0..<participantCount where views[slot].seen[s] < graph.frontier(s) && views[slot].seen[s] >= graph.reclaimedOf[s] {
            let n = graph.node(s, views[slot].seen[s] + 1)
            if isReceivable(n, slot: slot) { makeReceivable(n, slot: slot, &out) }
        }
    }

    /// The participant at `slot`'s next old message while it re-executes, else nil.
    func reexecutionStep(slot: Int) -> ReexecutionStep? {
        let me = views[slot].participant
        guard views[slot].seen[me] < graph.frontier(me) else { return nil }
        let mid = MessageID(sender: me, sequence: views[slot].seen[me] + 1)
        guard let n = graph.index(of: mid) else { return nil }
        return ReexecutionStep(message: mid, payload: graph.isPayloadFreed(mid) ? nil : graph.payload(n),
                               contextInView: graph.predecessors(n).allSatisfy(views[slot].contains))
    }

    /// Section 5.2: participant at `slot` sends while its own next message is already in the
    /// image (it is re-executing, or resuming from a checkpoint older than its last send). The
    /// send is suppressed ("automatically discarded as duplicates"): the view grows by the
    /// existing message. Its payload must be the same and its predecessors already in the view,
    /// or the participant is not deterministic. (The view may hold more than it did the first
    /// time, as a re-execution finds everything that does not depend on its own later messages
    /// already there; what it held then is a subset, so the predecessors are in.) Returns nil
    /// when the participant is past its old messages.
    mutating func resendSuppressed(_ payload: [UInt8], slot: Int, _ out: inout Outbox) throws(PsyncError) -> MessageID? {
        let me = views[slot].participant
        guard views[slot].seen[me] < graph.frontier(me) else { return nil }
        let mid = MessageID(sender: me, sequence: views[slot].seen[me] + 1)
        guard let n = graph.index(of: mid) else { throw .reclaimed(mid) }
        guard graph.predecessors(n).allSatisfy(views[slot].contains),
              graph.isPayloadFreed(mid) || graph.payload(n) == payload else { throw .reexecutionDiverged(mid) }
        views[slot].extend(with: mid, predecessorsOf: n, in: graph)
        out.event(.resendSuppressed(id, participants[me], mid))
        var e = graph.firstSuccessorEdge(n)
        while let (s, next) = graph.successorEdge(e) {
            if isReceivable(s, slot: slot) { makeReceivable(s, slot: slot, &out) }
            e = next
        }
        return mid
    }
}

/// A re-executing participant's next old message (Section 5.2), as `Host.reexecutionStep` gives it.
public struct ReexecutionStep: Sendable, Equatable {
    public var message: MessageID
    /// Its payload; nil if the buffer was freed (Section 3.3).
    public var payload: [UInt8]?
    /// Whether every predecessor is in the participant's view: sending it again now is
    /// suppressed; before, the send would be `reexecutionDiverged`.
    public var contextInView: Bool
}

extension View {
    /// Becomes the down-closed set `seen` of `graph` (Section 5.1's restored view).
    mutating func restore(seen: [UInt32], in graph: ContextGraph) {
        self.seen = seen
        restoring = nil
        for s in seen.indices {
            // s's newest message in the view is a leaf unless another newest one follows it.
            leafOf[s] = seen[s] > 0 && !seen.indices.contains { q in
                q != s && seen[q] > 0 && graph.clock(sender: q, seen[q], s) >= seen[s]
            }
        }
    }
}
