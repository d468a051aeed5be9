/// One Psync host: a deterministic state machine with no clock, socket, thread or randomness
/// of its own (DESIGN.md, "sans-I/O"). A shell feeds it packets and timer expiries through
/// `handle(_:now:)`, local participants call the conversation operations of Section 2 (see
/// `Host+Conversation.swift`), and both leave `HostEffect`s for the shell to carry out.
///
/// A host keeps one image per conversation and may serve several local participants, each with
/// its own view (Section 3.1.1). The per-conversation protocol lives in `ConversationImage`;
/// the host routes packets to images and handles what precedes an image: the SC, data packets
/// that arrive before it, pending conversations and participants waiting in `passiveOpen`.
public final class Host {
    public let id: HostID
    public let config: HostConfig
    public var counters: HostCounters { outbox.counters }

    var images: [ConversationImage?] = []
    var slotOf: [ConversationID: Int] = [:]
    /// The last conversation looked up: most hosts serve one conversation at a time, and this
    /// saves the hash on every operation.
    var cached: (ConversationID, Int)?
    /// Conversations every local participant closed: later packets for them are dropped.
    var closed: Set<ConversationID> = []
    /// Conversations whose SC named no local participant.
    var foreign: Set<ConversationID> = []
    /// Section 2: conversations started for a participant that has not called `passiveOpen`.
    var pending: [ParticipantID: [ConversationID]] = [:]
    /// Participants blocked in `passiveOpen`, with their optional deadlines.
    var openWaiters: [ParticipantID: Instant?] = [:]
    var orphans: [ConversationID: Orphans] = [:]
    var outbox: Outbox
    /// The host's seeded generator: each image takes a generator split from it, for the jitter
    /// of its timers. The engine draws no other random number.
    var rng: SplitMix64
    /// Where collected messages go before their buffers are freed (Section 5's log); nil frees.
    let storage: (any StableStorage)?

    /// Data packets that arrived before their conversation's SC (Section 3.2.1), and digests
    /// for it (`.gaps`): both say the conversation exists and who can send its root.
    struct Orphans {
        var packets: [(AddNode, HostID)] = []
        var digests: [(FrontierRequest, HostID)] = []
        var attempts = 0

        /// Who is asked: every host that sent a packet for the conversation.
        var sources: [HostID] { Set(packets.map(\.1) + digests.map(\.1)).sorted() }
        /// What is asked for (`.gaps`): the newest message of each sender they named.
        var wanted: [MessageID] {
            ConversationImage.newestPerSender(packets.map(\.0.message) + digests.flatMap(\.0.frontier))
        }
    }

    /// A host with identity `id`. `seed` seeds the jitter of its recovery timers; hosts of one
    /// conversation should have different seeds (the default derives it from `id`).
    /// `storage` receives every message once it is collected, before its buffer is freed
    /// (Sections 3.3 and 5).
    public init(id: HostID, config: HostConfig = HostConfig(), seed: UInt64? = nil, storage: (any StableStorage)? = nil) {
        self.id = id
        self.config = config
        self.storage = storage
        outbox = Outbox(reportsEvents: config.reportsEvents)
        rng = SplitMix64(seed: seed ?? UInt64(id.rawValue) &* 0x9E37_79B9_7F4A_7C15)
    }

    /// Handles one input and returns the effects it produced (and any left by earlier calls
    /// to the conversation operations).
    public func handle(_ input: HostInput, now: Instant) -> [HostEffect] {
        process(input, now: now)
        return takeEffects()
    }

    /// Handles one input and appends the effects to `effects`, reusing the caller's buffer.
    public func handle(_ input: HostInput, now: Instant, into effects: inout [HostEffect]) {
        process(input, now: now)
        drainEffects(into: &effects)
    }

    /// Effects produced by conversation operations since the last call.
    /// Participants to wake (`.opened`, `.messageAvailable`) come after the other effects.
    public func takeEffects() -> [HostEffect] {
        var taken: [HostEffect] = []
        swap(&taken, &outbox.effects)
        // One allocation for the next call's effects instead of a series of regrowths.
        outbox.effects.reserveCapacity(max(8, taken.count))
        outbox.drain(into: &taken)
        return taken
    }

    /// Appends the effects produced since the last call to `effects`, wake-ups last.
    public func drainEffects(into effects: inout [HostEffect]) {
        outbox.drain(into: &effects)
    }

    func process(_ input: HostInput, now: Instant) {
        switch input {
        case .packet(let packet, let from):
            receive(packet, from: from, now: now)
        case .datagram(let bytes, let from):
            do {
                receive(try WireCodec.decode(bytes, limits: config.wireLimits), from: from, now: now)
            } catch {
                outbox.counters.packetsReceived += 1
                outbox.drop(Drop(.malformed, from: from, detail: error.description))
            }
        case .timer(let timer):
            timerFired(timer, now: now)
        }
    }

    func slot(of cid: ConversationID) -> Int? {
        if let (c, i) = cached, c == cid { return i }
        guard let i = slotOf[cid] else { return nil }
        cached = (cid, i)
        return i
    }

    // MARK: Incoming packets

    func receive(_ packet: Packet, from: HostID, now: Instant) {
        outbox.counters.packetsReceived += 1
        switch packet {
        case .startConversation(let sc):
            receiveStart(sc, from: from, now: now)
        case .addNode(let an):
            if let i = slot(of: an.conversation) {
                if images[i]!.receiveData(an, from: from, now: now, &outbox) { announce(i, now: now) }
            } else {
                receiveOrphan(an, from: from, now: now)
            }
        case .retransmitRequest(let rr):
            if let i = slot(of: rr.conversation) {
                images[i]!.answer(rr, from: from, &outbox)
            } else {
                dropRequestForUnknown(rr.conversation, from: from)
            }
        case .frontierRequest(let fr):
            if let i = slot(of: fr.conversation) {
                images[i]!.receiveFrontierRequest(fr, from: from, now: now, &outbox)
                // It stated what its sender holds: Section 3.3's knowledge may have grown.
                images[i]!.collect(&outbox)
            } else if fr.isDigest, !closed.contains(fr.conversation), !foreign.contains(fr.conversation) {
                receiveOrphanDigest(fr, from: from, now: now)
            } else {
                dropRequestForUnknown(fr.conversation, from: from)
            }
        case .restart(let rs):
            if let i = slot(of: rs.conversation) {
                images[i]!.receiveRestart(rs, from: from, localHost: id, &outbox)
            } else {
                dropRequestForUnknown(rs.conversation, from: from)
            }
        }
    }

    func dropRequestForUnknown(_ cid: ConversationID, from: HostID) {
        outbox.drop(Drop(closed.contains(cid) ? .closedConversation : .unknownConversation, conversation: cid, from: from))
    }

    /// An SC: the first message of a conversation, which creates the image (Section 3.1.2).
    func receiveStart(_ sc: StartConversation, from: HostID, now: Instant) {
        let cid = sc.conversation
        let root = AddNode(conversation: cid, message: .root, sender: sc.participants[0],
                           predecessors: [], payload: sc.payload, resent: sc.resent)
        if let i = slot(of: cid) {
            guard images[i]!.participants == sc.participants else {
                return outbox.drop(Drop(.contradiction, conversation: cid, message: .root, from: from,
                                        detail: "SC participant list differs from the image's"))
            }
            if images[i]!.receiveData(root, from: from, now: now, &outbox) { announce(i, now: now) }
            return
        }
        if closed.contains(cid) { return outbox.drop(Drop(.closedConversation, conversation: cid, from: from)) }
        if foreign.contains(cid) { return outbox.drop(Drop(.notTakingPart, conversation: cid, from: from)) }
        guard sc.participants.contains(where: { $0.host == from }) else {
            return outbox.drop(Drop(.nonParticipant, conversation: cid, message: .root, from: from))
        }
        let locals = sc.participants.filter { $0.host == id }
        guard !locals.isEmpty else {
            foreign.insert(cid)
            for (an, source) in orphans.removeValue(forKey: cid)?.packets ?? [] {
                outbox.drop(Drop(.notTakingPart, conversation: cid, message: an.message, from: source))
            }
            return outbox.drop(Drop(.notTakingPart, conversation: cid, message: .root, from: from))
        }
        // Section 3.3: a bounded number of pending conversations per participant.
        let hasRoom = locals.contains { openWaiters[$0] != nil || (pending[$0]?.count ?? 0) < config.pendingConversationLimit }
        guard hasRoom else { return outbox.drop(Drop(.pendingLimit, conversation: cid, from: from)) }
        let i = addImage(ConversationImage(id: cid, participants: sc.participants, localHost: id, openedBy: nil,
                                           config: config, rng: rng.split(), storage: storage))
        if images[i]!.receiveData(root, from: from, now: now, &outbox) { announce(i, now: now) }
        for (an, source) in orphans.removeValue(forKey: cid)?.packets ?? [] {
            if images[i]!.receiveData(an, from: source, now: now, &outbox) { announce(i, now: now) }
        }
    }

    func addImage(_ image: ConversationImage) -> Int {
        let i = images.count
        images.append(image)
        slotOf[image.id] = i
        return i
    }

    /// The root is in the image: local participants waiting in `passiveOpen` are opened,
    /// the others have one more pending conversation (Section 2).
    func announce(_ i: Int, now: Instant) {
        let cid = images[i]!.id
        for slot in images[i]!.views.indices where images[i]!.views[slot].state == .pending {
            let pid = images[i]!.participants[images[i]!.views[slot].participant]
            if openWaiters.removeValue(forKey: pid) != nil {
                images[i]!.views[slot].state = .open
                images[i]!.pullAfterPending(now: now, &outbox)
                outbox.event(.open(cid, pid, participants: images[i]!.participants, active: false))
                outbox.wake(.opened(cid, pid))
            } else {
                pending[pid, default: []].append(cid)
            }
        }
    }

    /// An AN for a conversation whose SC has not arrived (it was lost): keep it, bounded, and ask
    /// its source for the root with an empty leaf set (Section 3.2.1).
    func receiveOrphan(_ an: AddNode, from: HostID, now: Instant) {
        let cid = an.conversation
        if closed.contains(cid) { return outbox.drop(Drop(.closedConversation, conversation: cid, message: an.message, from: from)) }
        if foreign.contains(cid) { return outbox.drop(Drop(.notTakingPart, conversation: cid, message: an.message, from: from)) }
        guard orphanRoom() else {
            return outbox.drop(Drop(.orphanQueueFull, conversation: cid, message: an.message, from: from))
        }
        let isFirst = orphans[cid] == nil
        orphans[cid, default: Orphans()].packets.append((an, from))
        if isFirst { requestRoot(cid, now: now) }
    }

    /// A digest for a conversation whose SC has not arrived (`.gaps`): a host that lost the SC
    /// and everything after it learns of the conversation only this way. Kept like an orphan.
    func receiveOrphanDigest(_ fr: FrontierRequest, from: HostID, now: Instant) {
        guard orphanRoom() else { return outbox.drop(Drop(.orphanQueueFull, conversation: fr.conversation, from: from)) }
        let isFirst = orphans[fr.conversation] == nil
        orphans[fr.conversation, default: Orphans()].digests.append((fr, from))
        if isFirst { requestRoot(fr.conversation, now: now) }
    }

    /// Section 3.3's bound on what is kept for conversations whose SC is missing.
    func orphanRoom() -> Bool {
        orphans.values.reduce(0) { $0 + $1.packets.count + $1.digests.count } < config.orphanPacketLimit
    }

    /// Asks every host that sent an orphan of `cid` for the conversation from its root: with an
    /// empty leaf set (`.paper`, Section 3.2.1) or an empty frontier (`.gaps`).
    func requestRoot(_ cid: ConversationID, now: Instant) {
        guard var entry = orphans[cid] else { return }
        entry.attempts += 1
        orphans[cid] = entry
        let sources = entry.sources
        outbox.counters.retransmitRequestsSent += sources.count
        switch config.recovery {
        case .paper:
            let request = RetransmitRequest(conversation: cid, message: entry.packets.first?.0.message, leaves: [])
            outbox.event(.retransmitRequested(request, to: sources, broadcast: sources.count > 1))
            outbox.transmit(.retransmitRequest(request), to: sources)
        case .gaps:
            let request = FrontierRequest(conversation: cid, frontier: [], wanted: entry.wanted)
            outbox.event(.frontierRequested(request, to: sources, reason: .orphan))
            outbox.transmit(.frontierRequest(request), to: sources)
        }
        outbox.setTimer(.orphan(cid), now.adding(nanoseconds: config.backoff(afterRequests: entry.attempts, &rng)))
    }

    // MARK: Timers

    func timerFired(_ timer: TimerID, now: Instant) {
        switch timer {
        case .hold(let cid, let mid):
            if let i = slot(of: cid) { images[i]!.holdTimerFired(mid, now: now, &outbox) }
        case .recovery(let cid):
            if let i = slot(of: cid) { images[i]!.recoveryTimerFired(now: now, &outbox) }
        case .digest(let cid):
            if let i = slot(of: cid) { images[i]!.digestTimerFired(now: now, &outbox) }
        case .orphan(let cid):
            guard let entry = orphans[cid] else { return }
            if entry.attempts < config.requestAttempts {
                return requestRoot(cid, now: now)
            }
            orphans[cid] = nil
            for (an, source) in entry.packets {
                outbox.drop(Drop(.unknownConversation, conversation: cid, message: an.message, from: source,
                                 detail: "the SC never arrived"))
            }
            for (_, source) in entry.digests {
                outbox.drop(Drop(.unknownConversation, conversation: cid, from: source, detail: "the SC never arrived (digest)"))
            }
        case .passiveOpen(let pid):
            if let deadline = openWaiters[pid], let d = deadline, d <= now {
                openWaiters[pid] = nil
                outbox.effects.append(.timedOut(timer))
            }
        case .receive(let cid, let pid):
            guard let i = slot(of: cid), let v = images[i]!.viewSlot(of: pid),
                  let waiter = images[i]!.views[v].receiveWaiter, let d = waiter, d <= now else { return }
            images[i]!.views[v].receiveWaiter = nil
            outbox.effects.append(.timedOut(timer))
        }
    }
}
