import Psync

/// The short human-readable report `psync simulate` prints.
public struct SimulationSummary {
    public let result: SimulationResult
    public init(_ result: SimulationResult) { self.result = result }

    public var text: String {
        let r = result
        var lines = [
            "seed \(r.config.seed): \(r.config.participants) participants, delay \(r.config.network.link.delay), loss \(r.config.network.link.lossProbability), duplicate \(r.config.network.link.duplicateProbability), reorder \(r.config.network.link.reorderProbability)",
            "messages sent:        \(r.dataSent) data + \(r.acksSent) acks",
            "packets sent:         \(r.network.packetsSent) (\(r.network.bytesSent) bytes)",
            "recovery:             \(r.config.host.recovery.rawValue): \(r.total(\.retransmitRequestsSent)) requests, \(r.total(\.digestsSent)) digests, \(r.total(\.retransmittedMessages)) messages retransmitted, \(r.total(\.resends)) resends",
            "network:              \(r.network.lost) lost, \(r.network.duplicated) duplicated, \(r.network.reordered) reordered, \(r.network.droppedByPartition) cut by partitions",
            "drops:                " + (r.drops.isEmpty ? "none" : r.drops.sorted { $0.key.rawValue < $1.key.rawValue }.map { "\($0.key.rawValue) \($0.value)" }.joined(separator: ", ")),
            r.interruptedAtNanoseconds.map { "interrupted at:       \(formatMilliseconds($0)) of virtual time, before quiescence" }
                ?? "time to quiescence:   \(formatMilliseconds(r.quiescenceNanoseconds))",
            "images:               \(r.imageSizes.map { $0.map(String.init) ?? "-" }.joined(separator: ", ")) messages; converged: \(r.converged ? "yes" : "NO")"
                + (r.cutOffAtEnd.isEmpty ? "" : " among the hosts a partition did not cut off when the run fell quiet (not \(r.cutOffAtEnd.sorted().map { "h\($0)" }.joined(separator: ", ")))"),
        ]
        let memory = r.memory.compactMap { $0 }
        if r.config.host.retainedNodes != nil || r.config.host.bufferLimit != nil || r.total(\.sendsBlocked) > 0 {
            lines.append("memory (Section 3.3):  live nodes \(memory.map { String($0.liveNodes) }.joined(separator: ", ")); payload bytes held \(memory.map { String($0.payloadBytes) }.joined(separator: ", ")); sends blocked \(r.total(\.sendsBlocked))")
        }
        if !r.crashed.isEmpty { lines.append("crashed hosts:        \(r.crashed.sorted().map(\.description).joined(separator: ", "))") }
        if !r.removed.isEmpty {
            lines.append("removed participants: \(r.removed.sorted().map { "p\($0)" }.joined(separator: ", ")) (muted by membership; not asked to converge)")
        }
        if !r.filters.isEmpty {
            lines.append("latency, send to:     count      median         p99         max")
            lines.append(row("psync receive", r.receiveLatencies))
            for (f, name) in r.filters.enumerated() { lines.append(row("\(name) deliver", r.deliveryLatencies(filter: f))) }
        }
        return lines.joined(separator: "\n")
    }

    func row(_ label: String, _ latencies: [UInt64]) -> String {
        let p = Percentiles(latencies)
        return pad(label, 20) + pad("\(latencies.count)", 8) + pad(formatMilliseconds(p.median), 12)
            + pad(formatMilliseconds(p.p99), 12) + pad(formatMilliseconds(p.max), 12)
    }

    func pad(_ s: String, _ width: Int) -> String {
        s.count >= width ? s + " " : (width > 12 ? s + String(repeating: " ", count: width - s.count) : String(repeating: " ", count: width - s.count) + s)
    }
}

/// The median, 99th percentile and maximum of a sample, read from a `LatencyHistogram` (as
/// `psync trace stats` reads its own, so the two tools print the same figures).
public struct Percentiles: Equatable {
    public var median: UInt64 = 0
    public var p99: UInt64 = 0
    public var max: UInt64 = 0

    public init(_ values: [UInt64]) {
        guard !values.isEmpty else { return }
        let h = LatencyHistogram.of(values)
        median = h.valueAtPercentile(50)
        p99 = h.valueAtPercentile(99)
        max = h.max
    }
}

extension SimulationResult {
    /// Send-to-receive times of every Psync receive (own messages are never received). A
    /// receive before its message was sent is of a forgery under the same id (an `Attack` on a
    /// conversation without authentication): it has no latency.
    public var receiveLatencies: [UInt64] {
        receivedAt.flatMap { $0.compactMap { m, t in sentAt[m].flatMap { t >= $0 ? t - $0 : nil } } }
    }

    /// Send-to-deliver times of the application messages filter `f` delivered, at every participant.
    public func deliveryLatencies(filter f: Int) -> [UInt64] {
        filterDeliveries[f].flatMap { deliveries in
            deliveries.compactMap { d in
                guard case .application = d.content, let sent = sentAt[d.message], d.time >= sent else { return nil }
                return d.time - sent
            }
        }
    }
}

/// Milliseconds with three decimals, computed in integers so output is identical everywhere.
public func formatMilliseconds(_ ns: UInt64) -> String {
    let us = ns / 1_000
    let frac = String(us % 1_000)
    return "\(us / 1_000).\(String(repeating: "0", count: 3 - frac.count))\(frac) ms"
}
