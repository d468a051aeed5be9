import Psync
import PsyncAuth
import PsyncFilters
import PsyncTrace

/// Everything that determines a simulated run. Same configuration, same run, byte for byte.
public struct SimulationConfig: Codable, Sendable, Equatable {
    public var seed: UInt64
    /// One participant per host; host i runs participant `p<i>`.
    public var participants: Int
    public var workload: Workload
    public var network: NetworkModel
    public var faults: FaultSchedule
    public var host: HostConfig
    /// The run stops here even if events remain (a safety net; runs normally drain first).
    public var timeLimitNanoseconds: UInt64
    /// Keep each participant's history, receive and send times, filter deliveries and the
    /// reference contexts, for the checkers and the latency figures (memory grows with
    /// messages × participants). Off, a run's own bookkeeping stays constant in memory.
    public var recordsHistory: Bool
    /// The filter stack every participant's application uses, bottom first (`FilterRegistry`
    /// names, such as ["waves"] or ["waves", "membership"]); empty: the application receives
    /// straight from Psync.
    public var filters: [String]
    /// Authenticated conversations (`PsyncAuth`): every packet carries an HMAC-SHA256 tag
    /// under the conversation's key, derived from a secret the seed gives; packets that fail
    /// are dropped and traced. nil (the default) is the paper's trusted network; optional so
    /// that headers written before it read as that.
    public var authenticated: Bool?

    public init(seed: UInt64 = 1, participants: Int = 3, workload: Workload = Workload(),
                network: NetworkModel = NetworkModel(), faults: FaultSchedule = FaultSchedule(),
                host: HostConfig = HostConfig(), timeLimitNanoseconds: UInt64 = 3_600_000_000_000,
                recordsHistory: Bool = true, filters: [String] = [], authenticated: Bool = false) {
        self.seed = seed
        self.participants = participants
        self.workload = workload
        self.network = network
        self.faults = faults
        self.host = host
        self.timeLimitNanoseconds = timeLimitNanoseconds
        self.recordsHistory = recordsHistory
        self.filters = filters
        self.authenticated = authenticated ? true : nil
    }

    /// A simulation runs one conversation; its id is fixed so traces of different seeds line up.
    public var conversation: ConversationID { ConversationID(1) }
    public var participantIDs: [ParticipantID] { (0..<participants).map { ParticipantID(host: HostID(UInt32($0))) } }
}

/// Runs one simulation: virtual time, a seeded network, the scripted workload on every host.
///
/// Every packet goes through the wire codec (`HostInput.datagram`), so simulations exercise the
/// decoder and count real bytes. Effects of all hosts are interpreted here: transmissions become
/// delayed deliveries (or losses), timers become future events.
///
/// With a trace sink, the run is recorded: the header (with this configuration), every engine
/// event, every packet sent and received, and the network's faults. Without one, the hosts are
/// told not to report events and no record is built (`HostConfig.reportsEvents` is set from
/// whether a sink is attached).
public final class Simulator {
    public let config: SimulationConfig
    public internal(set) var hosts: [Host] = []
    public internal(set) var now: UInt64 = 0
    public internal(set) var network = NetworkCounters()
    public let trace: TraceSink?
    /// Builds a participant's filter stack (one per participant, bottom first).
    let makeStack: () -> [OrderingFilter]
    /// Observers see every host effect as it is produced, with the host and the time.
    public var effectObserver: ((HostID, UInt64, HostEffect) -> Void)?
    /// Told where the run stands every `checkpointEvents` events (a shell prints progress).
    public var onProgress: ((SimulationProgress) -> Void)?
    /// Asked every `checkpointEvents` events; once it answers true, the run stops between two
    /// events and its result says when (`SimulationResult.interruptedAtNanoseconds`).
    public var shouldStop: (() -> Bool)?
    public internal(set) var eventsProcessed = 0
    /// When the run was stopped by `shouldStop`; nil while it runs and when it drained.
    var interruptedAt: UInt64?

    enum Event {
        case deliver(to: HostID, from: HostID, packet: Packet, bytes: [UInt8])
        case timer(HostID, TimerID, deadline: UInt64)
        case send(Int)
        case settle(Int, generation: Int)
        case crash(HostID)
        /// `config.faults.restarts[k]`.
        case restart(Int)
        case filterTimer(Int, deadline: UInt64)
        case scripted(Int)
        /// Only scheduled when tracing, to record partitions starting and healing.
        case partition(Int, healing: Bool)
        /// `config.faults.attacks[k]`.
        case attack(Int)
    }

    var queue = EventQueue<Event>()
    var timerDeadlines: [HostID: [TimerID: UInt64]] = [:]
    var crashed: Set<HostID> = []
    var apps: [ScriptedParticipant] = []
    var networkRNG: SplitMix64
    var firedDropRules: Set<String> = []
    var lastActivity: UInt64 = 0
    /// When each message was sent, and received by each participant.
    var sentAt: [MessageID: UInt64] = [:]
    var receivedAt: [[MessageID: UInt64]]
    /// Actions scheduled with `at`.
    var scripted: [(Simulator) -> Void] = []
    /// What each filter of the stack promises (from the instances in use).
    var filterGuarantees: [Set<FilterGuarantee>] = []
    /// Messages that carry application data (not filter control).
    var applicationMessages: Set<MessageID> = []
    /// Per filter of the stack, per participant: deliveries in order.
    var filterDeliveries: [[[FilterDelivery]]]
    /// Per host, with the threshold Θ and history recording, or a restart with its log: the
    /// collected part of its image.
    var recorders: [ImageRecorder?] = []
    /// Section 5: each participant's application as it started (re-execution starts it again),
    /// its latest checkpoint (taken after each of its data messages, when a restart from one is
    /// scheduled), each host's engine settings and seed, and how many times it restarted.
    var initialApps: [ScriptedParticipant] = []
    /// A checkpoint under filters also says how many messages the participant had sent and
    /// the top filter had delivered (`FilterStack.resume`). Taken after each data message, a
    /// checkpoint is only a candidate until that message is stable (`commitCheckpoint`).
    var checkpoints: [Checkpoint?] = []
    var checkpointCandidates: [[Checkpoint]] = []
    var hostConfig: HostConfig
    var hostSeeds: [UInt64] = []
    var incarnations: [Int] = []
    /// Per participant, what its lost incarnations' applications recorded (history and sends):
    /// a message the engine suppressed when sent again keeps its first context (Section 5.2).
    var formerIncarnations: [[ReferenceContexts.Incarnation]] = []
    /// Re-executions that sent something else than the first time (a checker reports them).
    var divergences: [(participant: Int, message: MessageID)] = []
    /// Authenticated conversations: what seals and opens the hosts' packets (nil: the paper's
    /// trusted network), and the adversary of `config.faults.attacks`.
    var authenticator: PacketAuthenticator?
    var adversary: Adversary

    /// A simulation whose filter stack is `config.filters`, made by `factory` (the registry's
    /// filters by default; replay passes the factory a trace's filters need). Every name must be
    /// one the factory knows: check untrusted names first (`FilterRegistry.makeStack` throws a
    /// clear error), as the command line and the replay tools do.
    public convenience init(_ config: SimulationConfig, trace: TraceSink? = nil,
                            factory: @escaping FilterFactory = FilterRegistry.makeStack) {
        let names = config.filters
        do { _ = try factory(names) } catch { preconditionFailure("Simulator: \(error)") }
        self.init(config, trace: trace, stack: { try! factory(names) })
    }

    /// A simulation whose participants each run the stack `filters` makes (bottom first): an
    /// ordering policy under test, registered or not. The configuration's `filters` become the
    /// stack's names (`OrderingFilter.name`), so results, checkers and the trace say what ran.
    public convenience init(_ config: SimulationConfig, trace: TraceSink? = nil, filters: @escaping () -> [OrderingFilter]) {
        var named = config
        named.filters = filters().map(\.name)
        self.init(named, trace: trace, stack: filters)
    }

    private init(_ config: SimulationConfig, trace: TraceSink?, stack: @escaping () -> [OrderingFilter]) {
        precondition(config.participants >= 1, "a conversation needs at least one participant")
        self.config = config
        self.trace = trace
        makeStack = stack
        receivedAt = Array(repeating: [:], count: config.participants)
        filterDeliveries = Array(repeating: Array(repeating: [], count: config.participants), count: config.filters.count)
        hostConfig = config.host
        hostConfig.reportsEvents = trace != nil
        var root = SplitMix64(seed: config.seed)
        networkRNG = root.split()
        for i in 0..<config.participants {
            // With restarts, every host's collection writes a log (Section 5): a restarted host
            // asks for everything, freed buffers included, and the others serve those from it.
            let logs = !config.faults.restarts.isEmpty
            let recorder = (config.recordsHistory && hostConfig.retainedNodes != nil) || logs ? ImageRecorder(keepsLog: logs) : nil
            recorders.append(recorder)
            hostSeeds.append(root.next())
            hosts.append(Host(id: HostID(UInt32(i)), config: hostConfig, seed: hostSeeds[i], storage: recorder))
            apps.append(ScriptedParticipant(index: i, pid: config.participantIDs[i], rng: root.split(),
                                            newestData: Array(repeating: nil, count: config.participants)))
        }
        adversary = Adversary(seed: config.seed)
        if config.authenticated == true { authenticator = Adversary.conversationSecret(seed: config.seed) }
        initialApps = apps
        formerIncarnations = Array(repeating: [], count: apps.count)
        checkpoints = Array(repeating: nil, count: config.participants)
        checkpointCandidates = Array(repeating: [], count: config.participants)
        incarnations = Array(repeating: 0, count: config.participants)
    }

    /// Runs until no event remains (quiescence), the time limit, or `shouldStop`.
    @discardableResult
    public func run() -> SimulationResult {
        begin()
        var end = EndReason.quiescent
        while let (time, event) = queue.pop() {
            guard time <= config.timeLimitNanoseconds else {
                end = .timeLimit
                break
            }
            now = time
            process(event)
            eventsProcessed += 1
            if eventsProcessed % Self.checkpointEvents == 0 && checkpoint() {
                interruptedAt = now
                end = .interrupted
                break
            }
        }
        return finish(end)
    }

    /// Starts a run without running it: schedules the fault schedule's events, writes the
    /// trace's header and opens every participant. `run` then takes events in time order; the
    /// model checker (`Simulator+Stepping.swift`) chooses them itself.
    func begin() {
        for crash in config.faults.crashes { queue.push(.crash(HostID(crash.host)), at: crash.atNanoseconds) }
        for (k, r) in config.faults.restarts.enumerated() { queue.push(.restart(k), at: r.atNanoseconds) }
        for (k, a) in config.faults.attacks.enumerated() { queue.push(.attack(k), at: a.atNanoseconds) }
        if let trace {
            trace.record(TraceEvent(time: 0, host: nil, .header(config.traceHeader)))
            for (k, p) in config.faults.partitions.enumerated() {
                queue.push(.partition(k, healing: false), at: p.startNanoseconds)
                queue.push(.partition(k, healing: true), at: p.healNanoseconds)
            }
        }
        for i in apps.indices { start(i) }
    }

    /// Ends a run: the last record (a trace without it was cut short, and tools say they cannot
    /// tell), and what the run produced.
    func finish(_ end: EndReason) -> SimulationResult {
        record(nil, .end(reason: end.rawValue))
        return result()
    }

    func process(_ event: Event) {
        switch event {
        case .deliver(let to, let from, let packet, let bytes):
            guard !crashed.contains(to) else {
                network.droppedAtCrashedHost += 1
                record(to, .drop(DropRecord(reason: DropReason.crashed.rawValue, conversation: packet.conversation,
                                            message: PacketRecord(packet, peer: from, bytes: 0).message, from: from, to: to)))
                return
            }
            lastActivity = now
            let (packet, bytes) = arriving(packet, bytes, to: to)
            record(to, .packetIn(PacketRecord(packet, peer: from, bytes: bytes.count)))
            guard let datagram = opened(bytes, packet, from: from, to: to) else { return }
            apply(hosts[Int(to.rawValue)].handle(.datagram(datagram, from: from), now: Instant(nanoseconds: now)), host: to)
        case .timer(let host, let id, let deadline):
            guard !crashed.contains(host), timerDeadlines[host]?[id] == deadline else { return }
            timerDeadlines[host]?[id] = nil
            lastActivity = now
            apply(hosts[Int(host.rawValue)].handle(.timer(id), now: Instant(nanoseconds: now)), host: host)
        case .send(let i):
            guard !crashed.contains(hosts[i].id) else { return }
            lastActivity = now
            scheduledSend(i)
        case .settle(let i, let generation):
            guard !crashed.contains(hosts[i].id), apps[i].settleGeneration == generation else { return }
            lastActivity = now
            settle(i)
        case .scripted(let k):
            lastActivity = now
            scripted[k](self)
        case .filterTimer(let i, let deadline):
            guard !crashed.contains(hosts[i].id) else { return }
            lastActivity = now
            filterTimer(i, deadline: deadline)
        case .crash(let host):
            commitCheckpoint(Int(host.rawValue))
            crashed.insert(host)
            lastActivity = now
            record(host, .crash)
        case .restart(let k):
            lastActivity = now
            restart(config.faults.restarts[k])
        case .partition(let k, let healing):
            let side = config.faults.partitions[k].side.map(HostID.init)
            record(nil, healing ? .heal(side: side) : .partition(side: side, healAt: config.faults.partitions[k].healNanoseconds))
        case .attack(let k):
            lastActivity = now
            attack(config.faults.attacks[k])
        }
    }

    /// Records a trace event, if tracing; the event is built only then.
    func record(_ host: HostID?, _ kind: @autoclosure () -> TraceEvent.Kind) {
        if let trace { trace.record(TraceEvent(time: now, host: host, kind())) }
    }

    /// Carries out one host's effects (the engine lists participants to wake last).
    func apply(_ effects: [HostEffect], host: HostID) {
        for effect in effects {
            effectObserver?(host, now, effect)
            switch effect {
            case .transmit(let packet, let destinations):
                let bytes = authenticator.wireBytes(packet, limits: config.host.wireLimits)
                adversary.observe(packet, bytes, from: host)
                for to in destinations { transmit(packet, bytes, from: host, to: to) }
            case .setTimer(let id, let deadline):
                timerDeadlines[host, default: [:]][id] = deadline.nanoseconds
                queue.push(.timer(host, id, deadline: deadline.nanoseconds), at: max(deadline.nanoseconds, now))
            case .opened(let cid, _):
                opened(Int(host.rawValue), cid)
            case .messageAvailable:
                receiveAll(Int(host.rawValue))
            case .sendable:
                resumeBlockedSends(Int(host.rawValue))
            case .restarted(_, _, let restarted):
                let i = Int(host.rawValue)
                if let stack = apps[i].stack {
                    stack.participantRestarted(restarted, now: Instant(nanoseconds: now))
                    afterStack(i)
                }
            case .event(let e):
                record(host, Workload.traceKind(e, on: hosts[Int(host.rawValue)], framed: !config.filters.isEmpty))
            case .timedOut:
                break
            }
        }
    }

    func transmit(_ packet: Packet, _ bytes: [UInt8], from: HostID, to: HostID) {
        network.packetsSent += 1
        network.bytesSent += bytes.count
        record(from, .packetOut(PacketRecord(packet, peer: to, bytes: bytes.count)))
        if config.faults.separates(from, to, at: now) {
            network.droppedByPartition += 1
            return recordNetworkDrop(.partition, packet, from: from, to: to)
        }
        for (k, rule) in config.faults.drops.enumerated() where rule.matches(packet, from: from, to: to) {
            let key = "\(k)/\(from.rawValue)/\(to.rawValue)"
            if rule.firstOnly && firedDropRules.contains(key) { continue }
            firedDropRules.insert(key)
            network.droppedByRule += 1
            return recordNetworkDrop(.scripted, packet, from: from, to: to)
        }
        let fate = config.network.model(from: from, to: to).fate(&networkRNG)
        if fate.delays.isEmpty {
            network.lost += 1
            return recordNetworkDrop(.loss, packet, from: from, to: to)
        }
        network.duplicated += fate.delays.count - 1
        network.reordered += fate.reordered
        for delay in fate.delays {
            queue.push(.deliver(to: to, from: from, packet: packet, bytes: bytes), at: now + delay)
        }
    }

    func recordNetworkDrop(_ reason: DropReason, _ packet: Packet, from: HostID, to: HostID) {
        record(from, .drop(DropRecord(reason: reason.rawValue, conversation: packet.conversation,
                                      message: PacketRecord(packet, peer: to, bytes: 0).message, from: from, to: to)))
    }
}

/// What the simulated network did to packets.
public struct NetworkCounters: Sendable, Equatable {
    public var packetsSent = 0
    public var bytesSent = 0
    public var lost = 0
    public var duplicated = 0
    public var reordered = 0
    public var droppedByPartition = 0
    public var droppedByRule = 0
    public var droppedAtCrashedHost = 0
    /// Packets whose authentication tag was missing or wrong (authenticated conversations).
    public var droppedUnauthenticated = 0
    /// Packets the adversary of the fault schedule forged, altered or replayed.
    public var attacked = 0
}
