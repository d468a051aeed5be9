import Psync

/// The simulator driven one chosen event at a time, for the model checker (`ExploredRun`):
/// instead of taking events in time order, the caller picks any pending one (a packet's
/// delivery, loss or duplication, a participant's next send, a crash), so that every order the
/// network and the workload allow can be tried. Everything else (the engine, the filters, the
/// workload's answers, the trace) is the simulator's own code, so what the checker explores is
/// what `psync simulate` runs.
extension Simulator {
    /// An event waiting in the queue, named by its insertion number.
    struct Pending {
        var order: UInt64
        var time: UInt64
        var event: Event
    }

    /// The queued events, in time order (ties by insertion).
    var pendingEvents: [Pending] {
        queue.entries.map { Pending(order: $0.order, time: $0.time, event: $0.event) }
            .sorted { ($0.time, $0.order) < ($1.time, $1.order) }
    }

    /// Takes the event `order` out of the queue and carries it out now; a timer moves the
    /// clock to its deadline first. Deliveries and sends do not move it: the network's delays
    /// and the workload's intervals are what the checker chooses, and a clock that moved with
    /// them would make the same state reached in two orders look like two.
    func fire(order: UInt64, advancesClock: Bool) {
        guard let (time, event) = queue.remove(order: order) else { preconditionFailure("no pending event \(order)") }
        if advancesClock { now = max(now, time) }
        process(event)
        eventsProcessed += 1
    }

    /// Takes the event `order` out of the queue without carrying it out (a timer that was
    /// re-armed or cancelled since: carrying it out would do nothing).
    func discard(order: UInt64) { _ = queue.remove(order: order) }

    /// Carries out a copy of the pending delivery `order` and leaves it queued: the network
    /// duplicated the packet.
    func duplicate(order: UInt64) {
        guard let pending = queue.entries.first(where: { $0.order == order }), case .deliver = pending.event else {
            preconditionFailure("no pending delivery \(order)")
        }
        network.duplicated += 1
        process(pending.event)
        eventsProcessed += 1
    }

    /// Takes the pending delivery `order` out of the queue: the network lost the packet.
    func lose(order: UInt64) {
        guard let (_, event) = queue.remove(order: order), case .deliver(let to, let from, let packet, _) = event else {
            preconditionFailure("no pending delivery \(order)")
        }
        network.lost += 1
        recordNetworkDrop(.loss, packet, from: from, to: to)
    }

    /// Crashes `host` now (Section 3.2.3: it stops; what is on its way to it is dropped on arrival).
    func crashNow(_ host: HostID) {
        process(.crash(host))
    }

    /// Ends a run the caller drove: the trace's last record (a counterexample's, unless the
    /// run reached quiescence) and the result.
    func finishSteps() -> SimulationResult { finish(queue.isEmpty ? .quiescent : .counterexample) }
}
