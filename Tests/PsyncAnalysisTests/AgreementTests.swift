import Testing
import Psync
import PsyncAnalysis
import PsyncFilters
import PsyncSimulator
import PsyncTrace

/// `psync simulate` and `psync trace stats` read the same run: every count and percentile they
/// both print must agree, under every filter, over many seeds. And a trace is in cause order:
/// a message's send is recorded before anything it causes (a delivery inside the send call).
@Suite struct AgreementTests {
    static let filters = FilterRegistry.catalog.map(\.name).filter { $0 != "membership" }.map { [$0] } + [["waves", "membership"], []]

    static func run(seed: UInt64, filters: [String]) -> (SimulationResult, [TraceEvent]) {
        var config = SimulationConfig(seed: seed, participants: 2 + Int(seed % 4), filters: filters)
        config.workload.messagesPerParticipant = 8 + Int(seed % 7)
        config.network.link.lossProbability = Double(seed % 3) * 0.08
        config.network.link.reorderProbability = 0.1
        config.workload.betaFraction = filters.contains("commutative") ? 0.2 : 0
        let sink = MemoryTraceSink()
        let result = Simulator(config, trace: sink).run()
        return (result, sink.events)
    }

    @Test(arguments: filters)
    func simulateAndTraceStatsAgree(filters: [String]) {
        for seed in UInt64(0)..<12 {
            let (r, events) = Self.run(seed: seed, filters: filters)
            var stats = TraceStatistics()
            for e in events { stats.observe(e) }
            let c = stats.counts
            let context = "seed \(seed), filters \(filters): reproduce: \(r.config.reproductionCommand())"
            #expect(c["messages sent: data"] ?? 0 == r.dataSent, "\(context)")
            #expect(c["messages sent: ack"] ?? 0 == r.acksSent, "\(context)")
            #expect(c["packets sent"] ?? 0 == r.network.packetsSent, "\(context)")
            #expect(c["bytes sent"] ?? 0 == r.network.bytesSent, "\(context)")
            #expect(c["messages retransmitted"] ?? 0 == r.total(\.retransmittedMessages), "\(context)")
            for (reason, n) in r.drops { #expect(c["drops: \(reason.rawValue)"] ?? 0 == n, "\(reason): \(context)") }
            Self.expectSame(r.receiveLatencies, stats.metrics["receive"], "receive: \(context)")
            for (f, name) in r.filters.enumerated() {
                #expect(c["deliveries: \(name)"] ?? 0 == r.deliveryLatencies(filter: f).count, "\(name): \(context)")
                Self.expectSame(r.deliveryLatencies(filter: f), stats.metrics["deliver:\(name)"], "deliver \(name): \(context)")
            }
        }
    }

    static func expectSame(_ latencies: [UInt64], _ metric: TraceStatistics.Metric?, _ context: String) {
        let h = metric?.overall
        #expect(Int(h?.totalCount ?? 0) == latencies.count, "count, \(context)")
        guard let h, !latencies.isEmpty else { return }
        let p = Percentiles(latencies)
        #expect([p.median, p.p99, p.max] == [h.valueAtPercentile(50), h.valueAtPercentile(99), h.max], "percentiles, \(context)")
    }

    /// Every delivery, and every receive, comes after the send record of its message.
    @Test(arguments: filters)
    func aSendIsRecordedBeforeWhatItCauses(filters: [String]) {
        for seed in UInt64(0)..<12 {
            let (_, events) = Self.run(seed: seed, filters: filters)
            var sent: Set<MessageID> = []
            for (k, e) in events.enumerated() {
                switch e.kind {
                case .send(_, _, let m, _, _, _):
                    sent.insert(m)
                case .receive(_, _, let m) where m != .root:
                    #expect(sent.contains(m), "seed \(seed), \(filters): record \(k + 1) receives \(m) before its send")
                case .other("deliver", let fields):
                    let m = fields.first { $0.0 == "mid" }?.1.string.flatMap(MessageID.init(label:))
                    #expect(m.map { $0 == .root || sent.contains($0) } ?? false,
                            "seed \(seed), \(filters): record \(k + 1) delivers \(m.map(\.description) ?? "?") before its send")
                default:
                    break
                }
            }
            guard case .end(let reason)? = events.last?.kind else { Issue.record("seed \(seed): no end record"); continue }
            #expect(reason == EndReason.quiescent.rawValue)
        }
    }
}
