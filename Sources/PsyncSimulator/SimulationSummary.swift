import Psync

/// The short human-readable report `psync simulate` prints.
public struct SimulationSummary {
    public let result: SimulationResult
    public init(_ result: SimulationResult) { self.result = result }

    public var text: String {
        let r = result
        let images = r.images.compactMap { $0?.count }
        var lines = [
            "seed \(r.config.seed): \(r.config.participants) participants, delay \(r.config.network.link.delay), loss \(r.config.network.link.lossProbability), duplicate \(r.config.network.link.duplicateProbability), reorder \(r.config.network.link.reorderProbability)",
            "messages sent:        \(r.dataSent) data + \(r.acksSent) acks",
            "packets sent:         \(r.network.packetsSent) (\(r.network.bytesSent) bytes)",
            "retransmit requests:  \(r.total(\.retransmitRequestsSent)), messages retransmitted: \(r.total(\.retransmittedMessages)), resends: \(r.total(\.resends))",
            "network:              \(r.network.lost) lost, \(r.network.duplicated) duplicated, \(r.network.reordered) reordered, \(r.network.droppedByPartition) cut by partitions",
            "drops:                " + (r.drops.isEmpty ? "none" : r.drops.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")),
            "time to quiescence:   \(formatMilliseconds(r.quiescenceNanoseconds))",
            "images:               \(images.map(String.init).joined(separator: ", ")) messages; converged: \(r.converged ? "yes" : "NO")",
        ]
        if !r.crashed.isEmpty { lines.append("crashed hosts:        \(r.crashed.sorted().map(\.description).joined(separator: ", "))") }
        return lines.joined(separator: "\n")
    }
}

/// Milliseconds with three decimals, computed in integers so output is identical everywhere.
public func formatMilliseconds(_ ns: UInt64) -> String {
    let us = ns / 1_000
    let frac = String(us % 1_000)
    return "\(us / 1_000).\(String(repeating: "0", count: 3 - frac.count))\(frac) ms"
}
