import Psync

/// Property checkers over a simulated run, against a reference model: the context of every
/// message is the set of messages its sender had sent or received when it sent it, as recorded
/// by the application, independently of the engine's data structures (Section 2;
/// `ReferenceContexts`).
///
/// With n participants and M messages, every check takes O(n × M) time and memory, or
/// O(n² × M) (transitive reduction), plus the violations it reports.
public enum Checker {
    public struct Violation: Sendable, CustomStringConvertible {
        public var property: String
        public var detail: String
        public var description: String { "\(property): \(detail)" }

        public init(property: String, detail: String) {
            self.property = property
            self.detail = detail
        }
    }

    /// All properties; empty when the run is correct.
    public static func check(_ r: SimulationResult) -> [Violation] {
        convergence(r) + receiveOrder(r) + transitiveReduction(r) + reexecution(r) + nStableRecovery(r) + replicatedState(r)
    }

    /// The replicated workload: every running participant (`FilterChecker.running`), restarted
    /// ones included, ends in the same state; with no host down at the end and a top filter
    /// that promises completeness, having applied every command. (Depth-first does not: it
    /// stops at the run's unacknowledged tail, so replicas agree on a prefix.)
    public static func replicatedState(_ r: SimulationResult) -> [Violation] {
        guard r.config.workload.pattern == .replicated else { return [] }
        let live = FilterChecker.running(r)
        guard let first = live.first else { return [] }
        var out: [Violation] = []
        for p in live.dropFirst() where r.replicas[p] != r.replicas[first] {
            out.append(Violation(property: "replicated state",
                                 detail: "p\(p) differs from p\(first): \(r.replicas[p].applied) commands, digest \(r.replicas[p].digest) against \(r.replicas[first].applied), \(r.replicas[first].digest)"))
        }
        let all = r.config.participants * r.config.workload.messagesPerParticipant
        let complete = r.filterGuarantees.last?.contains(.complete) == true
        if complete && r.crashed.isEmpty && r.removed.isEmpty && r.replicas[first].applied != all {
            out.append(Violation(property: "replicated state", detail: "p\(first) applied \(r.replicas[first].applied) of \(all) commands"))
        }
        return out
    }

    /// A re-executed participant sent what it sent the first time (Section 5.2's condition).
    public static func reexecution(_ r: SimulationResult) -> [Violation] {
        r.reexecutionDivergences.map {
            Violation(property: "re-execution", detail: "p\($0.participant) diverged at \($0.message)")
        }
    }

    /// Every host that has not crashed holds the same messages (Section 3.2.3's guarantee), one
    /// that never opened the conversation included; hosts still cut off by a partition at the
    /// end are not asked to (`SimulationResult.cutOffAtEnd`).
    public static func convergence(_ r: SimulationResult) -> [Violation] {
        let hosts = r.convergingHosts
        let unopened = hosts.filter { r.images[$0] == nil }.map {
            Violation(property: "images converge", detail: "h\($0) never opened the conversation")
        }
        let running = hosts.compactMap { i in r.images[i].map { (i, Set($0.keys)) } }
        guard let (first, reference) = running.first else { return unopened }
        return unopened + running.dropFirst().compactMap { i, set in
            guard set != reference else { return nil }
            let onlyHere = set.subtracting(reference).sorted(), onlyThere = reference.subtracting(set).sorted()
            return Violation(property: "images converge",
                             detail: "h\(i) differs from h\(first): only in h\(i) \(onlyHere), only in h\(first) \(onlyThere)")
        }
    }

    /// No participant receives a message before its context, twice, or its own (Section 2).
    ///
    /// Also verifies what `ReferenceContexts` rests on: every history lists each sender's
    /// messages in sequence order without a gap (a gap among received messages is a message
    /// received before its sender's previous one; among its own, a send out of sequence). A
    /// history is read up to its first gap only: past it, counts no longer describe it.
    /// Walking each history once with running per-sender counts: O(n) per entry.
    public static func receiveOrder(_ r: SimulationResult) -> [Violation] {
        var out: [Violation] = []
        for (p, received) in r.received.enumerated() {
            for m in received where m.senderIndex == p {
                out.append(Violation(property: "never receive own", detail: "p\(p) received its own \(m)"))
            }
        }
        let n = r.config.participants
        for (p, history) in r.histories.enumerated() {
            var seen = [UInt32](repeating: 0, count: n)
            for m in history {
                let s = m.senderIndex
                if m.sequence <= seen[s] {
                    out.append(Violation(property: "receive once", detail: "p\(p) has \(m) twice"))
                    continue
                }
                let inSequence = m.sequence == seen[s] + 1
                if s == p && !inSequence {
                    out.append(Violation(property: "send in sequence",
                                         detail: "p\(p) sent \(m) where \(MessageID(sender: s, sequence: seen[s] + 1)) was next"))
                    break
                }
                if s != p {
                    let missing = missingContext(of: m, seen: seen, r.contexts)
                    if !missing.isEmpty {
                        out.append(Violation(property: "receive after context", detail: "p\(p) received \(m) before \(missing)"))
                    }
                    if !inSequence { break }
                }
                seen[s] = m.sequence
            }
        }
        return out
    }

    /// The messages of m's context (and its sender's earlier messages) beyond `seen`, sorted.
    static func missingContext(of m: MessageID, seen: [UInt32], _ contexts: ReferenceContexts) -> [MessageID] {
        let vector = contexts.vector(of: m)
        return seen.indices.flatMap { s in
            var upTo = vector.map { $0[$0.startIndex + s] } ?? 0
            if s == m.senderIndex { upTo = max(upTo, m.sequence - 1) }
            return upTo > seen[s] ? (seen[s] + 1...upTo).map { MessageID(sender: s, sequence: $0) } : []
        }
    }

    /// In every image, each message's predecessors are exactly the maximal elements of its
    /// reference context: the graph is the transitive reduction of "sent in the context of".
    /// O(n²) per distinct message (`maximalContext`), O(n log n) per image entry.
    public static func transitiveReduction(_ r: SimulationResult) -> [Violation] {
        var out: [Violation] = []
        var expected: [MessageID: [MessageID]] = [:]
        for (h, image) in r.images.enumerated() {
            guard let image else { continue }
            for (m, preds) in image {
                guard let want = expected[m] ?? maximalContext(of: m, r.contexts) else {
                    out.append(Violation(property: "transitive reduction", detail: "h\(h) holds \(m), which nobody sent"))
                    continue
                }
                expected[m] = want
                let have = preds.sorted()
                if have != want {
                    out.append(Violation(property: "transitive reduction",
                                         detail: "h\(h): \(m) has predecessors \(have), expected \(want)"))
                }
            }
        }
        return out
    }

    /// The maximal elements of m's context, sorted; nil if nobody sent m. Only each sender's
    /// newest message in the context can be maximal, and it is unless another sender's newest
    /// one has it in its own context (contexts grow along a sender's messages, so that one
    /// covers the others of its sender). O(n²).
    static func maximalContext(of m: MessageID, _ contexts: ReferenceContexts) -> [MessageID]? {
        guard let v = contexts.vector(of: m) else { return nil }
        let newest = v.indices.compactMap { i in v[i] > 0 ? MessageID(sender: i - v.startIndex, sequence: v[i]) : nil }
        let newestContexts = newest.map { contexts.vector(of: $0) }
        return newest.filter { x in
            !zip(newest, newestContexts).contains { y, yContext in
                guard y.sender != x.sender, let yContext else { return false }
                return yContext[yContext.startIndex + x.senderIndex] >= x.sequence
            }
        }
    }
}
