import Testing
import Psync
import PsyncAnalysis
import PsyncSimulator
import PsyncTrace

/// Issue 15's tamper suite: `psync trace check` must stand alone (a real run cannot be
/// re-simulated), so every kind of semantic tampering of a clean trace, under several filter
/// stacks, is caught by the checker alone, with a witness naming what is wrong.
@Suite struct TamperTests {
    typealias Events = [TraceEvent]

    /// One kind of tampering: what it does, what the checker must say, and the edit (nil where
    /// the trace offers nothing to tamper with).
    struct Tamper: Sendable {
        var name: String
        var property: String
        var edit: @Sendable (Events) -> Events?
    }

    static let stacks: [[String]] = [[], ["causal"], ["waves"], ["depth-first"], ["quorum"], ["waves", "membership"]]

    static func clean(_ filters: [String], crash: Bool = false) -> Events {
        let sink = MemoryTraceSink()
        var config = SimulationConfig(seed: 11, participants: 3, filters: filters)
        config.workload.messagesPerParticipant = 8
        config.workload.replyProbability = 0.3
        config.network.link.lossProbability = 0.1
        config.network.link.reorderProbability = 0.2
        if crash { config.faults.crashes = [Crash(host: 2, atNanoseconds: 60_000_000)] }
        Simulator(config, trace: sink).run()
        return sink.events
    }

    static func check(_ events: Events) -> [TraceChecker.Violation] {
        var checker = TraceChecker()
        for e in events { checker.observe(e) }
        _ = checker.finish(complete: true)
        return checker.violations
    }

    // MARK: helpers over records

    static func receives(_ es: Events) -> [Int] { es.indices.filter { if case .receive = es[$0].kind { true } else { false } } }
    static func sends(_ es: Events) -> [Int] { es.indices.filter { if case .send = es[$0].kind { true } else { false } } }
    static func field(_ e: TraceEvent, _ k: String) -> JSONValue? {
        if case .other(_, let fields) = e.kind { return fields.first { $0.0 == k }?.1 } else { return nil }
    }
    static func records(_ es: Events, _ kind: String, filter: String? = nil) -> [Int] {
        es.indices.filter {
            guard case .other(let k, _) = es[$0].kind, k == kind else { return false }
            return filter == nil || field(es[$0], "filter")?.string == filter
        }
    }
    static func replacing(_ e: TraceEvent, _ key: String, with value: JSONValue) -> TraceEvent {
        guard case .other(let k, var fields) = e.kind, let i = fields.firstIndex(where: { $0.0 == key }) else { return e }
        fields[i].1 = value
        var out = e
        out.kind = .other(name: k, fields: fields)
        return out
    }
    /// Moves record `i` to just before record `j` (j < i), at that record's time.
    static func move(_ es: Events, _ i: Int, before j: Int) -> Events {
        var out = es
        var e = out.remove(at: i)
        e.time = es[j].time
        out.insert(e, at: j)
        return out
    }
    /// Send record `i` with other predecessors.
    static func sent(_ es: Events, _ i: Int, after preds: [MessageID]) -> Events {
        guard case .send(let c, let p, let m, _, let bytes, let content) = es[i].kind else { return es }
        var out = es
        out[i].kind = .send(c, p, m, predecessors: preds, payloadBytes: bytes, content: content)
        return out
    }
    /// Record `i` as if another host (the next of three) had written it.
    static func movedToTheNextHost(_ es: Events, _ i: Int) -> Events? {
        guard let h = es[i].host else { return nil }
        var out = es
        out[i].host = HostID((h.rawValue + 1) % 3)
        return out
    }
    static func mid(_ e: TraceEvent) -> MessageID? {
        switch e.kind {
        case .receive(_, _, let m), .stable(_, _, let m), .send(_, _, let m, _, _, _), .arrive(_, let m, _): m
        default: field(e, "mid")?.string.flatMap(MessageID.init(label:))
        }
    }

    // MARK: the kinds

    static let psyncLevel: [Tamper] = [
        Tamper(name: "a receive recorded twice", property: "receive once") { es in
            guard let i = receives(es).dropFirst(3).first else { return nil }
            var out = es
            out.insert(es[i], at: i + 1)
            return out
        },
        Tamper(name: "a receive moved before its predecessor's", property: "receive after context") { es in
            for i in receives(es) {
                guard case .receive(_, let p, let m) = es[i].kind, m.sequence > 1 else { continue }
                let earlier = MessageID(sender: m.senderIndex, sequence: m.sequence - 1)
                if let j = es[..<i].lastIndex(where: { if case .receive(_, p, earlier) = $0.kind { true } else { false } }),
                   es[..<j].contains(where: { if case .send(_, _, m, _, _, _) = $0.kind { true } else { false } }) {
                    return move(es, i, before: j)
                }
            }
            return nil
        },
        Tamper(name: "a participant receiving its own message", property: "never receive own") { es in
            guard let i = receives(es).dropFirst(2).first, case .receive(let c, let p, _) = es[i].kind,
                  let own = sends(es).lazy.compactMap({ j -> MessageID? in
                      if case .send(_, p, let m, _, _, _) = es[j].kind, j < i { m } else { nil } }).first else { return nil }
            var out = es
            out[i].kind = .receive(c, p, own)
            return out
        },
        Tamper(name: "a receive at another participant's host", property: "receive") { es in
            receives(es).dropFirst(4).first.flatMap { movedToTheNextHost(es, $0) }
        },
        Tamper(name: "a receive before the message arrived at the host", property: "receive after arrival") { es in
            for i in receives(es) {
                guard let m = mid(es[i]), let h = es[i].host,
                      let a = es[..<i].lastIndex(where: { $0.host == h && { if case .arrive(_, m, _) = $0.kind { true } else { false } }($0) }),
                      a > 0 else { continue }
                // The receive moves before the arrival; everything it needs in the view is still there.
                if es[a..<i].contains(where: { $0.host == h && { if case .receive = $0.kind { true } else { false } }($0) }) { continue }
                return move(es, i, before: a)
            }
            return nil
        },
        Tamper(name: "a send in the context of a message its sender never received", property: "send in context") { es in
            for i in sends(es) {
                guard case .send(_, let p, _, let preds, _, _) = es[i].kind else { continue }
                let me = p.host.rawValue
                // A message of another participant that exists already but p has not received.
                let received = Set(es[..<i].compactMap { e -> MessageID? in if case .receive(_, p, let x) = e.kind { x } else { nil } })
                guard let foreign = es[..<i].lazy.compactMap({ e -> MessageID? in
                    if case .send(_, let q, let x, _, _, _) = e.kind, q.host.rawValue != me, !received.contains(x) { x } else { nil }
                }).first else { continue }
                return sent(es, i, after: preds + [foreign])
            }
            return nil
        },
        Tamper(name: "a redundant edge (no longer a transitive reduction)", property: "transitive reduction") { es in
            for i in sends(es) {
                guard case .send(_, _, let m, let preds, _, _) = es[i].kind, m.sequence > 2 else { continue }
                let older = MessageID(sender: m.senderIndex, sequence: m.sequence - 2)
                guard !preds.contains(older) else { continue }
                return sent(es, i, after: preds + [older])
            }
            return nil
        },
        Tamper(name: "a send that leaves a received message out of its context", property: "send in context") { es in
            for i in sends(es) {
                guard case .send(_, _, let m, let preds, _, _) = es[i].kind, preds.count >= 2,
                      let dropped = preds.first(where: { $0.senderIndex != m.senderIndex }) else { continue }
                return sent(es, i, after: preds.filter { $0 != dropped })
            }
            return nil
        },
        Tamper(name: "a send recorded at another host", property: "send") { es in
            sends(es).dropFirst(3).first.flatMap { movedToTheNextHost(es, $0) }
        },
        Tamper(name: "a host's time going backwards", property: "time") { es in
            guard let i = receives(es).dropFirst(6).first, let h = es[i].host,
                  let previous = es[..<i].last(where: { $0.host == h }), previous.time > 0 else { return nil }
            var out = es
            out[i].time = previous.time - 1
            return out
        },
        Tamper(name: "stability claimed before anyone followed", property: "stability claimed early") { es in
            for i in es.indices {
                guard case .stable(_, let p, let m) = es[i].kind else { continue }
                // Just after p received (or sent) m, before any follower could be in its view.
                guard let j = es[..<i].firstIndex(where: {
                    switch $0.kind {
                    case .receive(_, p, m), .send(_, p, m, _, _, _): true
                    default: false
                    }
                }), j + 1 < i else { continue }
                var out = move(es, i, before: j + 1)
                out[j + 1].time = es[j].time
                return out
            }
            return nil
        },
        Tamper(name: "a message that arrived nowhere else: images differ", property: "images converge") { es in
            // The last arrival at one host, and everything that host and its participant did with it after, removed.
            guard let i = es.lastIndex(where: { if case .arrive = $0.kind { true } else { false } }), let h = es[i].host, let m = mid(es[i]) else { return nil }
            return es.enumerated().filter { j, e in !(j >= i && e.host == h && mid(e) == m) }.map(\.1)
        },
    ]

    /// Tampering with what a filter claims, for the filters that claim it.
    static func filterLevel(_ top: String, _ stack: [String]) -> [Tamper] {
        var kinds: [Tamper] = []
        let ordered = stack.filter { ["waves", "depth-first", "membership"].contains($0) }
        for filter in stack {
            kinds.append(Tamper(name: "\(filter): a delivery of a message not in the view", property: "\(filter): deliver") { es in
                guard let i = records(es, "deliver", filter: filter).dropFirst(2).first, let m = mid(es[i]) else { return nil }
                let later = MessageID(sender: m.senderIndex, sequence: m.sequence + 50)
                return es.enumerated().map { j, e in j == i ? replacing(e, "mid", with: .string(later.description)) : e }
            })
            kinds.append(Tamper(name: "\(filter): a delivery before its predecessor's", property: "\(filter): causal") { es in
                let ds = records(es, "deliver", filter: filter)
                for i in ds {
                    guard let p = field(es[i], "p")?.string, let m = mid(es[i]), m.sequence > 1 else { continue }
                    let earlier = MessageID(sender: m.senderIndex, sequence: m.sequence - 1)
                    if let j = ds.last(where: { $0 < i && field(es[$0], "p")?.string == p && mid(es[$0]) == earlier }) {
                        var out = es
                        out[j] = replacing(es[j], "mid", with: .string(m.description))
                        out[i] = replacing(es[i], "mid", with: .string(earlier.description))
                        return out
                    }
                }
                return nil
            })
        }
        for filter in ordered {
            kinds.append(Tamper(name: "\(filter): two deliveries swapped at one participant", property: "\(filter): total order") { es in
                let ds = records(es, "deliver", filter: filter)
                for (a, b) in zip(ds, ds.dropFirst()) where field(es[a], "p")?.string == field(es[b], "p")?.string
                    && mid(es[a])?.senderIndex != mid(es[b])?.senderIndex {
                    var out = es
                    out[a] = replacing(es[a], "mid", with: field(es[b], "mid")!)
                    out[b] = replacing(es[b], "mid", with: field(es[a], "mid")!)
                    return out
                }
                return nil
            })
            kinds.append(Tamper(name: "\(filter): a delivery missing at one participant", property: "\(filter): total order") { es in
                let ds = records(es, "deliver", filter: filter)
                guard ds.count > 6 else { return nil }
                return es.enumerated().filter { $0.0 != ds[ds.count / 2] }.map(\.1)
            })
        }
        if stack.contains("waves") {
            kinds.append(Tamper(name: "waves: a wave recorded with a message missing", property: "waves: waves") { es in
                guard let i = records(es, "wave", filter: "waves").first(where: { (field(es[$0], "mids")?.array?.count ?? 0) >= 2 }),
                      let mids = field(es[i], "mids")?.array else { return nil }
                return es.enumerated().map { j, e in j == i ? replacing(e, "mids", with: .array(Array(mids.dropLast()))) : e }
            })
            kinds.append(Tamper(name: "waves: a wave number skipped", property: "waves: wave") { es in
                guard let i = records(es, "wave", filter: "waves").dropFirst(2).first, let n = field(es[i], "wave")?.int else { return nil }
                return es.enumerated().map { j, e in j == i ? replacing(e, "wave", with: .uint(UInt64(n + 1))) : e }
            })
            kinds.append(Tamper(name: "waves: a wave committed by a message outside it", property: "waves: wave") { es in
                let ws = records(es, "wave", filter: "waves")
                guard ws.count >= 2, let other = field(es[ws[0]], "stable") else { return nil }
                return es.enumerated().map { j, e in j == ws.last! ? replacing(e, "stable", with: other) : e }
            })
            kinds.append(Tamper(name: "waves: a wave holding a message not yet in the view", property: "waves: wave") { es in
                guard let i = records(es, "wave", filter: "waves").dropFirst(1).first, let mids = field(es[i], "mids")?.array,
                      let first = mids.first?.string.flatMap(MessageID.init(label:)) else { return nil }
                let future = MessageID(sender: first.senderIndex, sequence: first.sequence + 40)
                return es.enumerated().map { j, e in j == i ? replacing(e, "mids", with: .array(mids + [.string(future.description)])) : e }
            })
        }
        if stack.contains("depth-first") {
            kinds.append(Tamper(name: "depth-first: a commit naming another message", property: "depth-first: commits") { es in
                let cs = records(es, "commit", filter: "depth-first")
                guard cs.count >= 3, let other = field(es[cs[0]], "mid") else { return nil }
                let i = cs.first { field(es[$0], "mid") != other && field(es[$0], "p") != field(es[cs[0]], "p") }!
                return es.enumerated().map { j, e in j == i ? replacing(e, "mid", with: other) : e }
            })
            kinds.append(Tamper(name: "depth-first: a commit number skipped", property: "depth-first: commit") { es in
                guard let i = records(es, "commit", filter: "depth-first").dropFirst(2).first, let n = field(es[i], "commit")?.int else { return nil }
                return es.enumerated().map { j, e in j == i ? replacing(e, "commit", with: .uint(UInt64(n + 5))) : e }
            })
        }
        _ = top
        return kinds
    }

    static let afterCrash = Tamper(name: "a crashed host receiving", property: "nothing after a crash") { es in
        guard let c = es.firstIndex(where: { $0.kind == .crash }), let h = es[c].host,
              let r = es[..<c].lastIndex(where: { $0.host == h && { if case .receive = $0.kind { true } else { false } }($0) }) else { return nil }
        var out = es
        var e = out.remove(at: r)
        e.time = es[c].time
        out.insert(e, at: c)  // after the crash record, which moved up by one
        return out
    }

    /// Every kind, under every stack it applies to: at least 50 kinds, each caught, with a
    /// witness; the clean traces check clean.
    @Test func everyKindOfTamperingIsCaught() {
        var applied: [String] = [], missed: [String] = []
        for stack in Self.stacks {
            let clean = Self.clean(stack)
            #expect(Self.check(clean).isEmpty, "clean \(stack): \(Self.check(clean).prefix(3))")
            for kind in Self.psyncLevel + Self.filterLevel(stack.last ?? "", stack) {
                guard let tampered = kind.edit(clean) else { continue }
                let label = "\(stack.isEmpty ? "no filter" : stack.joined(separator: ",")): \(kind.name)"
                applied.append(label)
                let violations = Self.check(tampered)
                if !violations.contains(where: { $0.property.hasPrefix(kind.property) && !$0.witness.isEmpty }) {
                    missed.append("\(label) (expected \(kind.property); got \(violations.prefix(2).map(\.description)))")
                }
            }
        }
        let crashed = Self.clean(["waves", "membership"], crash: true)
        #expect(Self.check(crashed).isEmpty, "clean crash: \(Self.check(crashed).prefix(3))")
        if let tampered = Self.afterCrash.edit(crashed) {
            applied.append("crash: \(Self.afterCrash.name)")
            if !Self.check(tampered).contains(where: { $0.property == Self.afterCrash.property }) { missed.append(Self.afterCrash.name) }
        }
        #expect(missed.isEmpty, "missed \(missed.count) of \(applied.count):\n\(missed.joined(separator: "\n"))")
        #expect(applied.count >= 50, "\(applied.count) kinds applied")
    }
}
