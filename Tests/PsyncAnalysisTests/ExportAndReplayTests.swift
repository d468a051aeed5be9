import Foundation
import Testing
import Psync
import PsyncAnalysis
import PsyncSimulator
import PsyncTrace

@Suite struct ExportAndReplayTests {
    static func simulation(filters: [String], seed: UInt64 = 9) throws -> (String, SimulationResult) {
        let path = temporaryPath("run-\(filters.joined(separator: "+"))-\(seed).jsonl.lz4")
        let writer = try LZ4TraceWriter(path: path)
        var config = SimulationConfig(seed: seed, participants: 3, filters: filters)
        config.network.link.lossProbability = 0.1
        config.workload.messagesPerParticipant = 5
        let result = Simulator(config, trace: writer).run()
        try writer.close()
        return (path, result)
    }

    /// Perfetto: valid JSON; every flow end has its start, one flow per (message, receiver).
    @Test func perfettoFlowsPairUp() throws {
        let (path, result) = try Self.simulation(filters: [])
        var exporter = PerfettoExport()
        var text = ""
        _ = try TraceStream.read(path) { text += exporter.observe($0) }
        text += exporter.finish()
        let json = try JSONParser.parse(text)
        let events = json["traceEvents"]?.array ?? []
        let starts = Set(events.filter { $0["ph"]?.string == "s" }.compactMap { $0["id"]?.uint64 })
        let finishes = events.filter { $0["ph"]?.string == "f" }.compactMap { $0["id"]?.uint64 }
        #expect(Set(finishes) == starts && finishes.count == starts.count)
        #expect(finishes.count == result.received.map(\.count).reduce(0, +))
    }

    /// ShiViz: clocks are valid vector clocks: each participant's own entry counts its events,
    /// and a receive's clock dominates the clock of the matching send.
    @Test func shivizClocksAreValid() throws {
        let (path, _) = try Self.simulation(filters: [])
        var exporter = ShivizExport()
        var text = ""
        _ = try TraceStream.read(path) { text += exporter.observe($0) }
        let lines = text.split(separator: "\n").map(String.init)
        #expect(lines.count % 2 == 0 && !lines.isEmpty)
        var own: [String: UInt64] = [:]
        var sendClock: [String: JSONValue] = [:]
        for k in stride(from: 0, to: lines.count, by: 2) {
            let event = lines[k], rest = lines[k + 1]
            let space = rest.firstIndex(of: " ")!
            let host = String(rest[..<space])
            let clock = try JSONParser.parse(String(rest[rest.index(after: space)...]))
            own[host, default: 0] += 1
            #expect(clock[host]?.uint64 == own[host], "\(host)'s own entry counts its events")
            let m = String(event.split(separator: " ")[1])
            if event.hasPrefix("send") { sendClock[m] = clock }
            if event.hasPrefix("receive"), case .object(let sent)? = sendClock[m] {
                for (k, v) in sent { #expect((clock[k]?.uint64 ?? 0) >= v.uint64!, "receive \(m) dominates its send") }
            }
        }
    }

    /// Counterfactual replay: replaying a causal run under causal reproduces its deliveries
    /// exactly; under waves it says it is an approximation.
    @Test func counterfactualReplayIsExactWhenItCanBe() throws {
        let (path, result) = try Self.simulation(filters: ["causal"])
        let (stats, replay, outcome) = try CounterfactualReplay.statistics(path, filters: ["causal"])
        #expect(outcome.complete && replay.isExact)
        #expect(stats.counts["deliveries: causal"] == result.filterDeliveries[0].map(\.count).reduce(0, +))
        let recorded = result.deliveryLatencies(filter: 0).count
        #expect(recorded > 0)
        let (_, waves, _) = try CounterfactualReplay.statistics(path, filters: ["waves"])
        #expect(!waves.isExact && waves.exactness.hasPrefix("approximate"))
    }

    @Test func compareRunsSideBySide() throws {
        var a = TraceStatistics(), b = TraceStatistics()
        _ = try TraceStream.read(try Self.simulation(filters: ["waves"]).0) { a.observe($0) }
        _ = try TraceStream.read(try Self.simulation(filters: ["depth-first"]).0) { b.observe($0) }
        let table = TraceComparison([("waves", a), ("depth-first", b)]).table
        #expect(table.contains("deliver:waves p50") && table.contains("deliver:depth-first p50") && table.contains("x)"))
    }
}
