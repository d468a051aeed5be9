import Psync
import PsyncFilters

/// Checks what each filter of a simulated run delivered against what it promises
/// (`FilterGuarantee`), using the reference contexts recorded by the application, not the
/// engine's data structures. Running participants are those that did not crash. With n
/// participants and M messages, each check takes O(n × M) time and memory when the run is
/// correct.
public enum FilterChecker {
    /// `atQuiescence` false: only the promises that hold at every moment (the model checker
    /// asks at every state it reaches), not completeness nor equal lengths of total orders.
    public static func check(_ r: SimulationResult, atQuiescence: Bool = true) -> [Checker.Violation] {
        var out: [Checker.Violation] = []
        for (f, name) in r.filters.enumerated() {
            let guarantees = f < r.filterGuarantees.count ? r.filterGuarantees[f] : []
            out += noDuplicates(r, f, name)
            // Completeness is promised while no crashed participant is waited for.
            if atQuiescence && guarantees.contains(.complete) && r.crashedAndAwaited.isEmpty { out += complete(r, f, name) }
            if guarantees.contains(.causal) { out += causal(r, f, name) }
            if guarantees.contains(.totalOrder) { out += totalOrder(r, f, name, atQuiescence: atQuiescence) }
            for case .quorum(let k) in guarantees { out += quorum(r, f, name, QuorumFilter.size(k, participants: r.config.participants)) }
        }
        return out
    }

    /// Participants held to the promises at quiescence: neither crashed, removed, nor cut off by
    /// a partition when the run fell quiet.
    static func running(_ r: SimulationResult) -> [Int] {
        let cutOff = r.cutOffAtEnd
        return (0..<r.config.participants).filter { !r.crashed.contains(HostID(UInt32($0))) && !r.removed.contains($0) && !cutOff.contains($0) }
    }

    static func noDuplicates(_ r: SimulationResult, _ f: Int, _ name: String) -> [Checker.Violation] {
        r.filterDeliveries[f].enumerated().compactMap { p, ds in
            let ids = ds.map(\.message)
            return Set(ids).count == ids.count ? nil
                : Checker.Violation(property: "\(name): deliver once", detail: "p\(p) delivers a message twice")
        }
    }

    /// At quiescence, every application message in every running image has been delivered at
    /// every running participant. A removed participant's messages past its removal's cut are
    /// left out of the total order by every survivor (`Admission.excluded`): of its messages,
    /// those some running participant delivered are expected everywhere (the total order's
    /// check makes that the same prefix everywhere), the others at none.
    static func complete(_ r: SimulationResult, _ f: Int, _ name: String) -> [Checker.Violation] {
        let images = r.images.compactMap { $0.map { Set($0.keys) } }
        let everywhere = images.dropFirst().reduce(images.first ?? []) { $0.intersection($1) }
        let live = running(r)
        let deliveredByLive = Set(live.flatMap { r.filterDeliveries[f][$0].map(\.message) })
        let expected = everywhere.intersection(r.applicationMessages)
            .filter { !r.removed.contains($0.senderIndex) || deliveredByLive.contains($0) }
        return live.compactMap { p in
            let missing = expected.subtracting(r.filterDeliveries[f][p].map(\.message))
            return missing.isEmpty ? nil : Checker.Violation(property: "\(name): everything delivered at quiescence",
                                                             detail: "p\(p) never delivers \(missing.sorted().prefix(5))")
        }
    }

    /// No message is delivered before a predecessor that the filter also delivers there.
    /// Per participant and sender, the prefix maximum of delivery positions over sequence
    /// numbers tells which of a context's messages from that sender was delivered last (the
    /// one a violation names): O(n) per delivery.
    static func causal(_ r: SimulationResult, _ f: Int, _ name: String) -> [Checker.Violation] {
        var out: [Checker.Violation] = []
        let n = r.config.participants
        for (p, ds) in r.filterDeliveries[f].enumerated() {
            // latest[s][q - 1]: among (s, 1...q), the message p delivered last, and where (-1: none).
            var latest = [[(position: Int, sequence: UInt32)]](repeating: [], count: n)
            for (i, d) in ds.enumerated() {
                let (s, q) = (d.message.senderIndex, Int(d.message.sequence))
                if latest[s].count < q { latest[s] += repeatElement((position: -1, sequence: UInt32(0)), count: q - latest[s].count) }
                latest[s][q - 1] = (i, d.message.sequence)
            }
            for s in latest.indices {
                for q in latest[s].indices.dropFirst() where latest[s][q - 1].position > latest[s][q].position {
                    latest[s][q] = latest[s][q - 1]
                }
            }
            for (i, d) in ds.enumerated() {
                guard let v = r.contexts.vector(of: d.message) else { continue }
                for s in 0..<n {
                    let upTo = min(Int(v[v.startIndex + s]), latest[s].count)
                    guard upTo > 0, latest[s][upTo - 1].position > i else { continue }
                    let x = MessageID(sender: s, sequence: latest[s][upTo - 1].sequence)
                    out.append(Checker.Violation(property: "\(name): causal", detail: "p\(p) delivers \(d.message) before its predecessor \(x)"))
                }
            }
        }
        return out
    }

    /// Every two participants' sequences agree (one a prefix of the other); at quiescence the
    /// running participants' sequences are equal. A crashed participant's messages that no
    /// running image holds are left out of its sequence. When every sequence is a prefix of the
    /// longest, they all agree: O(n × M); only otherwise are pairs compared, O(n² × M).
    static func totalOrder(_ r: SimulationResult, _ f: Int, _ name: String, atQuiescence: Bool) -> [Checker.Violation] {
        var out: [Checker.Violation] = []
        // A crashed participant may have delivered messages that vanished with it: its own,
        // lost on the way to every other host (Section 3.2.3, case 2a: "neither m' nor m appear
        // in any host's image"). Its sequence is compared without them.
        var surviving: Set<MessageID> = []
        for image in r.images { if let image { surviving.formUnion(image.keys) } }
        // A removed participant (`SimulationResult.removed`) is held to the top filter's order
        // only, as a prefix; below it, its filters ordered messages the others discarded.
        let belowTop = f < r.filters.count - 1
        let sequences = r.filterDeliveries[f].enumerated().map { p, ds in
            if belowTop && r.removed.contains(p) { return [MessageID]() }
            return r.crashed.contains(HostID(UInt32(p))) ? ds.map(\.message).filter(surviving.contains) : ds.map(\.message)
        }
        let longest = sequences.max { $0.count < $1.count } ?? []
        if !sequences.allSatisfy({ longest.starts(with: $0) }) {
            for p in sequences.indices {
                for q in sequences.indices where q > p {
                    let (a, b) = (sequences[p], sequences[q])
                    let n = min(a.count, b.count)
                    if let k = (0..<n).first(where: { a[$0] != b[$0] }) {
                        out.append(Checker.Violation(property: "\(name): total order",
                                                     detail: "p\(p) and p\(q) differ at position \(k + 1): \(a[k]) vs \(b[k])"))
                    }
                }
            }
        }
        let live = running(r)
        if atQuiescence, let first = live.first, live.contains(where: { sequences[$0].count != sequences[first].count }) {
            out.append(Checker.Violation(property: "\(name): total order at quiescence",
                                         detail: "delivered counts differ: " + live.map { "p\($0) \(sequences[$0].count)" }.joined(separator: ", ")))
        }
        return out
    }

    /// Nothing is delivered at p before k participants (the sender included) have it in their
    /// context, as far as p's view at that time shows (the first `historyLength` messages of its
    /// history, which each delivery records): one walk of the history keeps p's per-sender
    /// counts at each delivery; a sender follows the message if its newest message there has it
    /// in context (contexts grow along a sender's messages): O(n) per delivery.
    static func quorum(_ r: SimulationResult, _ f: Int, _ name: String, _ k: Int) -> [Checker.Violation] {
        var out: [Checker.Violation] = []
        let n = r.config.participants
        for (p, ds) in r.filterDeliveries[f].enumerated() {
            let history = r.histories[p]
            var known = [UInt32](repeating: 0, count: n)
            var walked = 0
            for d in ds {
                while walked < min(d.historyLength, history.count) {
                    let m = history[walked]
                    known[m.senderIndex] = max(known[m.senderIndex], m.sequence)
                    walked += 1
                }
                let sender = d.message.senderIndex
                let followers = (0..<n).count { s in
                    s != sender && known[s] > 0 && r.contexts.contains(d.message, in: MessageID(sender: s, sequence: known[s]))
                }
                if followers + 1 < k {
                    out.append(Checker.Violation(property: "\(name): quorum \(k)",
                                                 detail: "p\(p) delivers \(d.message) with only \(followers + 1) participants having it"))
                }
            }
        }
        return out
    }
}
