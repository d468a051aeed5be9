import Psync
import PsyncFilters
import PsyncTrace

/// What a simulation configuration must satisfy to run as asked. Configurations come from code,
/// from `psync simulate`'s options and from trace headers (`psync trace replay --verify` re-runs
/// the one a trace carries, which may have been edited), so both shells check here first: a
/// configuration that cannot run is refused with the reason, never trapped on or run for ever.
extension SimulationConfig {
    /// Participants a simulated conversation may have (the wire codec's default limit).
    public static let participantLimit = WireCodec.Limits().maxParticipants
    /// Data messages per participant: ten million is minutes of simulation; beyond it a run
    /// looks like a hang (the sequence numbers themselves would allow 2^32).
    public static let messageLimit = 10_000_000
    /// Payload bytes per message (the wire codec's default limit).
    public static let payloadLimit = WireCodec.Limits().maxPayloadBytes

    /// Every reason this configuration cannot run as asked, as sentences (empty when it can);
    /// the filter stack is made by `factory` and asked `FilterStack.problem(of:participants:)`.
    public func problems(factory: FilterFactory = FilterRegistry.makeStack) -> [String] {
        var found: [String] = []
        let n = participants
        if !(1...Self.participantLimit).contains(n) { found.append("participants must be 1...\(Self.participantLimit) (it is \(n))") }
        let w = workload
        if !(1...Self.messageLimit).contains(w.messagesPerParticipant) {
            found.append("messages per participant must be 1...\(Self.messageLimit) (it is \(w.messagesPerParticipant))")
        }
        if !(1...Self.payloadLimit).contains(w.payloadBytes) { found.append("payload must be 1...\(Self.payloadLimit) bytes (it is \(w.payloadBytes))") }
        if w.settleAttempts < 0 { found.append("settle attempts must not be negative") }
        if w.settleTimeoutNanoseconds == 0 { found.append("the settle timeout must be above 0") }
        var probabilities = [("reply", w.replyProbability), ("beta", w.betaFraction)]
        for (i, link) in ([network.link] + network.overrides.map(\.model)).enumerated() {
            let which = i == 0 ? "" : " (link override \(i))"
            probabilities += [("loss" + which, link.lossProbability), ("duplicate" + which, link.duplicateProbability),
                              ("reorder" + which, link.reorderProbability)]
            if case .uniform(let low, let high) = link.delay, low > high { found.append("delay\(which): the lower bound is above the upper bound") }
        }
        for (name, p) in probabilities where !(0...1).contains(p) { found.append("\(name) is a probability: 0...1 (it is \(p))") }
        func isHost(_ h: UInt32) -> Bool { Int(h) < n }
        for o in network.overrides where !isHost(o.from) || !isHost(o.to) { found.append("a link override names a host outside 0..<\(n)") }
        for p in faults.partitions {
            if !p.side.allSatisfy(isHost) { found.append("a partition names a host outside 0..<\(n)") }
            if p.startNanoseconds > p.healNanoseconds { found.append("a partition heals before it starts") }
        }
        for c in faults.crashes where !isHost(c.host) { found.append("a crash names a host outside 0..<\(n)") }
        for a in faults.attacks where !isHost(a.host) { found.append("attack \(a.argument) names a host outside 0..<\(n)") }
        for d in faults.drops where !(0..<n).contains(d.sender) || !(d.from.map(isHost) ?? true) || !(d.to ?? []).allSatisfy(isHost) {
            found.append("a drop rule names a participant outside 0..<\(n)")
        }
        for r in faults.restarts {
            if !faults.crashes.contains(where: { $0.host == r.host && $0.atNanoseconds < r.atNanoseconds }) {
                found.append("restart \(r.argument): the host must have crashed before")
            }
            // Re-execution needs a deterministic application (Section 5.2): the ring's sends
            // follow its receives, the replicated state machine's its deliveries; timed sends
            // and batch-timed acknowledgements do not. A removed participant cannot re-execute
            // its removal yet.
            let ring = w.pattern == .ring && !w.acknowledges && filters.isEmpty
            let replicated = w.pattern == .replicated && !filters.contains("membership")
            if !ring && !replicated {
                found.append("restart \(r.argument): restarts need a deterministic application: the ring workload without acknowledgements and no filter, or the replicated workload (no membership)")
            }
        }
        if w.pattern == .replicated {
            if w.payloadBytes < 10 { found.append("the replicated workload's commands need a payload of 10 bytes or more (it is \(w.payloadBytes))") }
            if (try? factory(filters))?.last?.guarantees.contains(.totalOrder) != true {
                found.append("the replicated workload needs a filter stack whose top filter promises total order (waves, say)")
            }
        }
        if timeLimitNanoseconds == 0 || timeLimitNanoseconds > TraceReader.latestTime {
            found.append("the time limit must be 1 ns...2^62 ns (it is \(timeLimitNanoseconds))")
        }
        found += host.problems.map { "host: \($0)" }
        do {
            if let why = FilterStack.problem(of: try factory(filters), participants: n) { found.append(why) }
        } catch {
            found.append("\(error)")
        }
        return found
    }
}
