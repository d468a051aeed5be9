/// One Psync host: a deterministic state machine with no clock, socket, thread or randomness
/// of its own (DESIGN.md, "sans-I/O"). A shell feeds it packets and timer expiries through
/// `handle(_:now:)`, local participants call the conversation operations of Section 2 (see
/// `Host+Conversation.swift`), and both leave `HostEffect`s for the shell to carry out.
///
/// A host keeps one image per conversation and may serve several local participants, each with
/// its own view (Section 3.1.1).
public final class Host {
    public let id: HostID
    public let config: HostConfig
    public internal(set) var counters = HostCounters()

    var conversations: [ConversationID: ConversationImage] = [:]
    /// Conversations every local participant closed: later packets for them are dropped.
    var closed: Set<ConversationID> = []
    /// Conversations whose SC named no local participant.
    var foreign: Set<ConversationID> = []
    /// Section 2: conversations started for a participant that has not called `passiveOpen`.
    var pending: [ParticipantID: [ConversationID]] = [:]
    /// Participants blocked in `passiveOpen`, with their optional deadlines.
    var openWaiters: [ParticipantID: Instant?] = [:]
    var orphans: [ConversationID: Orphans] = [:]
    var outbox: [HostEffect] = []
    /// The instant of the call being handled.
    var now = Instant.zero

    /// Data packets that arrived before their conversation's SC (Section 3.2.1).
    struct Orphans {
        var packets: [(AddNode, HostID)] = []
        var attempts = 0
    }

    public init(id: HostID, config: HostConfig = HostConfig()) {
        self.id = id
        self.config = config
    }

    /// Handles one input and returns the effects it produced.
    public func handle(_ input: HostInput, now: Instant) -> [HostEffect] {
        self.now = now
        switch input {
        case .packet(let packet, let from):
            receive(packet, from: from)
        case .datagram(let bytes, let from):
            do {
                receive(try WireCodec.decode(bytes, limits: config.wireLimits), from: from)
            } catch {
                counters.packetsReceived += 1
                drop(Drop(.malformed, from: from, detail: error.description))
            }
        case .timer(let timer):
            timerFired(timer)
        }
        return takeEffects()
    }

    /// Effects produced by conversation operations since the last call.
    public func takeEffects() -> [HostEffect] {
        defer { outbox.removeAll(keepingCapacity: true) }
        return outbox
    }

    /// Appends the effects produced since the last call to `effects`, without allocating.
    public func drainEffects(into effects: inout [HostEffect]) {
        effects.append(contentsOf: outbox)
        outbox.removeAll(keepingCapacity: true)
    }

    // MARK: Incoming packets

    func receive(_ packet: Packet, from: HostID) {
        counters.packetsReceived += 1
        switch packet {
        case .startConversation(let sc):
            receiveStart(sc, from: from)
        case .addNode(let an):
            if let image = conversations[an.conversation] {
                receiveData(an, from: from, image: image)
            } else {
                receiveOrphan(an, from: from)
            }
        case .retransmitRequest(let rr):
            answer(rr, from: from)
        case .restart(let rs):
            drop(Drop(.unsupported, conversation: rs.conversation, from: from, detail: "RS (restart) is not implemented"))
        }
    }

    /// An SC: the first message of a conversation, which creates the image (Section 3.1.2).
    func receiveStart(_ sc: StartConversation, from: HostID) {
        let cid = sc.conversation
        let root = AddNode(conversation: cid, message: .root, sender: sc.participants[0],
                           predecessors: [], payload: sc.payload, resent: sc.resent)
        if let image = conversations[cid] {
            guard image.participants == sc.participants else {
                return drop(Drop(.contradiction, conversation: cid, message: .root, from: from,
                                 detail: "SC participant list differs from the image's"))
            }
            return receiveData(root, from: from, image: image)
        }
        if closed.contains(cid) { return drop(Drop(.closedConversation, conversation: cid, from: from)) }
        if foreign.contains(cid) { return drop(Drop(.notTakingPart, conversation: cid, from: from)) }
        guard sc.participants.contains(where: { $0.host == from }) else {
            return drop(Drop(.nonParticipant, conversation: cid, message: .root, from: from))
        }
        let locals = sc.participants.filter { $0.host == id }
        guard !locals.isEmpty else {
            foreign.insert(cid)
            for (an, source) in orphans.removeValue(forKey: cid)?.packets ?? [] {
                drop(Drop(.notTakingPart, conversation: cid, message: an.message, from: source))
            }
            return drop(Drop(.notTakingPart, conversation: cid, message: .root, from: from))
        }
        // Section 3.3: a bounded number of pending conversations per participant.
        let hasRoom = locals.contains { openWaiters[$0] != nil || (pending[$0]?.count ?? 0) < config.pendingConversationLimit }
        guard hasRoom else { return drop(Drop(.pendingLimit, conversation: cid, from: from)) }
        let image = ConversationImage(id: cid, participants: sc.participants, localHost: id, openedBy: nil)
        conversations[cid] = image
        receiveData(root, from: from, image: image)
        for (an, source) in orphans.removeValue(forKey: cid)?.packets ?? [] {
            receiveData(an, from: source, image: image)
        }
    }

    /// A data message (the root from an SC, or an AN) for a known conversation.
    func receiveData(_ an: AddNode, from: HostID, image: ConversationImage) {
        let mid = an.message
        let cid = image.id
        guard image.participantHosts.contains(from), mid.senderIndex < image.participantCount,
              image.participants[mid.senderIndex] == an.sender
        else { return drop(Drop(.nonParticipant, conversation: cid, message: mid, from: from)) }
        guard an.predecessors.count <= image.participantCount,
              an.predecessors.allSatisfy({ $0.senderIndex < image.participantCount })
        else { return drop(Drop(.contradiction, conversation: cid, message: mid, from: from, detail: "predecessor outside the participant list")) }
        if let n = image.graph.index(of: mid) {
            // Section 3.2.2: a host that already has a resent message answers with its successors.
            if an.resent { resendSuccessors(of: n, in: image, to: from) }
            return drop(Drop(.duplicate, conversation: cid, message: mid, from: from))
        }
        if image.holding.contains(mid) { return drop(Drop(.duplicate, conversation: cid, message: mid, from: from)) }
        if image.allViewsMask(mid.senderIndex) && !image.holding.isAwaited(mid) {
            return drop(Drop(.masked, conversation: cid, message: mid, from: from))
        }
        let missing = HoldingQueue.missing(of: an, in: image.graph)
        guard missing.isEmpty else { return hold(an, missing: missing, from: from, image: image) }
        attach(an, from: from, image: image)
    }

    /// Attaches a message whose predecessors are present, then every held message that this
    /// releases (Section 3.1.3), iteratively.
    func attach(_ first: AddNode, from: HostID, image: ConversationImage) {
        var work = [first]
        while let an = work.popLast() {
            if let c = image.graph.validate(an.message, predecessors: an.predecessors) {
                drop(Drop(.contradiction, conversation: image.id, message: an.message, from: from, detail: "\(c)"))
                continue
            }
            let n = image.graph.insert(an.message, predecessors: an.predecessors, payload: an.payload)
            counters.messagesAttached += 1
            if config.reportsEvents { outbox.append(.event(.arrive(image.id, an.message, predecessors: an.predecessors))) }
            for slot in image.views.indices where allPredecessorsInView(n, image.views[slot], image.graph) {
                makeReceivable(n, slot: slot, image: image)
            }
            if an.message == .root { announce(image) }
            for entry in image.holding.attached(an.message) {
                if config.reportsEvents { outbox.append(.event(.release(image.id, entry.packet.message))) }
                work.append(entry.packet)
            }
        }
    }

    func allPredecessorsInView(_ n: ContextGraph.NodeIndex, _ view: View, _ graph: ContextGraph) -> Bool {
        for p in graph.predecessors(n) where !view.contains(graph.mids[Int(p)]) { return false }
        return !view.contains(graph.mids[Int(n)])
    }

    /// Node `n` became receivable in a view: queue it, and wake a waiting `receive`.
    func makeReceivable(_ n: ContextGraph.NodeIndex, slot: Int, image: ConversationImage) {
        image.views[slot].ready.push(n)
        if image.views[slot].state == .open, image.views[slot].receiveWaiter != nil {
            image.views[slot].receiveWaiter = nil
            outbox.append(.messageAvailable(image.id, image.participants[image.views[slot].participant]))
        }
    }

    /// The root is in the image: local participants waiting in `passiveOpen` are opened,
    /// the others have one more pending conversation (Section 2).
    func announce(_ image: ConversationImage) {
        for slot in image.views.indices where image.views[slot].state == .pending {
            let pid = image.participants[image.views[slot].participant]
            if openWaiters.removeValue(forKey: pid) != nil {
                image.views[slot].state = .open
                outbox.append(.opened(image.id, pid))
            } else {
                pending[pid, default: []].append(image.id)
            }
        }
    }

    func drop(_ d: Drop) {
        counters.drops[d.reason, default: 0] += 1
        if config.reportsEvents { outbox.append(.event(.drop(d))) }
    }

    func transmit(_ packet: Packet, to hosts: [HostID]) {
        guard !hosts.isEmpty else { return }
        counters.packetsSent += hosts.count
        outbox.append(.transmit(packet, to: hosts))
    }
}
