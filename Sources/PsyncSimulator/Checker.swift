import Psync

/// Property checkers over a simulated run, against a brute-force reference model: the context
/// of every message is the set of messages its sender had sent or received when it sent it, as
/// recorded by the application, independently of the engine's data structures (Section 2).
public enum Checker {
    public struct Violation: Sendable, CustomStringConvertible {
        public var property: String
        public var detail: String
        public var description: String { "\(property): \(detail)" }
    }

    /// All properties; empty when the run is correct.
    public static func check(_ r: SimulationResult) -> [Violation] {
        convergence(r) + receiveOrder(r) + transitiveReduction(r)
    }

    /// Every running host's image holds the same messages (Section 3.2.3's guarantee).
    public static func convergence(_ r: SimulationResult) -> [Violation] {
        let running = r.images.enumerated().compactMap { i, img in img.map { (i, Set($0.keys)) } }
        guard let (first, reference) = running.first else { return [] }
        return running.dropFirst().compactMap { i, set in
            guard set != reference else { return nil }
            let onlyHere = set.subtracting(reference).sorted(), onlyThere = reference.subtracting(set).sorted()
            return Violation(property: "images converge",
                             detail: "h\(i) differs from h\(first): only in h\(i) \(onlyHere), only in h\(first) \(onlyThere)")
        }
    }

    /// No participant receives a message before its context, twice, or its own (Section 2).
    public static func receiveOrder(_ r: SimulationResult) -> [Violation] {
        var out: [Violation] = []
        for (p, history) in r.histories.enumerated() {
            var seen: Set<MessageID> = []
            let received = Set(r.received[p])
            for m in history {
                if seen.contains(m) { out.append(Violation(property: "receive once", detail: "p\(p) has \(m) twice")) }
                if received.contains(m) && m.senderIndex == p {
                    out.append(Violation(property: "never receive own", detail: "p\(p) received its own \(m)"))
                }
                if received.contains(m), let ctx = r.contexts[m] {
                    let missing = ctx.subtracting(seen)
                    if !missing.isEmpty {
                        out.append(Violation(property: "receive after context",
                                             detail: "p\(p) received \(m) before \(missing.sorted())"))
                    }
                }
                seen.insert(m)
            }
        }
        return out
    }

    /// In every image, each message's predecessors are exactly the maximal elements of its
    /// reference context: the graph is the transitive reduction of "sent in the context of".
    public static func transitiveReduction(_ r: SimulationResult) -> [Violation] {
        var out: [Violation] = []
        var expected: [MessageID: Set<MessageID>] = [:]
        for (m, ctx) in r.contexts {
            expected[m] = ctx.filter { x in !ctx.contains { y in y != x && r.contexts[y]?.contains(x) == true } }
        }
        for (h, image) in r.images.enumerated() {
            guard let image else { continue }
            for (m, preds) in image {
                guard let want = expected[m] else {
                    out.append(Violation(property: "transitive reduction", detail: "h\(h) holds \(m), which nobody sent"))
                    continue
                }
                if Set(preds) != want {
                    out.append(Violation(property: "transitive reduction",
                                         detail: "h\(h): \(m) has predecessors \(preds.sorted()), expected \(want.sorted())"))
                }
            }
        }
        return out
    }
}
