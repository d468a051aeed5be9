import Psync

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
    /// Keep each participant's history for the checkers (memory grows with messages squared).
    public var recordsHistory: Bool

    public init(seed: UInt64 = 1, participants: Int = 3, workload: Workload = Workload(),
                network: NetworkModel = NetworkModel(), faults: FaultSchedule = FaultSchedule(),
                host: HostConfig = HostConfig(), timeLimitNanoseconds: UInt64 = 3_600_000_000_000,
                recordsHistory: Bool = true) {
        self.seed = seed
        self.participants = participants
        self.workload = workload
        self.network = network
        self.faults = faults
        self.host = host
        self.timeLimitNanoseconds = timeLimitNanoseconds
        self.recordsHistory = recordsHistory
    }

    public var conversation: ConversationID { ConversationID(seed ^ 0x5053_594E_4331_0000) }
    public var participantIDs: [ParticipantID] { (0..<participants).map { ParticipantID(host: HostID(UInt32($0))) } }
}

/// Runs one simulation: virtual time, a seeded network, the scripted workload on every host.
///
/// Every packet goes through the wire codec (`HostInput.datagram`), so simulations exercise the
/// decoder and count real bytes. Effects of all hosts are interpreted here: transmissions become
/// delayed deliveries (or losses), timers become future events.
public final class Simulator {
    public let config: SimulationConfig
    public private(set) var hosts: [Host] = []
    public private(set) var now: UInt64 = 0
    public private(set) var network = NetworkCounters()
    /// Observers see every host effect as it is produced, with the host and the time.
    public var effectObserver: ((HostID, UInt64, HostEffect) -> Void)?

    enum Event {
        case deliver(to: HostID, from: HostID, bytes: [UInt8])
        case timer(HostID, TimerID, deadline: UInt64)
        case send(Int)
        case settle(Int, generation: Int)
        case crash(HostID)
    }

    var queue = EventQueue<Event>()
    var timerDeadlines: [HostID: [TimerID: UInt64]] = [:]
    var crashed: Set<HostID> = []
    var apps: [ScriptedParticipant] = []
    var networkRNG: SplitMix64
    var firedDropRules: Set<String> = []
    var lastActivity: UInt64 = 0
    /// Reference model: for each message, the set of messages in its sender's view when sent.
    public internal(set) var contexts: [MessageID: Set<MessageID>] = [:]

    public init(_ config: SimulationConfig) {
        precondition(config.participants >= 1, "a conversation needs at least one participant")
        self.config = config
        var root = SplitMix64(seed: config.seed)
        networkRNG = root.split()
        for i in 0..<config.participants {
            hosts.append(Host(id: HostID(UInt32(i)), config: config.host))
            apps.append(ScriptedParticipant(index: i, pid: config.participantIDs[i], rng: root.split()))
        }
    }

    /// Runs until no event remains (quiescence) or the time limit.
    @discardableResult
    public func run() -> SimulationResult {
        for crash in config.faults.crashes { queue.push(.crash(HostID(crash.host)), at: crash.atNanoseconds) }
        for i in apps.indices { start(i) }
        while let (time, event) = queue.pop() {
            guard time <= config.timeLimitNanoseconds else { break }
            now = time
            process(event)
        }
        return result()
    }

    func process(_ event: Event) {
        switch event {
        case .deliver(let to, let from, let bytes):
            guard !crashed.contains(to) else { network.droppedAtCrashedHost += 1; return }
            lastActivity = now
            apply(hosts[Int(to.rawValue)].handle(.datagram(bytes, from: from), now: Instant(nanoseconds: now)), host: to)
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
        case .crash(let host):
            crashed.insert(host)
            lastActivity = now
        }
    }

    /// Carries out one host's effects.
    func apply(_ effects: [HostEffect], host: HostID) {
        for effect in effects {
            effectObserver?(host, now, effect)
            switch effect {
            case .transmit(let packet, let destinations):
                let bytes = WireCodec.encode(packet, limits: config.host.wireLimits)
                for to in destinations { transmit(packet, bytes, from: host, to: to) }
            case .setTimer(let id, let deadline):
                timerDeadlines[host, default: [:]][id] = deadline.nanoseconds
                queue.push(.timer(host, id, deadline: deadline.nanoseconds), at: max(deadline.nanoseconds, now))
            case .opened(let cid, _):
                opened(Int(host.rawValue), cid)
            case .messageAvailable:
                receiveAll(Int(host.rawValue))
            case .timedOut, .event:
                break
            }
        }
    }

    func transmit(_ packet: Packet, _ bytes: [UInt8], from: HostID, to: HostID) {
        network.packetsSent += 1
        network.bytesSent += bytes.count
        if config.faults.separates(from, to, at: now) { network.droppedByPartition += 1; return }
        for (k, rule) in config.faults.drops.enumerated() where rule.matches(packet, from: from, to: to) {
            let key = "\(k)/\(from.rawValue)/\(to.rawValue)"
            if rule.firstOnly && firedDropRules.contains(key) { continue }
            firedDropRules.insert(key)
            network.droppedByRule += 1
            return
        }
        let link = config.network.model(from: from, to: to)
        if networkRNG.nextUnit() < link.lossProbability { network.lost += 1; return }
        let copies = networkRNG.nextUnit() < link.duplicateProbability ? 2 : 1
        network.duplicated += copies - 1
        for _ in 0..<copies {
            var delay = link.delay.sample(&networkRNG)
            if networkRNG.nextUnit() < link.reorderProbability {
                delay += UInt64(networkRNG.nextUnit() * Double(link.reorderDelayMaxNanoseconds))
                network.reordered += 1
            }
            queue.push(.deliver(to: to, from: from, bytes: bytes), at: now + delay)
        }
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
}
