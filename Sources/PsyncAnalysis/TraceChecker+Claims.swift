import Psync
import PsyncFilters
import PsyncTrace

/// The checks that make `psync trace check` stand alone (issue 15): a real run's trace cannot be
/// re-simulated, so every claim a record makes is verified against the graph and the other
/// records, not against a re-run.
///
/// - Sends (Section 2): at the sender's host; every predecessor in the sender's view; no
///   predecessor preceding another (the graph stays a transitive reduction); nothing the sender
///   had received left out of the context.
/// - Receives: at the participant's host, of a message that arrived there.
/// - Hosts: a simulated host's records never go back in time, and a crashed host records nothing until it
///   restarts (Section 5) but the packets dropped because it is down.
/// - Deliveries: of messages in the participant's view; in context order for every filter that
///   promises causal order; the same sequence (each a prefix of the longest) for every filter
///   that promises a total order, and at the end the same length among the participants still
///   running.
/// - Waves and commits: numbered in sequence; wave k holds the same messages at every
///   participant, all in the recorder's view, its `stable` message among them; commit k is the
///   same message everywhere.
///
/// A participant a membership filter removed (a `remove` record not followed by `readmit`) is
/// held to the top filter's order as a prefix only: the others discarded what it sent after its
/// removal's cut, so the filters below it ordered a graph they do not have.
extension TraceChecker {
    mutating func checkHostTime(_ e: TraceEvent) {
        guard let h = e.host else { return }
        // (A process's records may be stamped a few microseconds out of order: see TraceReader.)
        if !realRun, let last = hostTimes[h], e.time < last {
            flag("time", "\(h) records t=\(e.time) after t=\(last)", at: e.time)
        }
        hostTimes[h] = max(hostTimes[h] ?? 0, e.time)
        guard graph.crashed.contains(h) else { return }
        switch e.kind {
        case .crash, .end, .other("restart", _):
            break
        case .drop(let d) where d.reason == DropReason.crashed.rawValue:
            break
        default:
            flag("nothing after a crash", "\(h) records \(e.kind.name) after its crash", at: e.time)
        }
    }

    mutating func checkSendContext(_ p: ParticipantID, _ m: MessageID, _ preds: [MessageID], host: HostID?, at t: UInt64) {
        guard let i = graph.position(of: p) else { return flag("send", "\(p) is not a participant", at: t) }
        if let host, host != p.host { flag("send", "\(p) sent \(m) at \(host), not at its own host", at: t) }
        for x in preds where !graph.inView(x, of: i) && graph.contains(x) {
            flag("send in context", "\(p) sent \(m) in the context of \(x), which it never received", at: t)
        }
        for x in preds {
            if let y = preds.first(where: { graph.precedes(x, $0) }) {
                flag("transitive reduction", "\(m)'s edge from \(x) is redundant: \(x) precedes \(y)", at: t)
            }
        }
        // Section 2: a message is sent in the context of everything its sender has received.
        for q in 0..<graph.participantCount where q != i && graph.views[i][q] > 0 {
            let seen = MessageID(sender: q, sequence: graph.views[i][q])
            if !preds.contains(where: { $0 == seen || graph.precedes(seen, $0) }) {
                flag("send in context", "\(p) sent \(m) without \(seen), which it had received, in its context", at: t)
            }
        }
    }

    mutating func checkReceiveHost(_ p: ParticipantID, _ m: MessageID, host: HostID?, at t: UInt64) {
        guard let host, graph.position(of: p) != nil else { return }
        if host != p.host { return flag("receive", "\(p) received \(m) at \(host), not at its own host", at: t) }
        let held = graph.images[host].map { m.senderIndex < $0.count ? $0[m.senderIndex] : 0 } ?? 0
        if held < m.sequence {
            flag("receive after arrival", "\(p) received \(m) before it arrived at \(host)", at: t)
        }
    }

    /// Keeps `wave`, `commit`, `remove` and `readmit` records for the checks at the end; a wave's
    /// messages must be in the recorder's view when it records it.
    mutating func keepClaim(_ kind: String, _ fields: [(String, JSONValue)], at t: UInt64) {
        let field = { (k: String) in fields.first { $0.0 == k }?.1 }
        let mid = { (v: JSONValue?) in v?.string.flatMap(MessageID.init(label:)) }
        guard let filter = field("filter")?.string, let p = field("p")?.string.flatMap(ParticipantID.init(label:)) else { return }
        switch kind {
        case "wave":
            guard let n = field("wave")?.int, let mids = field("mids")?.array?.compactMap(mid) else {
                return flag("\(filter): wave", "\(p) records a wave without its number or messages", at: t)
            }
            // (Counted, then appended in place: a copy of the list per record would be quadratic.)
            let count = waves[filter]?[p]?.count ?? 0
            if n != count + 1 { flag("\(filter): wave", "\(p) records wave \(n) after wave \(count)", at: t) }
            if let i = graph.position(of: p) {
                for m in mids where !graph.inView(m, of: i) { flag("\(filter): wave", "\(p)'s wave \(n) holds \(m), which is not in its view", at: t) }
            }
            if let stable = mid(field("stable")), !mids.contains(stable) {
                flag("\(filter): wave", "\(p)'s wave \(n) is committed by \(stable), which is not in it", at: t)
            }
            waves[filter, default: [:]][p, default: []].append((mids, t))
        case "commit":
            guard let n = field("commit")?.int, let m = mid(field("mid")) else {
                return flag("\(filter): commit", "\(p) records a commit without its number or message", at: t)
            }
            let count = commits[filter]?[p]?.count ?? 0
            if n != count + 1 { flag("\(filter): commit", "\(p) records commit \(n) after commit \(count)", at: t) }
            commits[filter, default: [:]][p, default: []].append((m, t))
        default:
            guard let target = field("target")?.string.flatMap(ParticipantID.init(label:)) else { return }
            if kind == "remove" { removed.insert(target) } else { removed.remove(target) }
        }
    }

    /// The guarantees of a filter the registry knows (none for one it does not).
    static func guarantees(of filter: String) -> Set<FilterGuarantee> {
        (try? FilterRegistry.make(filter).guarantees) ?? []
    }

    /// Whether `p`'s sequences of `filter` are held to the others': always, unless membership
    /// removed `p` and `filter` is below the top of the stack.
    func heldToOrder(_ p: ParticipantID, _ filter: String) -> Bool {
        !removed.contains(p) || filter == stack.last
    }

    /// At the end of a complete trace: every total-order filter delivered as many messages at
    /// every participant of `running`.
    mutating func checkOrdersAtTheEnd(running: Set<ParticipantID>) {
        for (filter, byParticipant) in deliveries.sorted(by: { $0.key < $1.key }) where Self.guarantees(of: filter).contains(.totalOrder) {
            let counts = running.sorted().map { ($0, byParticipant[$0]?.count ?? 0) }
            if Set(counts.map(\.1)).count > 1 {
                flag("\(filter): total order at the end", "participants delivered different counts: "
                     + counts.map { "\($0.0) \($0.1)" }.joined(separator: ", "), at: 0)
            }
        }
    }

    /// The order claims, complete trace or not: total orders, causal deliveries, waves, commits.
    mutating func checkClaimedOrders() {
        for (filter, byParticipant) in deliveries.sorted(by: { $0.key < $1.key }) {
            let guarantees = Self.guarantees(of: filter)
            if guarantees.contains(.totalOrder) {
                checkSameSequence(filter, "total order", byParticipant.filter { heldToOrder($0.key, filter) })
            }
            if guarantees.contains(.causal) {
                for (p, sequence) in byParticipant.sorted(by: { $0.key < $1.key }) { checkCausal(filter, p, sequence) }
            }
        }
        for (filter, byParticipant) in waves.sorted(by: { $0.key < $1.key }) {
            let sets = byParticipant.filter { heldToOrder($0.key, filter) }.mapValues { $0.map { (Set($0.mids), $0.time) } }
            checkSameSequence(filter, "waves", sets)
        }
        for (filter, byParticipant) in commits.sorted(by: { $0.key < $1.key }) {
            checkSameSequence(filter, "commits", byParticipant.filter { heldToOrder($0.key, filter) })
        }
    }

    /// Every participant's sequence is a prefix of the longest; otherwise each one that is not
    /// is named with where it first differs from it.
    mutating func checkSameSequence<T: Equatable>(_ filter: String, _ what: String, _ byParticipant: [ParticipantID: [(T, UInt64)]]) {
        guard let (owner, longest) = byParticipant.max(by: { ($0.value.count, $1.key) < ($1.value.count, $0.key) }) else { return }
        for (p, sequence) in byParticipant.sorted(by: { $0.key < $1.key }) {
            guard let k = sequence.indices.first(where: { sequence[$0].0 != longest[$0].0 }) else { continue }
            flag("\(filter): \(what)", "\(p) and \(owner) differ at position \(k + 1): \(sequence[k].0) vs \(longest[k].0)", at: sequence[k].1)
        }
    }

    /// No message delivered before a predecessor that the same filter delivered there later.
    /// Over the graph in send order (every message after its predecessors), `latest[k]` is the
    /// latest delivery position among message k and its ancestors, with the message delivered
    /// there: O(edges) per participant.
    mutating func checkCausal(_ filter: String, _ p: ParticipantID, _ sequence: [(MessageID, UInt64)]) {
        var position: [MessageID: Int] = [:]
        for (k, (m, _)) in sequence.enumerated() where position[m] == nil { position[m] = k }
        var latest: [MessageID: (Int, MessageID)] = [:]
        for (k, m) in graph.messages.enumerated() {
            var above: (Int, MessageID)? = nil
            for x in graph.predecessors[k] {
                if let l = latest[x], l.0 > (above?.0 ?? -1) { above = l }
            }
            if let at = position[m] {
                if let above, above.0 > at {
                    flag("\(filter): causal", "\(p) delivers \(m) before its predecessor \(above.1)", at: sequence[at].1)
                }
                latest[m] = (above?.0 ?? -1) > at ? above! : (at, m)
            } else if let above {
                latest[m] = above
            }
        }
    }
}
