/// Where the engine puts what it produces while handling one input: effects for the shell,
/// running counters, and (only when reporting is on) engine events. Passed `inout` through the
/// image's operations so that they stay plain value-type code.
struct Outbox {
    var effects: [HostEffect] = []
    var counters = HostCounters()
    let reportsEvents: Bool

    /// Records an event; the event is not even built when reporting is off.
    mutating func event(_ e: @autoclosure () -> EngineEvent) {
        if reportsEvents { effects.append(.event(e())) }
    }

    mutating func drop(_ d: Drop) {
        counters.drops[d.reason, default: 0] += 1
        if reportsEvents { effects.append(.event(.drop(d))) }
    }

    mutating func transmit(_ packet: Packet, to hosts: [HostID]) {
        guard !hosts.isEmpty else { return }
        counters.packetsSent += hosts.count
        effects.append(.transmit(packet, to: hosts))
    }

    mutating func setTimer(_ id: TimerID, _ deadline: Instant) {
        effects.append(.setTimer(id, deadline: deadline))
    }
}
