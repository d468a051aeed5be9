/// Gap recovery, the default `RecoveryPolicy.gaps`: one exact request per gap rather than one
/// request per held message (Sections 3.2.1 and 3.2.3, made to scale with loss).
extension ConversationImage {
    /// Opens a gap for each missing predecessor of a held message that is not itself held. Gaps
    /// whose message has since arrived or been held are closed when the timer finds them
    /// (`isGap`), so arrivals do no gap bookkeeping.
    mutating func openGaps(missing: [MessageID], source: HostID, deadline: Instant, _ out: inout Outbox) {
        for m in missing where !holding.contains(m) { gaps.open(m, source: source, deadline: deadline) }
        armRecoveryTimer(&out)
    }

    /// Arms the image's recovery timer for the earliest gap deadline, unless it is armed for
    /// that time or earlier.
    mutating func armRecoveryTimer(_ out: inout Outbox) {
        guard let next = gaps.nextDeadline else { return }
        if let armed = gaps.armed, armed <= next { return }
        gaps.armed = next
        out.setTimer(.recovery(id), next)
    }

    /// Whether a gap is still one: its message is neither in the image nor held, and some held
    /// message still waits for it (or a digest revealed it).
    func isGap(_ mid: MessageID) -> Bool {
        !graph.contains(mid) && !holding.contains(mid) && (holding.isAwaited(mid) || gaps[mid]?.revealed == true)
    }

    /// The recovery timer: sends one request per destination for the gaps that are due, merging
    /// gaps, escalating from the source to another member to every host as their requests go
    /// unanswered, backing off, and discarding the held messages of a gap that exhausted
    /// `HostConfig.requestAttempts`.
    mutating func recoveryTimerFired(now: Instant, _ out: inout Outbox) {
        guard let armed = gaps.armed, armed <= now else { return }
        gaps.armed = nil
        var requests: [(destinations: [HostID], reason: RequestReason, wanted: [MessageID])] = []
        for mid in gaps.due(by: now) {
            guard isGap(mid), var gap = gaps[mid] else { gaps.close(mid); continue }
            gap.requests += 1
            guard gap.requests <= config.requestAttempts else {
                gaps.close(mid)
                if !gap.revealed { discardWaiting(on: mid, requests: gap.requests - 1, &out) }
                continue
            }
            let (destinations, reason) = requestDestinations(mid, gap)
            gap.deadline = now.adding(nanoseconds: backoff(afterRequests: gap.requests))
            gaps[mid] = gap
            if let k = requests.firstIndex(where: { $0.destinations == destinations }) {
                requests[k].wanted.append(mid)
            } else {
                requests.append((destinations, reason, [mid]))
            }
        }
        let frontier = frontierMessages
        let held = heldForRequests
        for r in requests {
            let request = FrontierRequest(conversation: id, frontier: frontier, wanted: Self.newestPerSender(r.wanted), held: held)
            out.counters.retransmitRequestsSent += r.destinations.count
            out.event(.frontierRequested(request, to: r.destinations, reason: r.reason))
            out.transmit(.frontierRequest(request), to: r.destinations)
        }
        armRecoveryTimer(&out)
    }

    /// The held messages a request lists, so that answers leave them out (bounded by the wire).
    var heldForRequests: [MessageID] { holding.heldMessages(limit: config.wireLimits.maxParticipants) }

    /// Each sender's messages form a chain, so the down-closure of its newest wanted message
    /// covers the older ones: a request names at most one message per participant.
    static func newestPerSender(_ mids: [MessageID]) -> [MessageID] {
        var newest: [UInt32: UInt32] = [:]
        for m in mids { newest[m.sender] = max(newest[m.sender] ?? 0, m.sequence) }
        return newest.map { MessageID(sender: Int($0.key), sequence: $0.value) }.sorted()
    }

    /// Where the request for a gap goes, by how many requests it has had: the source (which
    /// holds the message, Section 3.2.1), then one other member, preferably one known to hold
    /// it, then every host (Section 3.2.3), where only holders answer.
    func requestDestinations(_ mid: MessageID, _ gap: GapTracker.Gap) -> ([HostID], RequestReason) {
        if gap.requests <= config.sourceRequestAttempts { return ([gap.source], .source) }
        if gap.requests <= config.sourceRequestAttempts + config.memberRequestAttempts {
            let others = otherHosts.indices.filter { otherHosts[$0] != gap.source }
            let holders = others.filter { peerHolds($0, sender: mid.senderIndex, through: mid.sequence) }
            let pool = holders.isEmpty ? others : holders
            guard !pool.isEmpty else { return ([gap.source], .source) }
            return ([otherHosts[pool[gap.requests % pool.count]]], .member)
        }
        return (otherHosts, .broadcast)
    }

    mutating func backoff(afterRequests requests: Int) -> UInt64 {
        config.backoff(afterRequests: requests, &rng)
    }

    /// Discards every held message that waits, directly or through other held messages, on a
    /// gap nobody answered (Section 3.2.3: the message "is discarded").
    mutating func discardWaiting(on mid: MessageID, requests: Int, _ out: inout Outbox) {
        var work = [mid]
        while let m = work.popLast() {
            for w in holding.waiters(of: m) {
                guard let entry = holding.discard(w, graph: graph) else { continue }
                out.drop(Drop(.discardedAfterFailedRequest, conversation: id, message: w, from: entry.from,
                              detail: "\(requests) requests for \(mid) went unanswered"))
                work.append(w)
            }
        }
    }

    /// Answers a gap request: the down-closure of the wanted messages beyond the requester's
    /// frontier, oldest first (each answered message can attach on arrival), cut at the batch
    /// limit. For a wanted message it lacks, a host answers with what it holds of that sender,
    /// so a member or broadcast request is answered by every host that can help, and only by
    /// those.
    func answerGapRequest(_ wanted: [MessageID], boundary: [UInt32], held: Set<MessageID>, from: HostID, _ out: inout Outbox) {
        var limit = [UInt32](repeating: 0, count: participantCount)
        for w in wanted {
            let s = w.senderIndex
            let have = min(w.sequence, graph.frontier(s))
            // A freed message is held everywhere: the requester asks for it by mistake, or after
            // it restarted without its memory (Section 5), when stable storage may have it.
            let newest = MessageID(sender: s, sequence: have)
            guard have > boundary[s], !graph.isReclaimed(newest), storage != nil || !graph.isPayloadFreed(newest) else { continue }
            let v = graph.clockVector(graph.node(s, have))
            for q in 0..<participantCount where v[q] > limit[q] { limit[q] = v[q] }
        }
        transmitAnswer(answerable(after: boundary, through: limit).filter { !held.contains(graph.mid($0)) },
                       to: from, after: boundary, &out)
    }

    /// A cut answer from `from` arrived: ask it again at once. Open gaps whose source is `from`
    /// are asked for now, their escalation restarted (the answer shows the source is alive);
    /// if there are none, the cut answer was a digest's, and a digest asks `from` for what lies
    /// beyond the frontier now.
    mutating func answerWasCut(from: HostID, now: Instant, _ out: inout Outbox) {
        guard config.recovery == .gaps else {
            // The paper's rule has no batches; only a pull after a pending conversation opened
            // (Section 3.3) asks again, with the leaves the image has now.
            if memory.pulledUnderPaper { askForWhatFollows(to: [from], &out) }
            return
        }
        let served = gaps.all.filter { isGap($0) && gaps[$0]?.source == from }
        guard served.isEmpty else {
            for m in served { gaps[m]?.requests = 0; gaps[m]?.deadline = now }
            gaps.armed = now
            return recoveryTimerFired(now: now, &out)
        }
        sendDigest(to: [from], isReply: true, reason: .cut, &out)
    }
}

extension HostConfig {
    /// The wait after the `requests`-th request under `.gaps`: the retransmit timeout doubled
    /// per request, capped at `retransmitTimeoutMaxNanoseconds`, plus up to a quarter of seeded
    /// jitter so that hosts that lost the same message do not ask in lockstep. Under `.paper`,
    /// the fixed retransmit timeout.
    func backoff(afterRequests requests: Int, _ rng: inout SplitMix64) -> UInt64 {
        let base = retransmitTimeoutNanoseconds
        guard recovery == .gaps else { return base }
        let doubled = base << UInt64(min(max(requests - 1, 0), 20))
        let wait = min(max(doubled, base), max(retransmitTimeoutMaxNanoseconds, base))
        return wait.addingJitter(upTo: wait / 4, &rng)
    }
}

extension UInt64 {
    /// Adds a seeded random amount in [0, `limit`), saturating rather than trapping (timeouts
    /// are configurable and may be huge).
    func addingJitter(upTo limit: UInt64, _ rng: inout SplitMix64) -> UInt64 {
        let (sum, overflow) = addingReportingOverflow(UInt64(rng.nextUnit() * Double(limit)))
        return overflow ? .max : sum
    }
}

/// Why a host sent a `FrontierRequest` (traced with it).
public enum RequestReason: String, Sendable, Hashable, CaseIterable {
    /// A gap request to the host a held message came from.
    case source
    /// A gap request to one other member.
    case member
    /// A gap request to every host.
    case broadcast
    /// A digest: tail recovery after the image has been quiet.
    case digest
    /// A digest in answer to a digest, telling the sender this host's frontier.
    case digestReply = "digest-reply"
    /// A gap request in answer to a digest that showed messages this host lacks.
    case askBack = "ask-back"
    /// A digest after a cut answer, asking for the rest.
    case cut
    /// A request for a conversation whose SC has not arrived (Section 3.2.1).
    case orphan
    /// A digest from a host whose sends flow control just blocked (Section 3.3): it asks the
    /// peers what they hold now rather than after the conversation falls quiet.
    case blocked
}
