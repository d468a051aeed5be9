import Foundation
import Testing
import Psync
import PsyncAnalysis
import PsyncSimulator
import PsyncTrace

/// `psync trace stats` agrees with a brute-force computation over the same records.
@Suite struct StatsTests {
    /// Nearest-rank percentile of a sorted sample.
    static func percentile(_ sorted: [UInt64], _ q: Double) -> UInt64 {
        sorted[max(0, Int((q / 100 * Double(sorted.count)).rounded(.up)) - 1)]
    }

    @Test func latenciesMatchABruteForceComputation() {
        let sink = MemoryTraceSink()
        var config = SimulationConfig(seed: 6, participants: 4, filters: ["waves"])
        config.network.link.lossProbability = 0.1
        Simulator(config, trace: sink).run()
        var stats = TraceStatistics()
        for e in sink.events { stats.observe(e) }

        var sent: [MessageID: UInt64] = [:]
        var receive: [UInt64] = [], deliver: [UInt64] = [], perP1: [UInt64] = []
        var packets = 0, bytes = 0
        for e in sink.events {
            switch e.kind {
            case .send(_, _, let m, _, _, _): sent[m] = e.time
            case .receive(_, let p, let m):
                receive.append(e.time - sent[m]!)
                if p == ParticipantID(host: HostID(1)) { perP1.append(e.time - sent[m]!) }
            case .other("deliver", let f):
                deliver.append(e.time - sent[MessageID(label: f.first { $0.0 == "mid" }!.1.string!)!]!)
            case .packetOut(let r): packets += 1; bytes += r.bytes
            default: break
            }
        }
        for (name, sample, histogram) in [("receive", receive, stats.metrics["receive"]!.overall),
                                          ("receive p1", perP1, stats.metrics["receive"]!.byKey["p1"]!),
                                          ("deliver", deliver, stats.metrics["deliver:waves"]!.overall)] {
            let sorted = sample.sorted()
            #expect(histogram.totalCount == UInt64(sorted.count), "\(name)")
            for q in [50.0, 90, 99, 99.9, 100] {
                let exact = Self.percentile(sorted, q), recorded = histogram.valueAtPercentile(q)
                // HdrHistogram with three significant digits: equivalent values differ by < 0.1%.
                #expect(histogram.valuesAreEquivalent(exact, recorded), "\(name) p\(q): exact \(exact), histogram \(recorded)")
            }
        }
        #expect(stats.counts["packets sent"] == packets && stats.counts["bytes sent"] == bytes)
        #expect(stats.delivered == deliver.count)
        for format in TraceStatistics.Format.allCases { #expect(!stats.report(format, metric: "receive").isEmpty) }

        // Maxima are the largest latency recorded, not the top of its bucket.
        let trueMax = receive.max()!
        #expect(stats.json["latencies"]?["receive"]?["all"]?["max"]?.uint64 == trueMax)
        #expect(stats.metrics["receive"]!.overall.max > trueMax, "this run's maximum is not its bucket's top, so the test can tell them apart")
        let table = stats.report(.table).split(separator: "\n").first { $0.hasPrefix("receive ") }!
        #expect(table.hasSuffix(" " + String(format: "%.3f", Double(trueMax) / 1e6)), "\(table)")
    }

    /// hgrm and hlog: a file per metric, each one distribution; hgrm's Max line is the true maximum.
    @Test func histogramsComeOneFilePerMetric() {
        var stats = TraceStatistics()
        for e in Self.run(seed: 6) { stats.observe(e) }
        for format in [TraceStatistics.Format.hgrm, .hlog] {
            let files = stats.files(format)
            #expect(files.map(\.name) == stats.metricNames.map { $0.replacingOccurrences(of: ":", with: "_") + "." + format.rawValue })
            for (name, text) in files {
                let series = format == .hgrm ? text.components(separatedBy: "Value     Percentile").count - 1
                    : text.split(separator: "\n").filter { !$0.hasPrefix("#") && !$0.hasPrefix("\"") }.count
                #expect(series == 1, "\(name) holds \(series) distributions")
            }
        }
        let stable = stats.metrics["stable"]!.overall
        let maxLine = stats.report(.hgrm, metric: "stable").split(separator: "\n").first { $0.hasPrefix("#[Max") }!
        #expect(maxLine.contains(String(format: "%.3f,", Double(stable.maxRecorded) / 1e6)), "\(maxLine)")
    }

    /// Tidy CSV: every row has every column; latency rows per metric and group, counters and
    /// ratios marked as such; the run's seed, filters, recovery, loss and size on every row.
    @Test func csvIsTidy() {
        var stats = TraceStatistics()
        for e in Self.run(seed: 6) { stats.observe(e) }
        let rows = stats.report(.csv).split(separator: "\n").map { $0.split(separator: ",", omittingEmptySubsequences: false).map(String.init) }
        let header = rows[0]
        #expect(header == ["kind", "metric", "group", "count", "p50_ns", "p90_ns", "p99_ns", "p99.9_ns", "max_ns", "mean_ns", "value",
                           "seed", "filters", "recovery", "loss", "participants", "messages"])
        for row in rows.dropFirst() {
            #expect(row.count == header.count, "\(row)")
            #expect(Array(row.suffix(6)) == ["6", "waves", "gaps", "0.1", "4", "\(SimulationConfig(seed: 6, participants: 4).workload.messagesPerParticipant)"])
        }
        let kinds = Dictionary(grouping: rows.dropFirst(), by: { $0[0] })
        #expect(Set(kinds.keys) == ["latency", "count", "derived"])
        #expect(kinds["latency"]!.count == stats.metricNames.reduce(0) { $0 + 1 + stats.metrics[$1]!.byKey.count })
        #expect(kinds["count"]!.first { $0[1] == "packets sent" }?[10] == "\(stats.counts["packets sent"]!)")
        #expect(kinds["latency"]!.allSatisfy { $0[10].isEmpty && !$0[3].isEmpty } && kinds["count"]!.allSatisfy { $0[3].isEmpty })
    }

    static func run(seed: UInt64) -> [TraceEvent] {
        let sink = MemoryTraceSink()
        var config = SimulationConfig(seed: seed, participants: 4, filters: ["waves"])
        config.network.link.lossProbability = 0.1
        Simulator(config, trace: sink).run()
        return sink.events
    }
}

/// Send records say what each message carries, so costs per data message compare across
/// filters and recovery policies: the counts match the run's, and so does the figure.
@Suite struct DataMessageTests {
    @Test(arguments: [[], ["waves"]]) func sendRecordsTellDataAcknowledgementsAndControlApart(filters: [String]) {
        let sink = MemoryTraceSink()
        var config = SimulationConfig(seed: 4, participants: 4, filters: filters)
        config.network.link.lossProbability = 0.1
        let result = Simulator(config, trace: sink).run()
        var stats = TraceStatistics()
        for e in sink.events { stats.observe(e) }
        #expect(stats.counts["messages sent: data"] == result.dataSent)
        #expect(stats.counts["messages sent: ack"] == result.acksSent)
        let control = stats.counts["messages sent: control"] ?? 0
        #expect(filters.isEmpty ? control == 0 : control > 0)
        #expect(stats.counts["messages sent"] == result.dataSent + result.acksSent + control)
        let perData = stats.perDelivered.first { $0.0 == "packets per data message" }?.1
        #expect(perData == Double(result.network.packetsSent) / Double(result.dataSent))
        #expect(stats.metrics["receive:data"]?.overall.totalCount ?? 0 > 0)
    }
}
