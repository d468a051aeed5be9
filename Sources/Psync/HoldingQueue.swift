/// Messages that arrived before some of their predecessors (Section 3.1.3): "placed in a holding
/// queue until all the predecessors are present". Under `RecoveryPolicy.paper` each held message
/// has a timer that drives the recovery of Sections 3.2.1 and 3.2.3 (ask the host it came from,
/// then every host, then give up); under `.gaps` the missing messages are tracked as gaps.
struct HoldingQueue {
    /// How far recovery for a held message has gone.
    enum Stage: Equatable {
        /// Waiting for the missing predecessors to arrive by themselves.
        case waiting
        /// A retransmission request went to the host the message came from (attempt number).
        case askedSource(attempt: Int)
        /// The request was broadcast to every host of the conversation (attempt number).
        case broadcast(attempt: Int)
    }

    struct Entry {
        var packet: AddNode
        var from: HostID
        var missing: Int
        var stage: Stage
        var deadline: Instant
    }

    private(set) var entries: [MessageID: Entry] = [:]
    /// Missing message -> held messages waiting for it.
    private var waiters: [MessageID: [MessageID]] = [:]

    var count: Int { entries.count }

    func contains(_ mid: MessageID) -> Bool { entries[mid] != nil }

    /// Whether some held message waits for `mid` (used by masking, Section 3.2.4, and gaps).
    func isAwaited(_ mid: MessageID) -> Bool { waiters[mid] != nil }

    /// The held messages, in id order, at most `limit` of them (the lowest ids).
    func heldMessages(limit: Int) -> [MessageID] { Array(entries.keys.sorted().prefix(limit)) }

    /// The held messages that wait for `mid`.
    func waiters(of mid: MessageID) -> [MessageID] { waiters[mid] ?? [] }

    subscript(mid: MessageID) -> Entry? {
        get { entries[mid] }
        set { entries[mid] = newValue }
    }

    mutating func hold(_ packet: AddNode, from: HostID, missing: [MessageID], deadline: Instant) {
        entries[packet.message] = Entry(packet: packet, from: from, missing: missing.count, stage: .waiting, deadline: deadline)
        for m in missing { waiters[m, default: []].append(packet.message) }
    }

    /// `mid` has been attached to the image: returns the held messages that no longer miss
    /// anything, removing them from the queue.
    mutating func attached(_ mid: MessageID) -> [Entry] {
        guard let waiting = waiters.removeValue(forKey: mid) else { return [] }
        var released: [Entry] = []
        for w in waiting {
            guard var e = entries[w] else { continue }
            e.missing -= 1
            if e.missing == 0 {
                entries[w] = nil
                released.append(e)
            } else {
                entries[w] = e
            }
        }
        return released
    }

    /// Removes a held message that recovery gave up on (Section 3.2.3), with its waits.
    /// (`.paper` stages only: `Stage` and the deadline are unused under `.gaps`.)
    mutating func discard(_ mid: MessageID, graph: ContextGraph) -> Entry? {
        guard let e = entries.removeValue(forKey: mid) else { return nil }
        for m in HoldingQueue.missing(of: e.packet, in: graph) {
            waiters[m]?.removeAll { $0 == mid }
            if waiters[m]?.isEmpty == true { waiters[m] = nil }
        }
        return e
    }

    /// The missing predecessors of a held message, given the image it waits on.
    static func missing(of packet: AddNode, in graph: ContextGraph) -> [MessageID] {
        packet.predecessors.filter { !graph.contains($0) }
    }
}
