/// Tail recovery (anti-entropy) under `RecoveryPolicy.gaps`, and the frontier requests that
/// carry it and gap recovery.
///
/// Gap recovery notices a lost message only when a later message that depends on it arrives.
/// Nothing follows the last messages of a conversation (the "last ACK problem", Section 3.2.2),
/// so a host that holds messages some peer is not known to hold, and has been quiet for
/// `digestQuietNanoseconds`, sends those peers its frontier (a digest, the paper's RR without a
/// mid). A peer answers with what lies beyond the frontier and asks back for what it lacks, or
/// replies with its own frontier; either way the sender learns the peer's frontier, and stops
/// once every unmasked peer is known to hold everything it holds. Each host pushes what it
/// has, so every message that is in some running image reaches every running image
/// (Section 3.2.3's second guarantee) without the application's `resend`.
extension ConversationImage {
    /// The image grew (a send or an arrival): digests wait until it has been quiet. Arms the
    /// digest timer if it is not armed; an armed timer re-arms itself lazily when it fires
    /// early, so steady traffic costs no timer effect per message.
    mutating func noteActivity(now: Instant, _ out: inout Outbox) {
        guard config.recovery == .gaps, !otherHosts.isEmpty else { return }
        peers.lastActivity = now
        if peers.armed == nil {
            let deadline = quietDeadline()
            peers.armed = deadline
            out.setTimer(.digest(id), deadline)
        }
    }

    /// When the image will have been quiet long enough for a digest: `digestQuietNanoseconds`
    /// after the last activity, plus up to half of it in seeded jitter. Conversations tend to
    /// fall quiet everywhere at once; staggered digests let the first one answer the others'
    /// questions (its receivers learn its frontier and skip it) instead of crossing them.
    mutating func quietDeadline() -> Instant {
        let quiet = config.digestQuietNanoseconds
        return peers.lastActivity.adding(nanoseconds: quiet.addingJitter(upTo: quiet / 2, &rng))
    }

    /// Whether `otherHosts[k]` is known to hold sender s's messages 1...`sequence`: it said so
    /// in a request or digest, or one of its participants' newest message in the image has
    /// them in its context (contexts grow along a sender's chain, so the newest says the most).
    /// O(participants on that host).
    func peerHolds(_ k: Int, sender s: ParticipantIndex, through sequence: UInt32) -> Bool {
        if peers.stated[k][s] >= sequence { return true }
        for p in peers.participantsOn[k] where clockKnowledge(k, p, s) >= sequence { return true }
        return false
    }

    /// What the newest message of participant `p` (on `otherHosts[k]`) says its host holds of
    /// sender s's messages; nothing if that message predates the host's restart (Section 5).
    func clockKnowledge(_ k: Int, _ p: ParticipantIndex, _ s: ParticipantIndex) -> UInt32 {
        let newest = graph.frontier(p)
        if let forgotten = peers.forgotten[k], newest <= forgotten[p] { return 0 }
        return graph.clock(sender: p, newest, s)
    }

    /// Whether `otherHosts[k]` is known to hold everything in `frontier`. O(participants x
    /// participants on that host).
    func peerCovers(_ k: Int, _ frontier: [UInt32]) -> Bool {
        frontier.indices.allSatisfy { s in frontier[s] == 0 || peerHolds(k, sender: s, through: frontier[s]) }
    }

    /// Whether every participant on `otherHosts[k]` is masked out by every local view
    /// (Section 3.2.4): such a peer gets no digests.
    func isMaskedPeer(_ k: Int) -> Bool {
        for p in peers.participantsOn[k] where !allViewsMask(p) { return false }
        return true
    }

    /// The digest timer: after quiet, sends the frontier to every unmasked peer not known to
    /// hold all of it, backing off; stops when there is none, except peers that stayed silent
    /// through `digestAttempts` digests (they are suspected until they speak again).
    mutating func digestTimerFired(now: Instant, _ out: inout Outbox) {
        guard let armed = peers.armed, armed <= now else { return }
        peers.armed = nil
        guard peers.lastActivity.adding(nanoseconds: config.digestQuietNanoseconds) <= now else {
            let quietUntil = quietDeadline()
            peers.armed = quietUntil
            return out.setTimer(.digest(id), quietUntil)
        }
        // A pending image stays silent: it stores only its root (Section 3.3).
        guard !isPendingOnly else { return }
        let frontier = graph.frontierVector
        let restarting = peers.restart != nil
        let targets = otherHosts.indices.filter { k in
            !isMaskedPeer(k) && (peers.pulling[k] || !peerCovers(k, frontier) || (restarting && !peers.restartAcked[k]))
        }
        let silent = targets.filter { peers.silentRounds[$0] == config.digestAttempts }
        if !silent.isEmpty {
            out.event(.digestsStopped(id, unanswered: silent.map { otherHosts[$0] }))
            for k in silent { peers.silentRounds[k] += 1 }
            // A restarted participant waiting for these peers waits no longer (`isCatchingUp`).
            wakeBlockedSenders(&out)
        }
        let live = targets.filter { peers.silentRounds[$0] < config.digestAttempts }
        guard let quietest = live.map({ peers.silentRounds[$0] }).min() else { return }
        for k in live { peers.silentRounds[k] += 1 }
        sendDigest(to: live.map { otherHosts[$0] }, isReply: false, reason: .digest, &out)
        if let rs = peers.restart {
            out.transmit(.restart(rs), to: live.filter { !peers.restartAcked[$0] }.map { otherHosts[$0] })
        }
        let next = now.adding(nanoseconds: backoff(afterRequests: quietest + 2))
        peers.armed = next
        out.setTimer(.digest(id), next)
    }

    mutating func sendDigest(to hosts: [HostID], isReply: Bool, reason: RequestReason, _ out: inout Outbox) {
        let digest = FrontierRequest(conversation: id, frontier: frontierMessages, wanted: [], held: heldForRequests, isReply: isReply)
        out.counters.digestsSent += hosts.count
        out.event(.frontierRequested(digest, to: hosts, reason: reason))
        out.transmit(.frontierRequest(digest), to: hosts)
    }

    /// A frontier request from `from`: a gap request or a digest. Either tells what `from`
    /// holds; a gap request is answered with the missing closure, a digest with everything
    /// beyond its frontier plus an ask-back or a reply.
    mutating func receiveFrontierRequest(_ fr: FrontierRequest, from: HostID, now: Instant, _ out: inout Outbox) {
        guard let k = otherHostSlot(from) else {
            return out.drop(Drop(.nonParticipant, conversation: id, from: from, detail: "frontier request"))
        }
        var boundary = [UInt32](repeating: 0, count: participantCount)
        for m in fr.frontier + fr.wanted + fr.held where m.senderIndex >= participantCount {
            return out.drop(Drop(.contradiction, conversation: id, from: from, detail: "\(m) outside the participant list"))
        }
        for m in fr.frontier { boundary[m.senderIndex] = max(boundary[m.senderIndex], m.sequence) }
        peers.learn(boundary, slot: k)
        peers.heardFrom(k)
        let held = Set(fr.held)
        guard fr.isDigest else { return answerGapRequest(fr.wanted, boundary: boundary, held: held, from: from, &out) }
        peers.pulling[k] = false
        transmitAnswer(answerable(after: boundary, through: graph.frontierVector).filter { !held.contains(graph.mid($0)) },
                       to: from, after: boundary, &out)
        // Messages of a sender every local view masked out are discarded on arrival (Section
        // 3.2.4): asking for them would be answered for ever. A masked peer gets no digest
        // either (as from the digest timer), so that one removed while partitioned, whose image
        // holds what the others discarded, falls silent once its digests go unanswered.
        let lacking = (0..<participantCount).compactMap { s in
            boundary[s] > graph.frontier(s) && !allViewsMask(s) ? MessageID(sender: s, sequence: boundary[s]) : nil
        }
        if isPendingOnly || isMaskedPeer(k) {
            // Section 3.3: a pending conversation stores one message; it asks when it opens.
        } else if !lacking.isEmpty {
            let ask = FrontierRequest(conversation: id, frontier: frontierMessages, wanted: lacking, held: heldForRequests)
            out.counters.retransmitRequestsSent += 1
            out.event(.frontierRequested(ask, to: [from], reason: .askBack))
            out.transmit(.frontierRequest(ask), to: [from])
            // The ask-back is the first request of gaps that nothing held waits on: if it or its
            // answer is lost, they are asked for again like any gap.
            let next = now.adding(nanoseconds: backoff(afterRequests: 1))
            for m in lacking { gaps.open(m, source: from, deadline: next, revealed: true, requests: 1) }
            armRecoveryTimer(&out)
        } else if !fr.isReply {
            sendDigest(to: [from], isReply: true, reason: .digestReply, &out)
        }
    }
}
