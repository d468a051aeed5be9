import Psync
import PsyncFilters

/// What a simulated run produced: the final images, the participants' histories, counters, and
/// the reference context of every message (for the checkers).
public struct SimulationResult: Sendable {
    public var config: SimulationConfig
    public var quiescenceNanoseconds: UInt64
    /// When the run was stopped before it drained (`Simulator.shouldStop`); nil if it was not.
    public var interruptedAtNanoseconds: UInt64?
    public var network: NetworkCounters
    public var hostCounters: [HostCounters]
    public var crashed: Set<HostID>
    /// Participants whose filter stack is muted at the end: removed from the conversation by a
    /// membership filter (Section 3.2.4) and not readmitted. The others masked them out and
    /// discarded what they sent after their removal's cut, so their images are not asked to
    /// converge, and of their deliveries only the top filter's are held to the total order (a
    /// prefix of the others'); the filters below ordered a graph the others do not have.
    public var removed: Set<Int> = []
    /// Crashed participants that some running participant's filters still wait for (its
    /// `FilterContext.agreed` still holds them): no membership filter removed them, so the
    /// promise of completeness does not hold (`FilterGuarantee.complete`).
    public var crashedAndAwaited: Set<Int> = []
    /// Per host (nil if crashed or without an image): each message with its predecessors. With
    /// the threshold Θ and without history recording, only the nodes not reclaimed.
    public var images: [[MessageID: [MessageID]]?]
    /// Per host (nil if crashed or without an image): how many of each participant's messages
    /// its image holds, reclaimed ones included. Images are down-closed, so this is the image's
    /// set of messages, in O(participants) memory.
    public var frontiers: [[UInt32]?]
    /// Per host: Section 3.3's figures of its image at the end.
    public var memory: [ImageMemory?]
    /// Section 5.2: re-executed participants that sent something else than the first time.
    public var reexecutionDivergences: [(participant: Int, message: MessageID)]
    /// Per participant: the replicated workload's state at the end (`Workload.Pattern.replicated`).
    public var replicas: [ReplicatedRegisters]
    /// Per participant: messages received, in order; and sent or received, in order.
    public var received: [[MessageID]]
    public var histories: [[MessageID]]
    public var historyTimes: [[UInt64]]
    /// The reference context of every message (empty unless `config.recordsHistory`).
    public var contexts: ReferenceContexts
    public var dataSent: Int
    public var acksSent: Int
    /// When each message was sent, and when each participant received it from Psync.
    public var sentAt: [MessageID: UInt64]
    public var receivedAt: [[MessageID: UInt64]]
    /// The stack's filters (bottom first), and per filter, per participant, their deliveries.
    public var filters: [String]
    public var filterDeliveries: [[[FilterDelivery]]]
    public var filterGuarantees: [Set<FilterGuarantee>]
    /// The messages that carry application data (with filters, the others are control).
    public var applicationMessages: Set<MessageID>

    /// Hosts a partition still cut off when the run fell quiet (it heals later, or never before
    /// the time limit). Psync cannot converge across a partition (Section 3.2.3 recovers what
    /// can be reached), so convergence is not asked of them; the summary says so.
    public var cutOffAtEnd: Set<Int> {
        let end = interruptedAtNanoseconds ?? quiescenceNanoseconds
        return Set(config.faults.partitions.filter { $0.startNanoseconds <= end && $0.healNanoseconds > end }
            .flatMap { $0.side.map(Int.init) })
    }

    /// The hosts whose images must converge: every host that has not crashed, is not cut off at
    /// the end and whose participant was not removed. One of them without an image never opened
    /// the conversation.
    public var convergingHosts: [Int] {
        let cutOff = cutOffAtEnd
        return (0..<config.participants).filter { !crashed.contains(HostID(UInt32($0))) && !cutOff.contains($0) && !removed.contains($0) }
    }

    /// Whether every host that must converge has an image, all holding the same messages.
    public var converged: Bool {
        let images = convergingHosts.map { frontiers[$0] }
        return images.allSatisfy { $0 != nil && $0 == images.first! }
    }

    /// How many messages each host's image holds (nil: crashed, or never opened).
    public var imageSizes: [Int?] { frontiers.map { $0.map { Int($0.reduce(0, +)) } } }

    public func total(_ field: KeyPath<HostCounters, Int>) -> Int { hostCounters.reduce(0) { $0 + $1[keyPath: field] } }

    public var drops: [DropReason: Int] {
        var out: [DropReason: Int] = [:]
        for c in hostCounters { out.merge(c.drops, uniquingKeysWith: +) }
        if network.lost > 0 { out[.loss] = network.lost }
        if network.droppedByPartition > 0 { out[.partition] = network.droppedByPartition }
        if network.droppedAtCrashedHost > 0 { out[.crashed] = network.droppedAtCrashedHost }
        return out
    }
}

extension Simulator {
    func result() -> SimulationResult {
        let cid = config.conversation
        let images: [[MessageID: [MessageID]]?] = hosts.indices.map { i in
            guard !crashed.contains(hosts[i].id), let image = hosts[i].image(cid) else { return nil }
            let live = Dictionary(uniqueKeysWithValues: image.map { ($0.0, $0.1) })
            return recorders[i].map { $0.messages.merging(live) { old, _ in old } } ?? live
        }
        return SimulationResult(
            config: config, quiescenceNanoseconds: lastActivity, interruptedAtNanoseconds: interruptedAt, network: network,
            hostCounters: hosts.map(\.counters), crashed: crashed,
            removed: Set(apps.indices.filter { apps[$0].stack?.context.muted == true }),
            crashedAndAwaited: Set(crashed.map { Int($0.rawValue) }.filter { q in
                apps.indices.contains { i in !crashed.contains(HostID(UInt32(i))) && apps[i].stack?.context.agreed[q] == true }
            }), images: images,
            frontiers: hosts.map { crashed.contains($0.id) ? nil : $0.frontier(cid) }, memory: hosts.map { $0.memory(cid) },
            reexecutionDivergences: divergences, replicas: apps.map(\.replica),
            received: apps.map(\.received), histories: apps.map(\.history), historyTimes: apps.map(\.historyTimes),
            contexts: ReferenceContexts(histories: apps.map(\.history), sent: apps.map(\.sends), resent: apps.map(\.resent),
                                        former: formerIncarnations),
            dataSent: apps.reduce(0) { $0 + $1.dataSent }, acksSent: apps.reduce(0) { $0 + $1.acksSent },
            sentAt: sentAt, receivedAt: receivedAt, filters: config.filters, filterDeliveries: filterDeliveries,
            filterGuarantees: filterGuarantees, applicationMessages: applicationMessages)
    }
}
