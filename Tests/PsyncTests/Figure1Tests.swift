import Testing
@testable import Psync
import PsyncSimulator

/// Section 2, Figure 1: m1 is the initial message; m2 and m3 were sent by processes that had
/// received m1 but independently; m4 by a process that had m1 and m3 but not m2; m5 in the
/// context of all the others. Here a sends m1 and m5, b sends m2, c sends m3 and m4, and d only
/// receives.
@Suite struct Figure1Tests {
    /// Builds Figure 1 up to m4; d has received nothing yet.
    static func build() -> (Fixture, [MessageID]) {
        let f = Fixture(4)
        let m1 = f.send(0, "m1")
        f.deliver(m1, to: [1, 2])
        f.receiveAll(1)
        f.receiveAll(2)
        let m2 = f.send(1, "m2")
        let m3 = f.send(2, "m3")
        let m4 = f.send(2, "m4")  // c has m1 and m3, not m2
        f.deliver(m2, to: [0, 2])
        f.deliver(m3, to: [0, 1])
        f.deliver(m4, to: [0, 1])
        f.receiveAll(0)
        return (f, [m1, m2, m3, m4])
    }

    @Test func contextGraphIsTheTransitiveReduction() throws {
        let (f, ms) = Self.build()
        let m5 = f.send(0, "m5")
        let (m1, m2, m3, m4) = (ms[0], ms[1], ms[2], ms[3])
        #expect([m1, m2, m3, m4, m5] == [mid("a1"), mid("b1"), mid("c1"), mid("c2"), mid("a2")])
        f.net.deliverAll()
        let expected: Set<Edge> = [Edge(m1, m2), Edge(m1, m3), Edge(m3, m4), Edge(m2, m5), Edge(m4, m5)]
        for h in 0..<4 { #expect(f.edges(h) == expected, "host \(h)") }

        let a = f.net[0], cid = f.cid, p = f.pids[0]
        #expect(try a.prev(m5, in: cid, as: p) == [m2, m4])
        #expect(try a.next(m1, in: cid, as: p) == [m2, m3])
        #expect(try a.next(m3, in: cid, as: p) == [m4])
        #expect(try a.precedes(m1, m5, in: cid, as: p))
        #expect(try a.precedes(m3, m4, in: cid, as: p))
        #expect(try !a.precedes(m2, m3, in: cid, as: p))
        #expect(try !a.precedes(m3, m2, in: cid, as: p))
        #expect(try !a.precedes(m2, m4, in: cid, as: p))
        #expect(try !a.precedes(m5, m1, in: cid, as: p))
        #expect(try !a.precedes(m5, m5, in: cid, as: p))
        #expect(try a.root(cid, as: p) == m1)
        #expect(try a.leaves(cid, as: p) == [m5])
        #expect(try a.sender(m4, in: cid) == f.pids[2])
        #expect(try !a.outstanding(cid, as: p))
        // c sent m4 without m2: m2 is outstanding for c until it receives it.
        #expect(try f.net[2].leaves(cid, as: f.pids[2]) == [m4])
        #expect(try f.net[2].outstanding(cid, as: f.pids[2]))
        #expect(f.receiveAll(2) == [m2, m5])
        #expect(try f.net[2].leaves(cid, as: f.pids[2]) == [m5])
    }

    /// Whatever order m2..m5 reach d, d receives them in an order the paper calls valid, and
    /// every valid order (m2 and m3 unordered, m4 after m3, m5 last) occurs.
    @Test func everyArrivalOrderGivesAValidReceiveOrder() {
        var seen: Set<[MessageID]> = []
        for order in permutations([0, 1, 2, 3]) {
            let (f, ms) = Self.build()
            let m5 = f.send(0, "m5")
            let all = ms + [m5]
            f.deliver(all[0], to: [3])
            var received = f.receiveAll(3)
            for k in order {
                f.deliver(all[k + 1], to: [3])
                received += f.receiveAll(3)
            }
            #expect(Set(received) == Set(all) && received.count == 5, "order \(order): \(received)")
            seen.insert(received)
        }
        let valid: Set<[MessageID]> = [
            [mid("a1"), mid("b1"), mid("c1"), mid("c2"), mid("a2")],
            [mid("a1"), mid("c1"), mid("b1"), mid("c2"), mid("a2")],
            [mid("a1"), mid("c1"), mid("c2"), mid("b1"), mid("a2")],
        ]
        #expect(seen == valid)
    }

    @Test func participantNeverReceivesItsOwnMessages() {
        let (f, _) = Self.build()
        f.send(0, "m5")
        f.net.deliverAll()
        for i in 0..<4 {
            let received = f.receiveAll(i)
            #expect(received.allSatisfy { $0.senderIndex != i })
        }
    }
}

func permutations<T>(_ xs: [T]) -> [[T]] {
    guard xs.count > 1 else { return [xs] }
    return xs.indices.flatMap { i in
        var rest = xs
        let x = rest.remove(at: i)
        return permutations(rest).map { [x] + $0 }
    }
}

/// Figure 1 by model checking: d's host, with m1..m5 on their way to it, is a system whose
/// every arrival order `Explorer` tries; at the end of each, d has received in one of the
/// paper's three orders, and each of the three occurs. The state digest is the reflection
/// digest of d's whole host (`StateFingerprint.of`), not a digest of inputs.
@Suite struct Figure1ExplorationTests {
    final class ArrivalsAtD: ExplorableSystem {
        let f: Fixture
        let all: [MessageID]
        var arrived: [MessageID] = []
        var received: [MessageID] = []

        init() {
            let (f, ms) = Figure1Tests.build()
            self.f = f
            all = ms + [f.send(0, "m5")]
        }

        func enabledActions() -> [MessageID] { all.filter { !arrived.contains($0) } }

        func perform(_ m: MessageID) {
            arrived.append(m)
            f.deliver(m, to: [3])
            // Before the SC (m1) reaches d, d's host holds what comes and d has nothing to receive.
            if f.net[3].image(f.cid) != nil { received += f.receiveAll(3) }
        }

        func fingerprint() -> StateFingerprint { StateFingerprint.of(f.net[3], received, arrived.sorted()) }
        var isQuiescent: Bool { arrived.count == all.count }
        func violations() -> [PsyncSimulator.Checker.Violation] {
            // A receive before a predecessor d has not received would break Section 2's rule.
            received.enumerated().compactMap { k, m in
                (try? f.net[3].prev(m, in: f.cid, as: f.pids[3]))?.first { !received.prefix(k).contains($0) }
                    .map { .init(property: "receive order", detail: "\(m) before its predecessor \($0)") }
            }
        }
        static func independent(_ a: MessageID, _ b: MessageID) -> Bool { false }
    }

    @Test func explorationFindsExactlyThePapersThreeReceiveOrders() {
        var orders: Set<[MessageID]> = []
        let explorer = Explorer { ArrivalsAtD() }
        explorer.onQuiescent = { orders.insert($0.received) }
        let report = explorer.run()
        #expect(report.exhaustive && report.counterexample == nil, "\(report)")
        #expect(orders == [
            [mid("a1"), mid("b1"), mid("c1"), mid("c2"), mid("a2")],
            [mid("a1"), mid("c1"), mid("b1"), mid("c2"), mid("a2")],
            [mid("a1"), mid("c1"), mid("c2"), mid("b1"), mid("a2")],
        ])
        // 326 prefixes of the 5! arrival orders, 120 complete ones; orders that leave d's host
        // in the same state (by its reflection digest) merge.
        #expect(report.states < 326 && report.quiescentStates < 120, "\(report)")
    }
}
