import Psync
import PsyncFilters

/// Checks what each filter of a simulated run delivered against what it promises
/// (`FilterGuarantee`), using the reference contexts recorded by the application, not the
/// engine's data structures. Running participants are those that did not crash.
public enum FilterChecker {
    public static func check(_ r: SimulationResult) -> [Checker.Violation] {
        var out: [Checker.Violation] = []
        for (f, name) in r.filters.enumerated() {
            let guarantees = f < r.filterGuarantees.count ? r.filterGuarantees[f] : []
            out += noDuplicates(r, f, name)
            if guarantees.contains(.complete) { out += complete(r, f, name) }
            if guarantees.contains(.causal) { out += causal(r, f, name) }
            if guarantees.contains(.totalOrder) { out += totalOrder(r, f, name) }
            for case .quorum(let k) in guarantees { out += quorum(r, f, name, QuorumFilter.size(k, participants: r.config.participants)) }
        }
        return out
    }

    static func running(_ r: SimulationResult) -> [Int] {
        (0..<r.config.participants).filter { !r.crashed.contains(HostID(UInt32($0))) }
    }

    static func noDuplicates(_ r: SimulationResult, _ f: Int, _ name: String) -> [Checker.Violation] {
        r.filterDeliveries[f].enumerated().compactMap { p, ds in
            let ids = ds.map(\.message)
            return Set(ids).count == ids.count ? nil
                : Checker.Violation(property: "\(name): deliver once", detail: "p\(p) delivers a message twice")
        }
    }

    /// At quiescence, every application message in every running image has been delivered at
    /// every running participant.
    static func complete(_ r: SimulationResult, _ f: Int, _ name: String) -> [Checker.Violation] {
        let images = r.images.compactMap { $0.map { Set($0.keys) } }
        let everywhere = images.dropFirst().reduce(images.first ?? []) { $0.intersection($1) }
        let expected = everywhere.intersection(r.applicationMessages)
        return running(r).compactMap { p in
            let missing = expected.subtracting(r.filterDeliveries[f][p].map(\.message))
            return missing.isEmpty ? nil : Checker.Violation(property: "\(name): everything delivered at quiescence",
                                                             detail: "p\(p) never delivers \(missing.sorted().prefix(5))")
        }
    }

    /// No message is delivered before a predecessor that the filter also delivers there.
    static func causal(_ r: SimulationResult, _ f: Int, _ name: String) -> [Checker.Violation] {
        var out: [Checker.Violation] = []
        for (p, ds) in r.filterDeliveries[f].enumerated() {
            var position: [MessageID: Int] = [:]
            for (i, d) in ds.enumerated() { position[d.message] = i }
            for (i, d) in ds.enumerated() {
                for x in r.contexts[d.message] ?? [] {
                    if let j = position[x], j > i {
                        out.append(Checker.Violation(property: "\(name): causal", detail: "p\(p) delivers \(d.message) before its predecessor \(x)"))
                    }
                }
            }
        }
        return out
    }

    /// Every two participants' sequences agree (one a prefix of the other); at quiescence the
    /// running participants' sequences are equal.
    static func totalOrder(_ r: SimulationResult, _ f: Int, _ name: String) -> [Checker.Violation] {
        var out: [Checker.Violation] = []
        let sequences = r.filterDeliveries[f].map { $0.map(\.message) }
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
        let live = running(r)
        if let first = live.first, live.contains(where: { sequences[$0].count != sequences[first].count }) {
            out.append(Checker.Violation(property: "\(name): total order at quiescence",
                                         detail: "delivered counts differ: " + live.map { "p\($0) \(sequences[$0].count)" }.joined(separator: ", ")))
        }
        return out
    }

    /// Nothing is delivered at p before k participants (the sender included) have it in their
    /// context, as far as p's view at that time shows.
    static func quorum(_ r: SimulationResult, _ f: Int, _ name: String, _ k: Int) -> [Checker.Violation] {
        var out: [Checker.Violation] = []
        for (p, ds) in r.filterDeliveries[f].enumerated() {
            for d in ds {
                let known = zip(r.histories[p], r.historyTimes[p]).prefix { $0.1 <= d.time }.map(\.0)
                let followers = Set(known.filter { r.contexts[$0]?.contains(d.message) == true }.map(\.senderIndex))
                    .subtracting([d.message.senderIndex])
                if followers.count + 1 < k {
                    out.append(Checker.Violation(property: "\(name): quorum \(k)",
                                                 detail: "p\(p) delivers \(d.message) with only \(followers.count + 1) participants having it"))
                }
            }
        }
        return out
    }
}
