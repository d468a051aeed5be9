import Testing
import Psync
import PsyncFilters
import PsyncTrace

/// The replicated-object filter of Section 4.3: replicas end identical, alphas run early, and
/// the termination condition of Figure 9(c) closes a batch before any beta is stable.
@Suite struct CommutativeFilterTests {
    /// A replicated set: an alpha `[0, "a", v]` inserts v; a beta `[0, "b", tag]` logs the tag
    /// and the sorted contents, and clears the set. (The tag makes the order of two betas of
    /// one batch matter.)
    struct ReplicatedSet: Equatable, CustomStringConvertible {
        var elements: Set<UInt8> = []
        var snapshots: [[UInt8]] = []

        static func insert(_ v: UInt8) -> [UInt8] { [0, UInt8(ascii: "a"), v] }
        static func snapshotAndClear(_ tag: UInt8) -> [UInt8] { [0, UInt8(ascii: "b"), tag] }
        static func isBeta(_ m: FilterMessage) -> Bool {
            if case .application(let payload) = m.content { payload[1] == UInt8(ascii: "b") } else { false }
        }

        mutating func execute(_ m: FilterMessage) {
            guard case .application(let payload) = m.content else { return }
            if Self.isBeta(m) {
                snapshots.append([payload[2]] + elements.sorted())
                elements.removeAll()
            } else {
                elements.insert(payload[2])
            }
        }

        var description: String { "\(elements.sorted()) log \(snapshots)" }
    }

    /// A seeded script of operations: (time, participant, payload), in time order. Values are
    /// unique, so a snapshot shows exactly which inserts it saw.
    static func script(_ rng: inout SplitMix64, participants n: Int, operations: Int, betaPercent: UInt64,
                       gapNanoseconds: UInt64) -> [(UInt64, Int, [UInt8])] {
        var out: [(UInt64, Int, [UInt8])] = []
        for i in 0..<n {
            var t: UInt64 = 0
            for k in 0..<operations {
                let beta = rng.next() % 100 < betaPercent
                out.append((t, i, beta ? ReplicatedSet.snapshotAndClear(UInt8(i)) : ReplicatedSet.insert(UInt8(i * 40 + k))))
                t += rng.next() % gapNanoseconds
            }
        }
        return out.sorted { ($0.0, $0.1) < ($1.0, $1.1) }
    }

    /// Runs `script` over the network (a participant not yet opened skips its operation), then
    /// lets it settle.
    static func play(_ script: [(UInt64, Int, [UInt8])], on net: StackNetwork) {
        for (time, i, payload) in script {
            net.run(until: time)
            if net.stacks[i] != nil { net.send(i, payload) }
        }
        net.settle()
    }

    /// Each replica's set after executing what its filter delivered, in order.
    static func replicas(_ net: StackNetwork) -> [ReplicatedSet] {
        net.delivered.map { ds in ds.reduce(into: ReplicatedSet()) { $0.execute($1.message) } }
    }

    /// New filters for a stack named bottom first.
    static func stack(_ names: [String]) -> () -> [OrderingFilter] {
        { try! FilterRegistry.makeStack(names) }
    }

    /// One seeded run: 2-4 replicas, lossy links, 20% snapshots.
    static func replicatedSetRun(seed: UInt64, stack names: [String]) -> StackNetwork {
        var rng = SplitMix64(seed: seed &* 0x9E37_79B9_7F4A_7C15 &+ 3)
        let n = 2 + Int(rng.next() % 3)
        let net = StackNetwork(participants: n, seed: rng.next(), loss: Double(rng.next() % 16) / 100, filters: stack(names))
        let ops = 3 + Int(rng.next() % 6)
        play(script(&rng, participants: n, operations: ops, betaPercent: 20, gapNanoseconds: 6_000_000), on: net)
        return net
    }

    /// Every replica executes every operation once, in a causal order, and ends with the same
    /// set and log. Also with the filter stacked on waves, whose total order holds input back
    /// behind the view (the case for which a batch waits until the view is input).
    @Test(arguments: [["commutative"], ["waves", "commutative"]])
    func replicatedSetEndsIdenticalEverywhere(stack names: [String]) {
        var failures: [String] = []
        var snapshotsTaken = 0
        for seed in UInt64(0)..<150 {
            let net = Self.replicatedSetRun(seed: seed, stack: names)
            let sets = Self.replicas(net)
            let sent = Set(net.sentAt.keys.filter { net.applicationMessages.contains($0) })
            let executedEverywhere = net.delivered.allSatisfy { Set($0.map(\.message.id)) == sent && $0.count == sent.count }
            let causal = net.delivered.indices.allSatisfy { i in
                let (ids, context) = (net.delivered[i].map(\.message.id), net.stacks[i]!.context)
                return ids.indices.allSatisfy { j in ids[..<j].allSatisfy { !context.precedes(ids[j], $0) } }
            }
            if !net.converged || !executedEverywhere || !causal || sets.contains(where: { $0 != sets[0] }) {
                failures.append("seed \(seed): converged \(net.converged), all executed once \(executedEverywhere), causal \(causal), replicas \(sets)")
                if failures.count == 3 { break }
            }
            snapshotsTaken += sets[0].snapshots.filter { $0.count > 1 }.count
        }
        #expect(failures.count == 0, "failing seeds:\n\(failures.prefix(3).joined(separator: "\n"))")
        #expect(snapshotsTaken > 100, "the scripts must exercise snapshots of non-empty sets")
    }

    /// The property above is not vacuous: with plain causal delivery, some replicas diverge
    /// (an insert concurrent with a snapshot lands on different sides of it).
    @Test func causalDeliveryAloneLetsReplicasDiverge() {
        let diverged = (UInt64(0)..<150).filter { seed in
            let sets = Self.replicas(Self.replicatedSetRun(seed: seed, stack: ["causal"]))
            return sets.contains { $0 != sets[0] }
        }
        #expect(diverged.count > 10)
    }

    /// Section 4.3's point: alphas need not wait for a wave to be complete. The same scripted
    /// runs under the total order of Section 4.2 and under this filter; mean time from an
    /// alpha's send to its execution, over every replica.
    @Test func alphasExecuteEarlierThanUnderWaves() {
        func meanAlphaLatency(_ filter: String) -> (mean: Double, count: Int) {
            var total: UInt64 = 0
            var count = 0
            for seed in UInt64(0)..<20 {
                var rng = SplitMix64(seed: seed)
                let net = StackNetwork(participants: 4, seed: rng.next(), filters: Self.stack([filter]))
                Self.play(Self.script(&rng, participants: 4, operations: 8, betaPercent: 25, gapNanoseconds: 20_000_000), on: net)
                for ds in net.delivered {
                    for d in ds where !ReplicatedSet.isBeta(d.message) {
                        total += d.time - net.sentAt[d.message.id]!
                        count += 1
                    }
                }
            }
            return (Double(total) / Double(max(count, 1)) / 1e6, count)
        }
        let commutative = meanAlphaLatency("commutative")
        let waves = meanAlphaLatency("waves")
        print("alpha send-to-execute, mean over \(commutative.count) executions: commutative \(commutative.mean) ms, waves \(waves.mean) ms")
        #expect(commutative.count > 0 && commutative.count == waves.count, "the same alphas execute everywhere under both")
        #expect(commutative.mean < waves.mean)
    }

    /// Figure 9(c): each participant has an unexecuted beta in view, a2 at a and b2 at b, sent
    /// at the same logical time. Everything either sends from now on follows one of them, so
    /// the batch {a2, b2} executes though neither is stable yet.
    @Test func terminationConditionClosesABatchBeforeAnyBetaIsStable() {
        let trace = MemoryTraceSink()
        let net = StackNetwork(participants: 2, seed: 1, trace: trace) { [CommutativeFilter()] }
        net.send(0, ReplicatedSet.insert(1))
        net.deliver { $0.to == 1 }  // b opens, executes a1 and acknowledges it with b1 (held in flight)
        net.send(0, ReplicatedSet.snapshotAndClear(0))
        net.send(1, ReplicatedSet.snapshotAndClear(1))
        let (a2, b2) = (MessageID(sender: 0, sequence: 2), MessageID(sender: 1, sequence: 2))
        #expect(net.lastSent == [a2, b2])
        var stableAtExecution: [Bool] = []
        for i in 0..<2 {
            let context = net.stacks[i]!.context
            net.stacks[i]!.onDeliver = { _, m, _ in
                if ReplicatedSet.isBeta(m) { stableAtExecution.append(context.stable(a2) || context.stable(b2)) }
            }
        }
        #expect(net.delivered.allSatisfy { !$0.contains { ReplicatedSet.isBeta($0.message) } }, "each alone cannot execute")

        net.deliver { $0.to == 0 }
        net.deliver { $0.to == 1 }
        #expect(net.delivered.map { $0.map(\.message.id) } == [[MessageID.root, a2, b2], [MessageID.root, a2, b2]])
        #expect(stableAtExecution == [false, false, false, false])
        let conditions = trace.events.compactMap { e -> String? in
            guard case .other(name: "batch", fields: let fields) = e.kind else { return nil }
            return fields.first { $0.0 == "condition" }.flatMap { if case .string(let s) = $0.1 { s } else { nil } }
        }
        #expect(conditions == ["termination", "termination"])
    }

    /// Figure 9(b): an alpha concurrent with an unexecuted beta executes at once; an alpha that
    /// follows it waits, and executes right after the beta's batch.
    @Test func alphasRunPastAnOpenBatchButNotPastAnUnexecutedBeta() {
        let net = StackNetwork(participants: 2, seed: 1) { [CommutativeFilter()] }
        net.send(0, ReplicatedSet.insert(1))                           // a1
        net.deliver { $0.to == 1 }                                     // b acknowledges: b1
        net.send(0, ReplicatedSet.snapshotAndClear(0))                 // a2, the beta
        net.send(1, ReplicatedSet.insert(2))                           // b2, concurrent with a2
        net.deliver { $0.to == 0 }                                     // a executes b2, acknowledges: a3
        let ids = { (i: Int) in net.delivered[i].map(\.message.id.description) }
        #expect(ids(0) == ["a1", "b2"])
        net.send(0, ReplicatedSet.insert(3))                           // a4 follows the beta a2
        #expect(ids(0) == ["a1", "b2"], "a4 waits for a2")
        net.deliver { $0.to == 1 }                                     // b executes a2, acknowledges: b3
        #expect(ids(1) == ["a1", "b2", "a2", "a4"])
        net.deliver { $0.to == 0 }                                     // b3 follows a2: a's batch
        #expect(ids(0) == ["a1", "b2", "a2", "a4"])
        #expect(Self.replicas(net) == [ReplicatedSet(elements: [3], snapshots: [[0, 1, 2]]),
                                       ReplicatedSet(elements: [3], snapshots: [[0, 1, 2]])])
    }
}

/// Filter stacks on hosts joined by a seeded network, for filter tests that steer runs by hand
/// or by script. (`ManualNetwork` cannot carry the host effects a stack drains, and `Simulator`
/// builds stacks only from `FilterRegistry` names and its own workload.) Host i runs participant
/// i; participant 0 opens. Each packet takes a seeded delay, so deliveries interleave, and is lost
/// with probability `loss`; host and filter timers fire in virtual time. Used by
/// `HandshakeFilterTests` too.
final class StackNetwork {
    struct InFlight {
        var from: Int
        var to: Int
        var packet: Packet
        var arrival: UInt64
    }

    let cid = ConversationID(5)
    let pids: [ParticipantID]
    let hosts: [Host]
    private(set) var stacks: [FilterStack?]
    private(set) var inFlight: [InFlight] = []
    private(set) var now: UInt64 = 0
    /// What reached each participant's application, in order, with when.
    private(set) var delivered: [[(message: FilterMessage, time: UInt64)]]
    /// When each message was sent.
    private(set) var sentAt: [MessageID: UInt64] = [:]
    private(set) var applicationMessages: Set<MessageID> = []
    /// Per participant, every message that entered its view, with its content: Section 3.3
    /// frees buffers in the image once messages are stable everywhere.
    private(set) var viewed: [[MessageID: FilterMessage]]
    let loss: Double
    private var timers: [(host: Int, id: TimerID, deadline: UInt64)] = []
    private var rng: SplitMix64
    private let delay: ClosedRange<UInt64>
    private let trace: TraceSink?
    private let makeFilters: () -> [OrderingFilter]

    init(participants n: Int, seed: UInt64, delay: ClosedRange<UInt64> = 500_000...5_000_000, loss: Double = 0,
         trace: TraceSink? = nil, filters: @escaping () -> [OrderingFilter]) {
        var config = HostConfig()
        config.reportsEvents = false
        pids = (0..<n).map { ParticipantID(host: HostID(UInt32($0))) }
        hosts = (0..<n).map { Host(id: HostID(UInt32($0)), config: config) }
        stacks = Array(repeating: nil, count: n)
        delivered = Array(repeating: [], count: n)
        viewed = Array(repeating: [:], count: n)
        rng = SplitMix64(seed: seed)
        self.delay = delay
        self.loss = loss
        self.trace = trace
        makeFilters = filters
        try! hosts[0].activeOpen(pids, as: pids[0], conversation: cid)
        for i in pids.indices.dropFirst() { _ = hosts[i].passiveOpen(pids[i], now: .zero) }
        open(0)
    }

    /// The application of participant i sends through its stack.
    @discardableResult
    func send(_ i: Int, _ payload: [UInt8]) -> Bool {
        let accepted = stacks[i]!.send(payload, now: Instant(nanoseconds: now))
        collect(i)
        return accepted
    }

    /// Delivers, now and in order, the in-flight packets matching `predicate` (not what they
    /// provoke).
    func deliver(where predicate: (InFlight) -> Bool) {
        let chosen = inFlight.filter(predicate)
        inFlight.removeAll(where: predicate)
        for p in chosen { arrive(p) }
    }

    /// Handles packets, host timers and filter timers in time order (ties in that order) until
    /// none is due by `limit` (or none is left), or 10,000 have been handled: a livelock, as
    /// these tests' runs take under 1,000.
    func run(until limit: UInt64 = .max) {
        for _ in 0..<10_000 {
            let packet = inFlight.indices.min { (inFlight[$0].arrival, $0) < (inFlight[$1].arrival, $1) }
            let timer = timers.indices.min { (timers[$0].deadline, $0) < (timers[$1].deadline, $1) }
            let filterTimer = stacks.indices.compactMap { i in stacks[i]?.nextTimerDeadline.map { ($0.nanoseconds, i) } }
                .min { $0 < $1 }
            let times = [packet.map { inFlight[$0].arrival } ?? .max, timer.map { timers[$0].deadline } ?? .max,
                         filterTimer?.0 ?? .max]
            let next = times.min()!
            guard next <= limit, next != .max else { break }
            now = max(now, next)
            if next == times[0] {
                arrive(inFlight.remove(at: packet!))
            } else if next == times[1] {
                let t = timers.remove(at: timer!)
                apply(hosts[t.host].handle(.timer(t.id), now: Instant(nanoseconds: now)), at: t.host)
                drain(t.host)
            } else {
                let i = filterTimer!.1
                take(stacks[i]!.fireTimers(now: Instant(nanoseconds: now)), at: i)
                collect(i)
            }
        }
        if limit != .max { now = max(now, limit) }
    }

    /// Each participant's last message (none before its stack opens).
    var lastSent: [MessageID?] { stacks.map { $0?.context.lastSent } }

    /// Participant i's application calls into one of its filters (`FilterStack.perform`).
    func perform(_ i: Int, _ body: (FilterContext) -> Void) {
        stacks[i]!.perform(now: Instant(nanoseconds: now), body)
        collect(i)
    }

    /// Runs to the end, then works around the last-ACK problem (Section 3.2.2) as `send_stable`
    /// does: participants resend their last message until every host has every message.
    func settle(rounds: Int = 40) {
        run()
        var left = rounds
        while idle && !converged && left > 0 {
            for i in hosts.indices {
                if let m = lastSent[i], (try? hosts[i].resend(m, in: cid, as: pids[i], now: Instant(nanoseconds: now))) == true {
                    collect(i)
                }
            }
            run()
            left -= 1
        }
    }

    /// Nothing in flight, no timer armed.
    var idle: Bool { inFlight.isEmpty && timers.isEmpty && stacks.allSatisfy { $0?.nextTimerDeadline == nil } }

    /// Idle, every participant opened, and every host holds the same messages.
    var converged: Bool {
        let images = hosts.map { Set(($0.image(cid) ?? []).map(\.0)) }
        return idle && stacks.allSatisfy { $0 != nil } && images.allSatisfy { $0 == images[0] }
    }

    private func open(_ i: Int) {
        let stack = try! FilterStack(makeFilters(), host: hosts[i], conversation: cid, participant: pids[i],
                                     now: Instant(nanoseconds: now), trace: trace)
        stack.onViewGrew = { [unowned self] m in
            self.viewed[i][m.id] = m
            if m.isApplication { self.applicationMessages.insert(m.id) }
            if m.sender == self.pids[i] { self.sentAt[m.id] = self.now }
        }
        stacks[i] = stack
        stack.start(now: Instant(nanoseconds: now)) { [unowned self] in self.take($0, at: i) }
        collect(i)
    }

    private func arrive(_ p: InFlight) {
        apply(hosts[p.to].handle(.packet(p.packet, from: HostID(UInt32(p.from))), now: Instant(nanoseconds: now)), at: p.to)
        drain(p.to)
    }

    private func drain(_ i: Int) {
        guard let stack = stacks[i] else { return }
        stack.drain(now: Instant(nanoseconds: now)) { [unowned self] in self.take($0, at: i) }
        collect(i)
    }

    /// Takes what a stack operation left: deliveries, and host effects to carry out.
    private func collect(_ i: Int) {
        take(stacks[i]!.takeApplicationDeliveries(), at: i)
        apply(stacks[i]!.takeHostEffects(), at: i)
    }

    private func take(_ messages: [FilterMessage], at i: Int) {
        delivered[i] += messages.map { ($0, now) }
    }

    private func apply(_ effects: [HostEffect], at i: Int) {
        for effect in effects {
            switch effect {
            case .transmit(let packet, let destinations):
                for to in destinations where rng.nextUnit() >= loss {
                    let d = delay.lowerBound + rng.next() % (delay.upperBound - delay.lowerBound + 1)
                    inFlight.append(InFlight(from: i, to: Int(to.rawValue), packet: packet, arrival: now + d))
                }
            case .setTimer(let id, let deadline):
                timers.removeAll { $0.host == i && $0.id == id }
                timers.append((i, id, deadline.nanoseconds))
            case .opened:
                open(i)
            case .messageAvailable, .sendable, .restarted, .timedOut, .event:
                break
            }
        }
    }
}
