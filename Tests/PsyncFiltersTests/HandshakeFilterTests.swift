import Testing
import Psync
import PsyncFilters
import PsyncTrace

/// The initialize and terminate handshakes of Section 3.4, over `StackNetwork` (defined with
/// the commutative filter's tests).
@Suite struct HandshakeFilterTests {
    static func handshake(_ net: StackNetwork, _ i: Int) -> HandshakeFilter { net.stacks[i]!.filters[0] as! HandshakeFilter }

    /// The message of the view of participant `i` that is handshake step `step`, sent by `sender`.
    static func find(_ step: String, from sender: Int, in net: StackNetwork, at i: Int) -> MessageID? {
        net.viewed[i].keys.sorted().first {
            $0.senderIndex == sender && net.viewed[i][$0]?.content == .control(filter: "handshake", body: Array(step.utf8))
        }
    }

    /// When each participant (host) recorded that it terminated.
    static func terminationTimes(_ trace: MemoryTraceSink) -> [Int: UInt64] {
        var out: [Int: UInt64] = [:]
        for e in trace.events {
            guard case .other(name: "handshake", fields: let fields) = e.kind, let host = e.host,
                  fields.contains(where: { $0.0 == "step" && $0.1 == .string("terminated") }) else { continue }
            out[Int(host.rawValue)] = e.time
        }
        return out
    }

    /// Many seeded runs with lossy links: participants try to send from the moment they open,
    /// one of them terminates half-way, everybody keeps trying. Sends before START are held,
    /// sends after a TERM are refused, and everybody terminates, by which time it has delivered
    /// every application message (DONE follows them all).
    @Test func conversationsBeginAndEndCleanly() {
        var failures: [String] = []
        var (heldEarly, refused) = (0, 0)
        for seed in UInt64(0)..<80 {
            var rng = SplitMix64(seed: seed &* 0xD1B5_4A32_D192_ED03 &+ 11)
            let n = 2 + Int(rng.next() % 4)
            let trace = MemoryTraceSink()
            let net = StackNetwork(participants: n, seed: rng.next(), loss: Double(rng.next() % 16) / 100, trace: trace) { [HandshakeFilter()] }
            let terminator = Int(rng.next() % UInt64(n))
            var attempts: [(time: UInt64, participant: Int)] = []
            for i in 0..<n {
                var t: UInt64 = 0
                for _ in 0..<(4 + rng.next() % 5) {
                    attempts.append((t, i))
                    t += rng.next() % 8_000_000
                }
            }
            attempts.sort { ($0.time, $0.participant) < ($1.time, $1.participant) }
            var term: MessageID?
            var accepted = 0
            var problems: [String] = []
            for (k, a) in attempts.enumerated() {
                net.run(until: a.time)
                if term == nil && k >= attempts.count / 2 && net.stacks[terminator] != nil {
                    net.perform(terminator) { Self.handshake(net, terminator).terminate($0) }
                    term = Self.find("TERM", from: terminator, in: net, at: terminator)
                }
                guard let stack = net.stacks[a.participant] else { continue }
                let termInView = term.map { stack.context.contains($0) } ?? false
                if !Self.handshake(net, a.participant).started && !termInView { heldEarly += 1 }
                let ok = net.send(a.participant, [UInt8(a.participant), UInt8(k & 0xFF)])
                if ok { accepted += 1 }
                if termInView {
                    refused += 1
                    if ok { problems.append("p\(a.participant) sent with TERM in view") }
                }
            }
            net.settle()
            if term == nil {
                net.perform(terminator) { Self.handshake(net, terminator).terminate($0) }
                net.settle()
            }

            let everyone = Array(0..<n)
            let apps = net.applicationMessages
            if !net.converged { problems.append("did not converge") }
            if let start = Self.find("START", from: 0, in: net, at: 0) {
                for i in everyone {
                    let early = apps.filter { !net.stacks[i]!.context.precedes(start, $0) }
                    if !early.isEmpty { problems.append("p\(i): \(early.sorted()) do not follow START") }
                }
            } else {
                problems.append("no START")
            }
            let terminatedAt = Self.terminationTimes(trace)
            for i in everyone {
                let ids = net.delivered[i].map(\.message.id)
                if Set(ids) != apps || ids.count != apps.count { problems.append("p\(i) delivered \(ids.count) of \(apps.count)") }
                guard Self.handshake(net, i).terminated, let t = terminatedAt[i] else {
                    problems.append("p\(i) not terminated")
                    continue
                }
                if net.delivered[i].contains(where: { $0.time > t }) { problems.append("p\(i) delivers after terminating") }
                let done = Self.find("DONE", from: terminator, in: net, at: i)
                if !apps.allSatisfy({ a in done.map { net.stacks[i]!.context.precedes(a, $0) } ?? false }) {
                    problems.append("p\(i): DONE does not follow every application message")
                }
            }
            let dropped = everyone.map { Self.handshake(net, $0).droppedSends }.reduce(0, +)
            if accepted != apps.count + dropped { problems.append("accepted \(accepted), sent \(apps.count), dropped \(dropped)") }
            if !problems.isEmpty { failures.append("seed \(seed) (n \(n)): " + problems.prefix(3).joined(separator: "; ")) }
            if failures.count == 3 { break }
        }
        #expect(failures.count == 0, "failing seeds:\n\(failures.prefix(5).joined(separator: "\n"))")
        #expect(heldEarly > 50 && refused > 50, "the runs must send both before START and after TERM")
    }

    /// One run without losses, step by step: INIT, a READY from each, START; a send made before
    /// START waits for it; TERM, a TERM-ACK from each, DONE, and DONE follows everything.
    @Test func handshakesRunInThreeSteps() {
        let net = StackNetwork(participants: 3, seed: 4) { [HandshakeFilter()] }
        #expect(net.send(0, [1]), "a send before START is held, not refused")
        #expect(net.applicationMessages.isEmpty)
        net.run()
        let start = Self.find("START", from: 0, in: net, at: 0)!
        let readies = (1..<3).map { Self.find("READY", from: $0, in: net, at: 0)! }
        #expect(readies.allSatisfy { net.stacks[0]!.context.precedes($0, start) })
        #expect(net.applicationMessages.count == 1)
        #expect(net.applicationMessages.allSatisfy { net.stacks[0]!.context.precedes(start, $0) })

        net.send(1, [2])
        net.perform(2) { Self.handshake(net, 2).terminate($0) }
        #expect(!net.send(2, [3]), "the terminator refuses sends at once")
        net.run()
        let done = Self.find("DONE", from: 2, in: net, at: 2)!
        let context = net.stacks[2]!.context
        #expect((0..<2).allSatisfy { context.precedes(Self.find("TERM-ACK", from: $0, in: net, at: 2)!, done) })
        #expect(net.applicationMessages.allSatisfy { context.precedes($0, done) })
        #expect((0..<3).allSatisfy { Self.handshake(net, $0).terminated && net.delivered[$0].count == 2 })
        #expect(!net.send(0, [4]))
    }
}
