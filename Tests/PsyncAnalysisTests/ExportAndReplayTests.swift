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

    /// Perfetto: every event obeys the trace event format's rules (`PerfettoRules`); one flow
    /// per (message, receiver); a holding-queue slice per `hold` record; an instant per filter
    /// delivery and per stable record; at the end of a converged run every holding queue is empty
    /// and no participant has an outstanding message.
    @Test(arguments: [[String](), ["waves"]]) func perfettoFollowsTheTraceEventFormat(filters: [String]) throws {
        let (path, result) = try Self.simulation(filters: filters)
        var exporter = PerfettoExport()
        var text = ""
        var holds = 0, delivers = 0, stables = 0
        _ = try TraceStream.read(path) { e in
            text += exporter.observe(e)
            switch e.kind {
            case .hold: holds += 1
            case .stable: stables += 1
            case .other("deliver", _): delivers += 1
            default: break
            }
        }
        text += exporter.finish()
        let json = try JSONParser.parse(text)
        let events = json["traceEvents"]?.array ?? []
        #expect(PerfettoRules.violations(json) == [])
        let flows = events.filter { $0["ph"]?.string == "f" }
        #expect(flows.count == result.received.map(\.count).reduce(0, +))
        #expect(events.filter { $0["ph"]?.string == "b" }.count == holds && holds > 0)
        func instants(_ prefix: String) -> Int { events.filter { $0["ph"]?.string == "i" && $0["name"]?.string?.hasPrefix(prefix) == true }.count }
        #expect(instants("deliver ") == delivers && instants("stable ") == stables && (filters.isEmpty || delivers > 0))
        #expect(result.converged)
        var lastCounter: [String: UInt64] = [:]
        for e in events where e["ph"]?.string == "C" {
            for (k, v) in (e["args"].flatMap { if case .object(let pairs) = $0 { pairs } else { nil } } ?? []) {
                lastCounter["\(e["name"]!.string!) \(e["pid"]!.uint64!) \(k)"] = v.uint64
            }
        }
        #expect(!lastCounter.isEmpty && lastCounter.values.allSatisfy { $0 == 0 }, "\(lastCounter.filter { $0.value != 0 })")
    }

    /// The rule checker itself tells broken exports apart.
    @Test func perfettoRulesCatchBrokenEvents() throws {
        let broken = #"{"traceEvents":[{"ph":"b","cat":"holding","id":1,"name":"held a1","pid":0,"ts":5},"#
            + #"{"ph":"f","bp":"e","id":7,"cat":"context","name":"a1","pid":0,"tid":0,"ts":1},"#
            + #"{"ph":"i","name":"send a1","pid":0,"ts":1},{"ph":"C","name":"holding queue","pid":0,"ts":2,"args":{}}]}"#
        let found = PerfettoRules.violations(try JSONParser.parse(broken))
        #expect(found.count == 4, "\(found)")
    }

    /// The rules hold for a crashed host's export too (its open slices end at the crash).
    @Test func perfettoClosesSlicesOfACrashedHost() throws {
        var config = SimulationConfig(seed: 4, participants: 3)
        config.network.link.lossProbability = 0.2
        config.workload.messagesPerParticipant = 20
        config.faults.crashes = [Crash(host: 2, atNanoseconds: 30_000_000)]
        let sink = MemoryTraceSink()
        Simulator(config, trace: sink).run()
        var exporter = PerfettoExport()
        var text = sink.events.map { exporter.observe($0) }.joined()
        text += exporter.finish()
        let json = try JSONParser.parse(text)
        #expect(PerfettoRules.violations(json) == [])
        #expect(json["traceEvents"]?.array?.contains { $0["name"]?.string == "crash" } == true)
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

/// The trace event format's rules (the Chrome "Trace Event Format" document) that a viewer
/// relies on, as violations found in an exported JSON.
enum PerfettoRules {
    static func violations(_ json: JSONValue) -> [String] {
        guard let events = json["traceEvents"]?.array else { return ["no traceEvents array"] }
        var out: [String] = []
        var flowStarts: [UInt64: Double] = [:]
        var open: [String: Double] = [:]
        for (k, e) in events.enumerated() {
            func bad(_ why: String) { out.append("event \(k) (\(e["ph"]?.string ?? "?")): \(why)") }
            guard let ph = e["ph"]?.string, ["M", "i", "s", "f", "b", "e", "C"].contains(ph) else { bad("unknown phase"); continue }
            guard e["name"]?.string?.isEmpty == false else { bad("no name"); continue }
            guard e["pid"]?.uint64 != nil else { bad("no integer pid"); continue }
            if ph == "M" {
                if !["process_name", "thread_name"].contains(e["name"]!.string!) || e["args"]?["name"]?.string == nil { bad("metadata without a name") }
                if e["tid"]?.uint64 == nil { bad("metadata without tid") }
                continue
            }
            guard let ts = e["ts"]?.double, ts >= 0 else { bad("no timestamp"); continue }
            switch ph {
            case "i":
                guard let scope = e["s"]?.string, ["t", "p", "g"].contains(scope) else { bad("instant without scope t, p or g"); break }
                if scope == "t", e["tid"]?.uint64 == nil { bad("thread instant without tid") }
            case "s", "f":
                guard let id = e["id"]?.uint64, e["tid"]?.uint64 != nil, e["cat"]?.string != nil else { bad("flow without id, tid or cat"); break }
                if ph == "s" {
                    if flowStarts.updateValue(ts, forKey: id) != nil { bad("flow \(id) starts twice") }
                } else {
                    if e["bp"]?.string != "e" { bad("flow end not bound to its enclosing slice (bp e)") }
                    guard let start = flowStarts.removeValue(forKey: id) else { bad("flow \(id) ends without a start"); break }
                    if start > ts { bad("flow \(id) ends before it starts") }
                }
            case "b", "e":
                guard let id = e["id"]?.uint64, let cat = e["cat"]?.string else { bad("async slice without id or cat"); break }
                let key = "\(cat) \(id) \(e["pid"]!.uint64!)"
                if ph == "b" {
                    if open.updateValue(ts, forKey: key) != nil { bad("async slice \(key) begins twice") }
                } else {
                    guard let begin = open.removeValue(forKey: key) else { bad("async slice \(key) ends without a begin"); break }
                    if begin > ts { bad("async slice \(key) ends before it begins") }
                }
            default: // "C"
                guard case .object(let values)? = e["args"], !values.isEmpty, values.allSatisfy({ $0.1.double != nil }) else {
                    bad("counter without numeric values"); break
                }
            }
        }
        out += open.keys.sorted().map { "async slice \($0) never ends" }
        out += flowStarts.keys.sorted().map { "flow \($0) never ends" }
        return out
    }
}
