/// Recovery from lost messages and failed hosts: the holding-queue timers and retransmission
/// requests of Sections 3.2.1 and 3.2.3, the answers to them, and the successors a host resends
/// when it receives a resent message it already has (Section 3.2.2).
extension Host {
    /// Puts a message whose predecessors are missing in the holding queue, with a timer.
    func hold(_ an: AddNode, missing: [MessageID], from: HostID, image: ConversationImage) {
        guard image.holding.count < config.holdingQueueLimit else {
            return drop(Drop(.holdingQueueFull, conversation: image.id, message: an.message, from: from))
        }
        let deadline = now.adding(nanoseconds: config.holdTimeoutNanoseconds)
        image.holding.hold(an, from: from, missing: missing, deadline: deadline)
        if config.reportsEvents { outbox.append(.event(.hold(image.id, an.message, missing: missing))) }
        outbox.append(.setTimer(.hold(image.id, an.message), deadline: deadline))
    }

    func timerFired(_ timer: TimerID) {
        switch timer {
        case .hold(let cid, let mid):
            if let image = conversations[cid] { holdTimerFired(mid, image: image) }
        case .orphan(let cid):
            orphanTimerFired(cid)
        case .passiveOpen(let pid):
            if let deadline = openWaiters[pid], let d = deadline, d <= now {
                openWaiters[pid] = nil
                outbox.append(.timedOut(timer))
            }
        case .receive(let cid, let pid):
            guard let image = conversations[cid], let slot = image.viewSlot(of: pid),
                  let waiter = image.views[slot].receiveWaiter, let d = waiter, d <= now else { return }
            image.views[slot].receiveWaiter = nil
            outbox.append(.timedOut(timer))
        }
    }

    /// The escalation of Sections 3.2.1 and 3.2.3: ask the host the held message came from
    /// ("guaranteed to have m'"), then, if it does not answer, every host; then discard.
    func holdTimerFired(_ mid: MessageID, image: ConversationImage) {
        guard var entry = image.holding[mid], entry.deadline <= now else { return }
        let next: HoldingQueue.Stage
        switch entry.stage {
        case .waiting:
            next = .askedSource(attempt: 1)
        case .askedSource(let k):
            next = k < config.sourceRequestAttempts ? .askedSource(attempt: k + 1) : .broadcast(attempt: 1)
        case .broadcast(let k):
            guard k < config.broadcastRequestAttempts else {
                _ = image.holding.discard(mid, graph: image.graph)
                return drop(Drop(.discardedAfterFailedRequest, conversation: image.id, message: mid, from: entry.from))
            }
            next = .broadcast(attempt: k + 1)
        }
        let request = RetransmitRequest(conversation: image.id, message: mid, leaves: image.graph.leaves)
        let broadcast: Bool
        if case .broadcast = next { broadcast = true } else { broadcast = false }
        let destinations = broadcast ? image.otherHosts : [entry.from]
        entry.stage = next
        entry.deadline = now.adding(nanoseconds: config.retransmitTimeoutNanoseconds)
        image.holding[mid] = entry
        counters.retransmitRequestsSent += destinations.count
        if config.reportsEvents {
            outbox.append(.event(.retransmitRequested(request, to: destinations, broadcast: broadcast)))
        }
        transmit(.retransmitRequest(request), to: destinations)
        outbox.append(.setTimer(.hold(image.id, mid), deadline: entry.deadline))
    }

    /// Answers a retransmission request with every message "between the leaf set and the
    /// out-of-order message, exclusive" (Section 3.2.1). The requester's image is the
    /// down-closure of its leaves, which per sender is a sequence number, so the answer is a
    /// set of per-sender ranges: no graph search. A host that lacks the named message (a
    /// broadcast request, Section 3.2.3) answers with everything after the leaves, bounded by
    /// `retransmitBatchLimit`.
    func answer(_ rr: RetransmitRequest, from: HostID) {
        let cid = rr.conversation
        guard let image = conversations[cid] else {
            return drop(Drop(closed.contains(cid) ? .closedConversation : .unknownConversation, conversation: cid, from: from))
        }
        guard image.participantHosts.contains(from) else {
            return drop(Drop(.nonParticipant, conversation: cid, from: from, detail: "retransmission request"))
        }
        let graph = image.graph
        var boundary = [UInt32](repeating: 0, count: image.participantCount)
        for leaf in rr.leaves {
            guard leaf.senderIndex < image.participantCount else {
                return drop(Drop(.contradiction, conversation: cid, from: from, detail: "leaf \(leaf) outside the participant list"))
            }
            if let n = graph.index(of: leaf) {
                for q in 0..<image.participantCount { boundary[q] = max(boundary[q], graph.clock(n, q)) }
            } else {
                boundary[leaf.senderIndex] = max(boundary[leaf.senderIndex], leaf.sequence)
            }
        }
        let target = rr.message.flatMap { graph.index(of: $0) }
        let nodes = graph.messages(after: boundary, before: target).prefix(config.retransmitBatchLimit)
        if config.reportsEvents {
            outbox.append(.event(.retransmitAnswered(cid, requester: from, messages: nodes.map { graph.mids[Int($0)] })))
        }
        counters.retransmittedMessages += nodes.count
        for n in nodes { transmit(image.dataPacket(n, resent: false), to: [from]) }
    }

    /// Section 3.2.2: on a resent copy of a message it has, a host "resends all the messages in
    /// its image that are immediate successors of the duplicate message", to the resending host.
    func resendSuccessors(of n: ContextGraph.NodeIndex, in image: ConversationImage, to host: HostID) {
        var successors: [ContextGraph.NodeIndex] = []
        image.graph.forEachSuccessor(n) { successors.append($0) }
        successors.sort()
        if config.reportsEvents {
            outbox.append(.event(.resentSuccessors(image.id, of: image.graph.mids[Int(n)],
                                                   successors: successors.map { image.graph.mids[Int($0)] }, to: host)))
        }
        counters.retransmittedMessages += successors.count
        for s in successors { transmit(image.dataPacket(s, resent: false), to: [host]) }
    }

    /// An AN for a conversation whose SC has not arrived (it was lost): keep it, bounded, and ask
    /// its source for the root with an empty leaf set (Section 3.2.1).
    func receiveOrphan(_ an: AddNode, from: HostID) {
        let cid = an.conversation
        if closed.contains(cid) { return drop(Drop(.closedConversation, conversation: cid, message: an.message, from: from)) }
        if foreign.contains(cid) { return drop(Drop(.notTakingPart, conversation: cid, message: an.message, from: from)) }
        let total = orphans.values.reduce(0) { $0 + $1.packets.count }
        guard total < config.orphanPacketLimit else {
            return drop(Drop(.orphanQueueFull, conversation: cid, message: an.message, from: from))
        }
        let isFirst = orphans[cid] == nil
        orphans[cid, default: Orphans()].packets.append((an, from))
        if isFirst { requestRoot(cid) }
    }

    func orphanTimerFired(_ cid: ConversationID) {
        guard let entry = orphans[cid] else { return }
        if entry.attempts < config.sourceRequestAttempts + config.broadcastRequestAttempts {
            return requestRoot(cid)
        }
        orphans[cid] = nil
        for (an, source) in entry.packets {
            drop(Drop(.unknownConversation, conversation: cid, message: an.message, from: source,
                      detail: "the SC never arrived"))
        }
    }

    /// Asks every host that sent an orphan of `cid` for the conversation from its root.
    func requestRoot(_ cid: ConversationID) {
        guard var entry = orphans[cid] else { return }
        entry.attempts += 1
        orphans[cid] = entry
        let sources = Set(entry.packets.map(\.1)).sorted()
        let request = RetransmitRequest(conversation: cid, message: entry.packets[0].0.message, leaves: [])
        counters.retransmitRequestsSent += sources.count
        if config.reportsEvents {
            outbox.append(.event(.retransmitRequested(request, to: sources, broadcast: sources.count > 1)))
        }
        transmit(.retransmitRequest(request), to: sources)
        outbox.append(.setTimer(.orphan(cid), deadline: now.adding(nanoseconds: config.retransmitTimeoutNanoseconds)))
    }
}
