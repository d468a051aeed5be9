import Psync
import PsyncFilters
import PsyncTrace

/// A simulated run whose every step the model checker chooses (`Explorer`): the system
/// `psync explore` explores, and what a counterexample replays.
///
/// The model: the network is asynchronous, so any packet in flight may arrive next, be lost (at
/// most `ExplorationScope.losses` in all) or arrive twice (`duplicates`); any participant may
/// send its next message at any moment the workload allows; any participant may crash
/// (`crashes`) while something is still happening. Timers (the engine's recovery and digest
/// timers, the filters', the workload's settling) fire in deadline order, and only when no
/// packet is in flight and no participant has a send ready: a timeout is longer than any
/// packet's delay (the assumption under which Psync's recovery, Section 3.2.3, tells a loss
/// from a delay) and than the workload's pauses. Without it every retransmission timer could
/// fire before every delivery, and every digest round between two sends, and no scope would
/// be small.
///
/// Checked at every state: the filters' promises that hold at all times (each message once, in
/// causal order, the same total order, quorums) and the receive order; at quiescence also
/// convergence of the images and completeness (`Checker.check`, `FilterChecker.check`).
public final class ExploredRun: ExplorableSystem {
    /// A packet in flight, told apart from others by its bytes: `copy` counts identical ones
    /// (a duplicate) in the order they were sent.
    public struct Delivery: Hashable, Sendable, CustomStringConvertible {
        public var from: HostID
        public var to: HostID
        public var what: String
        public var digest: UInt64
        public var copy: Int
        public var description: String { "\(from)->\(to) \(what)" + (copy > 0 ? " #\(copy + 1)" : "") }
    }

    public enum Action: Hashable, Sendable, CustomStringConvertible {
        case deliver(Delivery)
        case lose(Delivery)
        case duplicate(Delivery)
        /// Participant i's application sends its next message.
        case send(Int)
        /// The timer with the earliest deadline fires (named for the reader).
        case timer(String)
        case crash(Int)

        public var description: String {
            switch self {
            case .deliver(let d): "deliver \(d)"
            case .lose(let d): "lose \(d)"
            case .duplicate(let d): "duplicate \(d)"
            case .send(let i): "send p\(i)"
            case .timer(let name): "timer \(name)"
            case .crash(let i): "crash p\(i)"
            }
        }
    }

    public let scope: ExplorationScope
    public let simulator: Simulator
    /// Shared by the runs of one search: each participant's state digest, by its inputs.
    private let localStates: LocalStates

    /// A participant's state is a function of its inputs: the digest of the state, computed
    /// once per distinct sequence of inputs (a reflection walk costs about a millisecond) and
    /// looked up for every global state that has the participant in it.
    public final class LocalStates {
        var digests: [StateFingerprint: StateFingerprint] = [:]
        public init() {}
    }
    public private(set) var lossesUsed = 0
    public private(set) var duplicatesUsed = 0
    public private(set) var crashesUsed = 0
    /// Per participant, a digest of everything that happened to it, in order (see `fingerprint`).
    private var inputs: [StateFingerprint.Digest]
    /// Each queued packet's `Delivery` (without its copy number), by queue entry: a packet is
    /// digested once.
    private var described: [UInt64: Delivery] = [:]

    /// The scope's run with the registry's filters (or `factory`'s), recorded to `trace` if given.
    public convenience init(_ scope: ExplorationScope, trace: TraceSink? = nil, localStates: LocalStates = LocalStates(),
                            factory: @escaping FilterFactory = FilterRegistry.makeStack) {
        self.init(scope, simulator: Simulator(scope.simulation, trace: trace, factory: factory), localStates: localStates)
    }

    /// The scope's run with the stack `filters` makes (an outside policy; the scope's filter
    /// names are replaced by the stack's).
    public convenience init(_ scope: ExplorationScope, trace: TraceSink? = nil, localStates: LocalStates = LocalStates(),
                            filters: @escaping () -> [OrderingFilter]) {
        var named = scope
        named.filters = filters().map(\.name)
        self.init(named, simulator: Simulator(named.simulation, trace: trace, filters: filters), localStates: localStates)
    }

    /// The search over every ordering of `scope`: its runs share the participants' state
    /// digests. `filters` makes the stack of an outside policy (default: the scope's names in
    /// the registry).
    public static func explorer(_ scope: ExplorationScope, limits: ExplorationLimits = ExplorationLimits(),
                                filters: (() -> [OrderingFilter])? = nil) -> Explorer<ExploredRun> {
        let shared = LocalStates()
        if let filters { return Explorer(limits: limits) { ExploredRun(scope, localStates: shared, filters: filters) } }
        return Explorer(limits: limits) { ExploredRun(scope, localStates: shared) }
    }

    private init(_ scope: ExplorationScope, simulator: Simulator, localStates: LocalStates) {
        self.scope = scope
        self.simulator = simulator
        self.localStates = localStates
        inputs = Array(repeating: StateFingerprint.Digest(), count: scope.participants)
        simulator.begin()
        dropStale()
    }

    // MARK: Choices

    private typealias Pending = Simulator.Pending

    /// The packets in flight, each with its queue entry, in the order they were sent; with
    /// `headsOnly` under `ExplorationScope.fifo`, only the oldest packet of each link (the ones
    /// that may arrive next).
    private func deliveries(_ pending: [Pending], headsOnly: Bool = true) -> [(Delivery, UInt64)] {
        var copies: [Delivery: Int] = [:]
        var links: Set<[UInt32]> = []
        var out: [(Delivery, UInt64)] = []
        for p in pending.sorted(by: { $0.order < $1.order }) {
            guard case .deliver(let to, let from, let packet, let bytes) = p.event else { continue }
            if headsOnly && scope.fifo && !links.insert([from.rawValue, to.rawValue]).inserted { continue }
            var d = described[p.order] ?? {
                var digest = StateFingerprint.Digest()
                digest.combine(bytes: bytes)
                let d = Delivery(from: from, to: to, what: packet.summary, digest: digest.fingerprint.low, copy: 0)
                described[p.order] = d
                return d
            }()
            d.copy = copies[d, default: 0]
            copies[described[p.order]!] = d.copy + 1
            out.append((d, p.order))
        }
        return out
    }

    /// The earliest timer, if it may fire (nothing in flight).
    private func dueTimer(_ pending: [Pending]) -> Pending? {
        pending.first { Self.isTimer($0.event) }
    }

    private static func isTimer(_ e: Simulator.Event) -> Bool {
        switch e {
        case .deliver, .send: false
        default: true
        }
    }

    private func timerName(_ e: Simulator.Event) -> String {
        switch e {
        case .timer(let host, let id, _): "\(host) \(id)"
        case .settle(let i, _): "settle p\(i)"
        case .filterTimer(let i, _): "filters p\(i)"
        default: "\(e)"
        }
    }

    public func enabledActions() -> [Action] {
        let pending = simulator.pendingEvents
        let inFlight = deliveries(pending)
        var out: [Action] = []
        for (d, _) in inFlight {
            out.append(.deliver(d))
            if lossesUsed < scope.losses { out.append(.lose(d)) }
            if duplicatesUsed < scope.duplicates { out.append(.duplicate(d)) }
        }
        var sends: [Action] = []
        for p in pending { if case .send(let i) = p.event { sends.append(.send(i)) } }
        out += sends
        if inFlight.isEmpty && sends.isEmpty, let timer = dueTimer(pending) { out.append(.timer(timerName(timer.event))) }
        if crashesUsed < scope.crashes && !pending.isEmpty {
            out += simulator.hosts.indices.filter { !simulator.crashed.contains(simulator.hosts[$0].id) }.map { .crash($0) }
        }
        return out
    }

    public func perform(_ action: Action) {
        let pending = simulator.pendingEvents
        func order(of d: Delivery) -> UInt64 {
            guard let o = deliveries(pending).first(where: { $0.0 == d })?.1 else { preconditionFailure("\(d) is not in flight") }
            return o
        }
        switch action {
        case .deliver(let d):
            simulator.fire(order: order(of: d), advancesClock: false)
            note(d.to, 1, d.digest, UInt64(d.from.rawValue))
        case .lose(let d):
            simulator.lose(order: order(of: d))
            lossesUsed += 1
        case .duplicate(let d):
            simulator.duplicate(order: order(of: d))
            duplicatesUsed += 1
            note(d.to, 1, d.digest, UInt64(d.from.rawValue))
        case .send(let i):
            guard let p = pending.first(where: { if case .send(i) = $0.event { true } else { false } }) else {
                preconditionFailure("p\(i) has nothing to send")
            }
            simulator.fire(order: p.order, advancesClock: false)
            note(HostID(UInt32(i)), 2)
        case .timer(let name):
            guard let p = dueTimer(pending) else { preconditionFailure("no timer is due") }
            simulator.fire(order: p.order, advancesClock: true)
            var digest = StateFingerprint.Digest()
            digest.combine(bytes: Array(name.utf8))
            note(owner(of: p.event), 3, digest.fingerprint.low)
        case .crash(let i):
            simulator.crashNow(simulator.hosts[i].id)
            crashesUsed += 1
            note(HostID(UInt32(i)), 4)
        }
        dropStale()
    }

    /// Performs the enabled action that reads `text` (a counterexample's line, as a scenario
    /// test replays it); false if none does.
    @discardableResult
    public func perform(_ text: String) -> Bool {
        guard let action = enabledActions().first(where: { $0.description == text }) else { return false }
        perform(action)
        return true
    }

    /// Adds an input to participant `host`'s digest, with the time it came at.
    private func note(_ host: HostID, _ kind: UInt64, _ a: UInt64 = 0, _ b: UInt64 = 0) {
        let i = Int(host.rawValue)
        inputs[i].combine(kind)
        inputs[i].combine(a)
        inputs[i].combine(b)
        inputs[i].combine(simulator.now)
    }

    /// The participant a timer belongs to.
    private func owner(of e: Simulator.Event) -> HostID {
        switch e {
        case .timer(let host, _, _), .crash(let host): host
        case .settle(let i, _), .filterTimer(let i, _), .send(let i): HostID(UInt32(i))
        default: HostID(0)  // events of the fault schedule: the scope has none
        }
    }

    /// Takes out the queued events that would do nothing (timers re-armed since, sends past the
    /// budget, anything for a crashed participant) and carries out deliveries to crashed hosts
    /// (each a traced drop), so that no choice is spent on them.
    private func dropStale() {
        let s = simulator
        for p in s.pendingEvents {
            let down = { (h: HostID) in s.crashed.contains(h) }
            switch p.event {
            case .deliver(let to, _, _, _) where down(to):
                s.fire(order: p.order, advancesClock: false)
            case .timer(let host, let id, let deadline) where down(host) || s.timerDeadlines[host]?[id] != deadline:
                s.discard(order: p.order)
            case .send(let i) where down(s.hosts[i].id) || s.apps[i].dataSent >= scope.messagesPerParticipant:
                s.discard(order: p.order)
            case .settle(let i, let generation) where down(s.hosts[i].id) || s.apps[i].settleGeneration != generation:
                s.discard(order: p.order)
            case .filterTimer(let i, let deadline) where down(s.hosts[i].id) || s.apps[i].stackTimer != deadline:
                s.discard(order: p.order)
            default:
                break
            }
        }
    }

    // MARK: State and properties

    public var isQuiescent: Bool { simulator.queue.isEmpty }

    /// The global state is each participant's state (its host, its application with its
    /// filters, its timers), what is in flight (as a multiset) and the faults spent.
    ///
    /// A participant is a deterministic state machine, so the sequence of its inputs (packets
    /// with their bytes, its sends, its timers, each with the time it came at) determines its
    /// state; its state's digest (`StateFingerprint`, by reflection) is computed once per
    /// distinct input sequence (`LocalStates`) and combined here. Statistics (`counters`) and
    /// times of past events (`historyTimes`, a delivery's time) are left out: they decide
    /// nothing that follows, and with them two orders of arrivals that leave a host in the
    /// same state would stay two states. The network's generator is left out too: it only
    /// draws delays, and here the checker chooses the order of arrivals.
    public func fingerprint() -> StateFingerprint {
        var d = StateFingerprint.Digest()
        for i in inputs.indices {
            var key = inputs[i]
            key.combine(UInt64(i))
            let f = localStates.digests[key.fingerprint] ?? {
                let f = localState(i)
                localStates.digests[key.fingerprint] = f
                return f
            }()
            d.combine(f.high)
            d.combine(f.low)
        }
        var inFlight = StateFingerprint.Digest()
        let flying = deliveries(simulator.pendingEvents, headsOnly: false)
        inFlight.combineUnordered(flying.map { [UInt64($0.0.from.rawValue), UInt64($0.0.to.rawValue), $0.0.digest] }, count: flying.count)
        let f = inFlight.fingerprint
        for x in [f.high, f.low, UInt64(lossesUsed), UInt64(duplicatesUsed), UInt64(crashesUsed)] { d.combine(x) }
        return d.fingerprint
    }

    /// The digest of participant i's state: host, application (filter stack within), its
    /// pending events (timers, settling, its next send) with their times, what its filters
    /// delivered, whether it crashed.
    private func localState(_ i: Int) -> StateFingerprint {
        let s = simulator
        let host = s.hosts[i].id
        var d = StateFingerprint.Digest(skipping: ["counters", "historyTimes"])
        d.walk(s.hosts[i])
        d.walk(s.apps[i])
        let own = s.pendingEvents.filter { if case .deliver = $0.event { false } else { owner(of: $0.event) == host } }
        d.combineUnordered(own.map { "\($0.time) \(timerName($0.event))" }, count: own.count)
        d.walk(s.filterDeliveries.map { $0[i].map { [$0.message.description, String($0.historyLength)] } })
        d.walk(s.crashed.contains(host))
        return d.fingerprint
    }

    /// The run so far, as the checkers read it.
    public var result: SimulationResult { simulator.result() }

    public func violations() -> [Checker.Violation] {
        let r = result
        if isQuiescent { return Checker.check(r) + FilterChecker.check(r) }
        return Checker.receiveOrder(r) + FilterChecker.check(r, atQuiescence: false)
    }

    /// The run so far as a result (the trace, if recorded, gets its last record).
    public func finish() -> SimulationResult { simulator.finishSteps() }

    /// Two actions commute unless they concern the same participant (a delivery or loss of a
    /// packet to it, its send, its crash), spend the same fault budget, or one is a timer
    /// (timers wait for the network to be empty, so every delivery enables them).
    public static func independent(_ a: Action, _ b: Action) -> Bool {
        func place(_ x: Action) -> (host: Int?, budget: Int?) {
            switch x {
            case .deliver(let d): (Int(d.to.rawValue), nil)
            case .lose(let d): (Int(d.to.rawValue), 1)
            case .duplicate(let d): (Int(d.to.rawValue), 2)
            case .send(let i): (i, nil)
            case .crash(let i): (i, 3)
            case .timer: (nil, nil)
            }
        }
        let (pa, pb) = (place(a), place(b))
        guard let ha = pa.host, let hb = pb.host, ha != hb else { return false }
        return pa.budget == nil || pa.budget != pb.budget
    }
}
