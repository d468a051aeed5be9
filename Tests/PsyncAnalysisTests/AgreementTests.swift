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
        for seed in UInt64(0)..<5 {
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
        for seed in UInt64(0)..<5 {
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

/// What a message carries (its send record's `content`) reaches the tools: `stats` measures data
/// apart, `compare` prices data messages, `dot` draws acknowledgements and control apart.
@Suite struct ContentKindTests {
    @Test func statsCompareAndDotTellDataAcksAndControlApart() throws {
        var config = SimulationConfig(seed: 3, participants: 3, filters: ["waves"])
        config.workload.messagesPerParticipant = 6
        let sink = MemoryTraceSink()
        let result = Simulator(config, trace: sink).run()
        var stats = TraceStatistics(), dot = DotExporter()
        for e in sink.events {
            stats.observe(e)
            dot.observe(e)
        }
        let dataDeliveries = result.filterDeliveries[0].flatMap { $0 }.filter { d in
            if case .application(let payload) = d.content { Workload.isData(payload) } else { false }
        }.count
        #expect(dataDeliveries == 3 * 3 * 6)
        #expect(stats.metrics["deliver:waves:data"]?.overall.totalCount == UInt64(dataDeliveries))
        #expect(stats.metrics["deliver:waves"]!.overall.totalCount > UInt64(dataDeliveries), "acknowledgements are delivered too")
        let costs = TraceComparison([("a", stats), ("b", stats)]).rows.map(\.0)
        #expect(costs.contains("packets per data message") && costs.contains("deliver:waves:data p50 (ms)"))
        let text = dot.dot()
        let kinds = ["data": "", "ack": "dotted", "control": "shape=box"]
        for (m, content) in zip(dot.graph.messages, dot.graph.contents) {
            guard let content, let mark = kinds[content], !mark.isEmpty else { continue }
            let line = text.split(separator: "\n").first { $0.hasPrefix("  \"\(m)\" [") }
            #expect(line?.contains(mark) == true, "\(m) (\(content)): \(line ?? "no node")")
        }
        #expect(Set(dot.graph.contents.compactMap { $0 }) == ["data", "ack", "control"])
        #expect(text.contains("legend_ack") && text.contains("legend_control"))
        #expect(try DotTests.render(text) == "")
    }
}
