/// Everything one host keeps for one conversation: the participant list from the SC, the image
/// I_h (the context graph as far as this host knows it), the views of the local participants,
/// and the holding queue (Sections 3.1.1 and 3.1.3).
///
/// A value type: the host owns its images and mutates them in place, so the hot paths (send,
/// arrive, receive) run as plain struct code.
struct ConversationImage {
    let id: ConversationID
    /// The SC's participant list (Figure 3); position 0 opened the conversation.
    let participants: [ParticipantID]
    /// The hosts of the other participants, each once, in increasing order: where a message
    /// is sent (Section 6.2, "host-specific addresses").
    let otherHosts: [HostID]
    /// Every participant's host, sorted, for membership checks by binary search.
    let participantHosts: [HostID]
    let config: HostConfig
    var graph: ContextGraph
    /// The local participants' views, in participant-list order.
    var views: [View]
    var holding = HoldingQueue()
    /// Recovery state of `RecoveryPolicy.gaps`: open gaps, and what the peers are known to hold.
    var gaps = GapTracker()
    var peers: PeerKnowledge
    /// Section 3.3: what is reclaimable, reclaimed and blocked.
    var memory: MemoryState
    /// Where collected messages go before their buffers are freed (the host's, Section 5).
    let storage: (any StableStorage)?
    /// Jitter for request and digest timers, split from the host's seeded generator (the engine
    /// draws no unseeded number: one seed reproduces a run).
    var rng: SplitMix64

    init(id: ConversationID, participants: [ParticipantID], localHost: HostID, openedBy opener: ParticipantID?,
         config: HostConfig, rng: SplitMix64, storage: (any StableStorage)? = nil) {
        self.id = id
        self.participants = participants
        self.config = config
        participantHosts = Set(participants.map(\.host)).sorted()
        otherHosts = participantHosts.filter { $0 != localHost }
        graph = ContextGraph(participantCount: participants.count)
        peers = PeerKnowledge(participants: participants, otherHosts: otherHosts)
        memory = MemoryState(participantCount: participants.count)
        self.storage = storage
        self.rng = rng
        views = participants.indices.filter { participants[$0].host == localHost }.map {
            View(participant: $0, participantCount: participants.count,
                 state: participants[$0] == opener ? .open : .pending)
        }
    }

    var participantCount: Int { participants.count }

    func index(of pid: ParticipantID) -> ParticipantIndex? { participants.firstIndex(of: pid) }

    /// The position in `views` of a local participant's view.
    func viewSlot(of pid: ParticipantID) -> Int? {
        views.firstIndex { participants[$0.participant] == pid }
    }

    /// The position of `host` in `otherHosts`, if it is one.
    func otherHostSlot(_ host: HostID) -> Int? { Self.position(of: host, inSorted: otherHosts) }

    func isParticipantHost(_ host: HostID) -> Bool { Self.position(of: host, inSorted: participantHosts) != nil }

    /// Binary search in a sorted host list: O(log hosts).
    static func position(of host: HostID, inSorted hosts: [HostID]) -> Int? {
        var lo = 0, hi = hosts.count
        while lo < hi {
            let mid = (lo + hi) / 2
            if hosts[mid] < host { lo = mid + 1 } else { hi = mid }
        }
        return lo < hosts.count && hosts[lo] == host ? lo : nil
    }

    /// Section 3.2.4: a host discards a masked participant's messages only when every local
    /// participant has masked it out (each view keeps its own definition of P).
    func allViewsMask(_ sender: ParticipantIndex) -> Bool {
        guard !views.isEmpty else { return false }
        for v in views where !v.masked[sender] { return false }
        return true
    }

    /// Whether node `n` is outstanding and receivable in the view at `slot`: not in it, and all
    /// its predecessors in it. A participant's own messages enter its view only by `send` (in a
    /// re-execution, Section 5.2, by sending them again), and a view being restored receives
    /// nothing yet. O(in-degree).
    @inline(__always)
    func isReceivable(_ n: ContextGraph.NodeIndex, slot: Int) -> Bool {
        // Read in place: binding `views[slot]` to a constant would copy the view (a retain per
        // array it holds) on the hottest path of the engine.
        let mid = graph.mid(n)
        guard mid.senderIndex != views[slot].participant, views[slot].restoring == nil, !views[slot].contains(mid) else { return false }
        for p in graph.predecessors(n) where !views[slot].contains(p) { return false }
        return true
    }

    /// Whether `mid` is stable in `view`: every participant other than its sender in the view's
    /// definition of P has a message in the view that follows it (Section 2). A view holds a
    /// prefix of each sender's messages, and the newest one follows everything the older ones
    /// follow, so one clock comparison per participant suffices: O(participants).
    func isStable(_ mid: MessageID, slot: Int) -> Bool {
        let view = views[slot]
        guard view.contains(mid) else { return false }
        let s = mid.senderIndex
        for q in 0..<participantCount where q != s && !view.masked[q] {
            let newest = view.seen[q]
            guard graph.clock(sender: q, newest, s) >= mid.sequence else { return false }
        }
        return true
    }

    /// The participants other than `mid`'s sender whose newest message in the view follows
    /// `mid` (all participants, masked or not). O(participants).
    func followers(of mid: MessageID, slot: Int) -> [ParticipantIndex] {
        let view = views[slot]
        guard view.contains(mid) else { return [] }
        let s = mid.senderIndex
        return (0..<participantCount).filter { q in
            q != s && graph.clock(sender: q, view.seen[q], s) >= mid.sequence
        }
    }

    /// The largest n for which `mid` is n-stable in the view: one plus the number of
    /// participants other than the sender with a message in the view that follows it (3.2.3).
    func stability(of mid: MessageID, slot: Int) -> Int {
        views[slot].contains(mid) ? 1 + followers(of: mid, slot: slot).count : 0
    }

    /// The data packet that carries the message at node `n`: an SC for the root, else an AN.
    func dataPacket(_ n: ContextGraph.NodeIndex, resent: Bool, answerCut: Bool = false, payload: [UInt8]? = nil) -> Packet {
        let mid = graph.mid(n)
        let payload = payload ?? graph.payload(n)
        if mid == .root {
            return .startConversation(StartConversation(
                conversation: id, participants: participants, payload: payload, resent: resent, answerCut: answerCut))
        }
        return .addNode(AddNode(
            conversation: id, message: mid, sender: participants[mid.senderIndex],
            predecessors: Array(graph.predecessors(n)), payload: payload, resent: resent,
            answerCut: answerCut))
    }

    /// The image's frontier as messages: the newest message of each sender it holds any of.
    var frontierMessages: [MessageID] {
        (0..<participantCount).compactMap { s in
            graph.frontier(s) > 0 ? MessageID(sender: s, sequence: graph.frontier(s)) : nil
        }
    }

    /// Sends the messages at `answer` (topological order) to `host` as one retransmission
    /// answer, cut at `retransmitBatchLimit` (the last message sent then says so), and reports
    /// it. With the requester's frontier (`boundary`), reclaimed messages beyond it go first
    /// (`storedAnswer`). An empty answer sends and reports nothing.
    func transmitAnswer(_ answer: [ContextGraph.NodeIndex], to host: HostID, after boundary: [UInt32]? = nil, _ out: inout Outbox) {
        // Reclaimed messages the requester lacks come first, from stable storage: the rest
        // builds on them.
        let stored = boundary.map { storedAnswer(after: $0, limit: config.retransmitBatchLimit) } ?? []
        var nodes: [ContextGraph.NodeIndex] = []
        var payloads: [[UInt8]] = []
        var cut = stored.count == config.retransmitBatchLimit
        for n in answer where !cut {
            guard let payload = servedPayload(n) else { continue }
            if stored.count + nodes.count == config.retransmitBatchLimit {
                cut = true
                break
            }
            nodes.append(n)
            payloads.append(payload)
        }
        guard !nodes.isEmpty || !stored.isEmpty else { return }
        out.event(.retransmitAnswered(id, requester: host, messages: stored.map(\.message) + nodes.map(graph.mid), cut: cut))
        out.counters.retransmittedMessages += stored.count + nodes.count
        for (i, an) in stored.enumerated() {
            var packet = an
            packet.resent = false
            packet.answerCut = cut && nodes.isEmpty && i == stored.count - 1
            out.transmit(.addNode(packet), to: [host])
        }
        for (i, n) in nodes.enumerated() {
            out.transmit(dataPacket(n, resent: false, answerCut: cut && i == nodes.count - 1, payload: payloads[i]), to: [host])
        }
    }

    /// The payload of live node `n` as an answer carries it: from the graph, or, once freed,
    /// from stable storage if it reads back (Section 5); nil if neither has it.
    func servedPayload(_ n: ContextGraph.NodeIndex) -> [UInt8]? {
        let mid = graph.mid(n)
        return graph.isPayloadFreed(mid) ? storage?.payload(of: mid, in: id) : graph.payload(n)
    }

    /// The messages an answer to a requester whose image is `boundary` may carry, up to
    /// `limit`: freed ones too when stable storage may give them back.
    func answerable(after boundary: [UInt32], through limit: [UInt32]) -> [ContextGraph.NodeIndex] {
        graph.messages(after: boundary, through: limit, includingFreed: storage != nil)
    }
}
