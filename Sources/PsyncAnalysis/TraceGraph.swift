import Psync
import PsyncTrace

/// The context graph and the state of every host and participant, rebuilt from a trace's
/// records alone as they stream by: the offline counterpart of the engine's images and views.
///
/// Like the engine (see `ContextGraph`), it keeps a vector clock per message, so that "m
/// precedes m'" and "m is stable in p's view" cost one comparison per participant; images and
/// views are down-closed, so each is one sequence number per sender. Memory grows with the
/// number of messages, not with the number of records.
///
/// Messages learned from arrivals: an `arrive` record of a message the graph does not hold (no
/// `send` record so far) adds it to the graph as sent, with the arrive's predecessors and at the
/// arrive's time, and keeps it in `learned` until a `send` record of it turns up. Why: a process
/// killed with kill -9 loses its last unflushed trace frame (up to a second of records), so the
/// merged trace of a real run may lack the sends of messages that other hosts did receive.
/// Their `arrive` records are as good a witness of those messages' contexts as the sends: the
/// image of Section 3.1.3 is the same on every host (a message is attached with the
/// predecessors it was sent with, and only after them), so where the send record is lost an
/// arrive record tells the same. Receives, stability, convergence, DOT and statistics then work
/// on them as on any other message. A learned message has no send time (`sendTime` is nil: no
/// latency is invented for it). Contradictions still count: a later `send` record of it with
/// other predecessors, and an `arrive` record whose predecessors differ from the ones the graph
/// holds (from its send or an earlier arrive), make `send` and `arrive` return false. Whether a
/// message still learned at the end of a trace is a lost tail or a fault is `TraceChecker`'s
/// call (its sender's host must have crashed, in a real run). In a simulation every arrive
/// follows its send, so this never happens there.
public struct TraceGraph {
    /// The conversation's participant list (the header's), and each one's position.
    public private(set) var participants: [ParticipantID] = []
    private var position: [ParticipantID: Int] = [:]
    public var participantCount: Int { participants.count }

    /// Message -> dense index; per message: predecessors, send time (for a message in `learned`,
    /// its first arrival's: use `sendTime`), vector clock.
    private var index: [MessageID: Int] = [:]
    public private(set) var messages: [MessageID] = []
    public private(set) var predecessors: [[MessageID]] = []
    public private(set) var sendTimes: [UInt64] = []
    /// What each message carries, as its send record says (`data`, `ack`, `control`; nil if not said).
    public private(set) var contents: [String?] = []
    private var clocks: [UInt32] = []
    /// Messages known from `arrive` records only, so far: where and when the first arrive was
    /// recorded (see the type's comment). Usually empty; a killed process's lost tail otherwise.
    public private(set) var learned: [MessageID: (host: HostID?, time: UInt64)] = [:]

    /// Per host: how many of each sender's messages its image holds.
    public private(set) var images: [HostID: [UInt32]] = [:]
    /// Per participant position: how many of each sender's messages its view holds.
    public private(set) var views: [[UInt32]] = []
    /// Per participant position: the participants it masked out.
    public private(set) var masked: [Set<Int>] = []
    /// Per host: the messages in its holding queue.
    public private(set) var held: [HostID: Set<MessageID>] = [:]
    public private(set) var crashed: Set<HostID> = []
    /// Section 5: each restart, in trace order: the participant's position, and how many of its
    /// messages the graph held then (it restarted after that one).
    public private(set) var restarts: [(participant: Int, after: UInt32)] = []

    public init(participants: [ParticipantID] = []) { setParticipants(participants) }

    public mutating func setParticipants(_ list: [ParticipantID]) {
        guard participants.isEmpty, !list.isEmpty else { return }
        participants = list
        for (i, p) in list.enumerated() { position[p] = i }
        views = Array(repeating: Array(repeating: 0, count: list.count), count: list.count)
        masked = Array(repeating: [], count: list.count)
    }

    public func position(of p: ParticipantID) -> Int? { position[p] }
    public func contains(_ m: MessageID) -> Bool { index[m] != nil }
    /// When m's send was recorded; nil if it was not (unknown, or learned from an arrival).
    public func sendTime(_ m: MessageID) -> UInt64? {
        guard let k = index[m], learned.isEmpty || learned[m] == nil else { return nil }
        return sendTimes[k]
    }
    public func content(_ m: MessageID) -> String? { index[m].flatMap { contents[$0] } }
    public func predecessors(of m: MessageID) -> [MessageID]? { index[m].map { predecessors[$0] } }

    /// Whether `a` precedes `b` (both sent). O(1).
    public func precedes(_ a: MessageID, _ b: MessageID) -> Bool {
        guard a != b, let j = index[b], a.senderIndex < participantCount else { return false }
        return clocks[j * participantCount + a.senderIndex] >= a.sequence
    }

    public func inView(_ m: MessageID, of p: Int) -> Bool {
        m.senderIndex < participantCount && m.sequence <= views[p][m.senderIndex]
    }

    /// The participants other than `m`'s sender whose newest message in p's view follows m.
    public func followers(of m: MessageID, inViewOf p: Int) -> [Int] {
        (0..<participantCount).filter { q in
            q != m.senderIndex && views[p][q] > 0 && precedes(m, MessageID(sender: q, sequence: views[p][q]))
        }
    }

    /// Records a send; returns false if it contradicts the graph (an unknown predecessor, a
    /// sender out of sequence, a second send of m) or an arrival it was learned from (other
    /// predecessors; the graph keeps the arrival's).
    @discardableResult
    public mutating func send(_ m: MessageID, predecessors preds: [MessageID], at time: UInt64, content: String? = nil) -> Bool {
        if let k = index[m] {
            guard learned.removeValue(forKey: m) != nil else { return false }
            sendTimes[k] = time
            contents[k] = content
            return Self.same(predecessors[k], preds)
        }
        return add(m, predecessors: preds, at: time, content: content)
    }

    /// Records an arrival: learns m if the graph does not hold it (see the type's comment).
    /// Returns false if its predecessors differ from those the graph holds for m, or if m cannot
    /// be learned (an unknown predecessor, a sender out of sequence).
    @discardableResult
    public mutating func arrive(_ m: MessageID, predecessors preds: [MessageID], at time: UInt64, host: HostID?) -> Bool {
        if let k = index[m] { return Self.same(predecessors[k], preds) }
        guard add(m, predecessors: preds, at: time, content: nil) else { return false }
        learned[m] = (host, time)
        return true
    }

    /// Predecessor lists name the same messages (in any order).
    static func same(_ a: [MessageID], _ b: [MessageID]) -> Bool { a == b || Set(a) == Set(b) }

    private mutating func add(_ m: MessageID, predecessors preds: [MessageID], at time: UInt64, content: String?) -> Bool {
        guard index[m] == nil, m.senderIndex < participantCount else { return false }
        let n = participantCount
        var clock = [UInt32](repeating: 0, count: n)
        for p in preds {
            guard let j = index[p] else { return false }
            for q in 0..<n { clock[q] = max(clock[q], clocks[j * n + q]) }
        }
        guard clock[m.senderIndex] == m.sequence - 1 else { return false }
        clock[m.senderIndex] = m.sequence
        index[m] = messages.count
        messages.append(m)
        predecessors.append(preds)
        sendTimes.append(time)
        contents.append(content)
        clocks.append(contentsOf: clock)
        return true
    }

    public mutating func attach(_ m: MessageID, at host: HostID) {
        var image = images[host] ?? Array(repeating: 0, count: participantCount)
        if m.senderIndex < participantCount { image[m.senderIndex] = max(image[m.senderIndex], m.sequence) }
        images[host] = image
        held[host]?.remove(m)
    }

    public mutating func enterView(_ m: MessageID, of p: Int) {
        if m.senderIndex < participantCount { views[p][m.senderIndex] = max(views[p][m.senderIndex], m.sequence) }
    }

    public mutating func hold(_ m: MessageID, at host: HostID) { held[host, default: []].insert(m) }
    public mutating func unhold(_ m: MessageID, at host: HostID) { held[host]?.remove(m) }
    public mutating func crash(_ host: HostID) { crashed.insert(host) }

    /// Section 5: participant `p` restarted on `host`, which lost its memory: the host's image
    /// and holding queue start empty again (the engine rebuilds them, its `arrive` records
    /// follow), the host runs again, and `p`'s view becomes the down-closure of `leaves` (empty
    /// for re-execution).
    public mutating func restart(_ p: Int, on host: HostID, leaves: [MessageID]) {
        restarts.append((p, messages.reduce(0) { $1.senderIndex == p ? max($0, $1.sequence) : $0 }))
        crashed.remove(host)
        images[host] = Array(repeating: 0, count: participantCount)
        held[host] = []
        var view = [UInt32](repeating: 0, count: participantCount)
        for leaf in leaves where leaf.senderIndex < participantCount {
            view[leaf.senderIndex] = max(view[leaf.senderIndex], leaf.sequence)
            guard let j = index[leaf] else { continue }
            for q in 0..<participantCount { view[q] = max(view[q], clocks[j * participantCount + q]) }
        }
        views[p] = view
    }
    public mutating func mask(_ target: Int, by p: Int, out: Bool) {
        if out { masked[p].insert(target) } else { masked[p].remove(target) }
    }

    /// Section 5's records: `restart` (the host's memory is gone, the view becomes the leaves'
    /// closure), `resend_suppressed` (a re-executing participant's view grows by its own old
    /// message), `restored` (a checkpoint's view, as the engine computed it).
    mutating func applyRestart(_ kind: String, _ fields: [(String, JSONValue)], host: HostID?) {
        let field = { (k: String) in fields.first { $0.0 == k }?.1 }
        guard let p = field("p")?.string.flatMap(ParticipantID.init(label:)), let i = position(of: p) else { return }
        switch kind {
        case "restart":
            let leaves = field("leaves")?.array?.compactMap { $0.string.flatMap(MessageID.init(label:)) } ?? []
            if let host { restart(i, on: host, leaves: leaves) }
        case "resend_suppressed":
            if let m = field("mid")?.string.flatMap(MessageID.init(label:)) { enterView(m, of: i) }
        default:
            if let view = field("view")?.array?.compactMap({ $0.uint64.map { UInt32(clamping: $0) } }), view.count == participantCount {
                views[i] = view
            }
        }
    }

    /// Applies the graph-changing part of an event (sends, arrivals, receives, holds, masks,
    /// crashes). Returns false if a send or an arrival contradicts the graph.
    @discardableResult
    public mutating func apply(_ e: TraceEvent) -> Bool {
        switch e.kind {
        case .header(let h):
            setParticipants(h.participants)
        case .open(_, _, let ps, _):
            setParticipants(ps)
        case .send(_, let p, let m, let preds, _, let content):
            let ok = send(m, predecessors: preds, at: e.time, content: content)
            if let host = e.host { attach(m, at: host) }
            if let i = position(of: p) { enterView(m, of: i) }
            return ok
        case .arrive(_, let m, let preds):
            let ok = arrive(m, predecessors: preds, at: e.time, host: e.host)
            if let host = e.host { attach(m, at: host) }
            return ok
        case .receive(_, let p, let m):
            if let i = position(of: p) { enterView(m, of: i) }
        case .hold(_, let m, _):
            if let host = e.host { hold(m, at: host) }
        case .drop(let d) where DropReason(rawValue: d.reason)?.removesHeldMessage == true:
            if let host = e.host, let m = d.message { unhold(m, at: host) }
        case .maskOut(_, let p, let target), .maskIn(_, let p, let target):
            if let i = position(of: p), let t = position(of: target) {
                if case .maskOut = e.kind { mask(t, by: i, out: true) } else { mask(t, by: i, out: false) }
            }
        case .crash:
            if let host = e.host { crash(host) }
        case .other(let kind, let fields) where ["restart", "resend_suppressed", "restored"].contains(kind):
            applyRestart(kind, fields, host: e.host)
        default:
            break
        }
        return true
    }
}
