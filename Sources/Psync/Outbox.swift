/// Where the engine puts what it produces while handling one input: effects for the shell,
/// running counters, and (only when reporting is on) engine events. Passed `inout` through the
/// image's operations so that they stay plain value-type code.
struct Outbox {
    var effects: [HostEffect] = []
    /// Participants to wake (`.opened`, `.messageAvailable`), handed to the shell after the
    /// other effects of the same call (`Host.takeEffects`): one packet can attach several
    /// messages, and a shell that wakes a participant as it reads the wake-up must already have
    /// seen every `arrive` of the call, or a trace would record a receive before its arrival.
    var wakeUps: [HostEffect] = []
    var counters = HostCounters()
    let reportsEvents: Bool

    /// Records an event; the event is not even built when reporting is off.
    mutating func event(_ e: @autoclosure () -> EngineEvent) {
        if reportsEvents { effects.append(.event(e())) }
    }

    /// Records an event before the effects from position `index` on.
    mutating func event(_ e: @autoclosure () -> EngineEvent, at index: Int) {
        if reportsEvents { effects.insert(.event(e()), at: index) }
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

    mutating func wake(_ effect: HostEffect) { wakeUps.append(effect) }

    /// Moves the effects into `out`, wake-ups last.
    mutating func drain(into out: inout [HostEffect]) {
        out.append(contentsOf: effects)
        effects.removeAll(keepingCapacity: true)
        guard !wakeUps.isEmpty else { return }
        out.append(contentsOf: wakeUps)
        wakeUps.removeAll(keepingCapacity: true)
    }

    mutating func setTimer(_ id: TimerID, _ deadline: Instant) {
        effects.append(.setTimer(id, deadline: deadline))
    }
}
