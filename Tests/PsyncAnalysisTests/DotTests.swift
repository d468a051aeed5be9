import Foundation
import Testing
import Psync
import PsyncAnalysis
import PsyncTrace
import PsyncSimulator

/// `psync trace dot`: golden DOT files for every option (`Golden/*.dot`), each rendered by
/// Graphviz without a warning; lanes always in participant order; the paper's Figures 1 and 2
/// drawn from the traces stored in `Traces/`.
///
/// After an intended change of the pictures, `PSYNC_UPDATE_GOLDEN=1 swift test --filter DotTests`
/// rewrites the golden files (and the stored figure traces); review them with `git diff`.
@Suite struct DotTests {
    static let repository = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()
    static let golden = URL(fileURLWithPath: #filePath).deletingLastPathComponent().appendingPathComponent("Golden")
    static let updating = ProcessInfo.processInfo.environment["PSYNC_UPDATE_GOLDEN"] == "1"

    static func dot(_ events: [TraceEvent], _ options: DotExporter.Options = .init(), at: UInt64? = nil) -> String {
        var exporter = DotExporter(at: at)
        for e in events { exporter.observe(e) }
        return exporter.dot(options)
    }

    /// Renders with `dot -Tsvg`; returns Graphviz's complaints (empty when clean).
    static func render(_ text: String, format: String = "svg") throws -> String {
        let (_, error, status) = try run("dot", ["-T\(format)", "-o", "/dev/null"], input: text)
        return status == 0 ? error : "exit \(status): \(error)"
    }

    /// The text equals the golden file `name` and renders cleanly.
    static func expectGolden(_ text: String, _ name: String, sourceLocation: SourceLocation = #_sourceLocation) throws {
        let file = golden.appendingPathComponent(name)
        if updating { try text.write(to: file, atomically: true, encoding: .utf8) }
        let stored = try String(contentsOf: file, encoding: .utf8)
        #expect(text == stored, "differs from Golden/\(name) (PSYNC_UPDATE_GOLDEN=1 rewrites it)", sourceLocation: sourceLocation)
        #expect(try render(text) == "", "Graphviz complains about Golden/\(name)", sourceLocation: sourceLocation)
    }

    static func waves() -> [TraceEvent] {
        let sink = MemoryTraceSink()
        var config = SimulationConfig(seed: 3, participants: 3, filters: ["waves"])
        config.workload.messagesPerParticipant = 3
        Simulator(config, trace: sink).run()
        return sink.events
    }

    static let p3 = ParticipantID(host: HostID(3))

    @Test func figuresInLanesAndAsThePaperDrawsThem() throws {
        try Self.expectGolden(Self.dot(PaperTraces.figure1()), "figure1-lanes.dot")
        try Self.expectGolden(Self.dot(PaperTraces.figure2()), "figure2-lanes.dot")
        try Self.expectGolden(Self.dot(PaperTraces.figure1(), .init(layout: .paper)), "figure1-paper.dot")
        try Self.expectGolden(Self.dot(PaperTraces.figure2(), .init(layout: .paper)), "figure2-paper.dot")
    }

    /// A view at a moment: p3 (d) before it receives anything, with the graph of that moment.
    @Test func aViewAtAMoment() throws {
        let events = PaperTraces.figure1()
        let firstReceiveAtP3 = events.first { if case .receive(_, let p, _) = $0.kind { p == Self.p3 } else { false } }!.time
        let before = Self.dot(events, .init(view: Self.p3, title: "V_d before it receives"), at: firstReceiveAtP3 - 1)
        #expect(before.contains("\"a2\" [label=\"a2\", color=gray70, fontcolor=gray50, style=\"dashed\""))
        try Self.expectGolden(before, "figure1-view-before.dot")
        let after = Self.dot(events, .init(view: Self.p3))
        #expect(!after.split(separator: "\n").contains { $0.hasPrefix("  \"") && $0.contains("gray70") }, "at the end, d has received everything")
        // A moment before a2 was sent shows the graph without it.
        let a2 = events.first { if case .send(_, _, let m, _, _, _) = $0.kind { m.description == "a2" } else { false } }!.time
        let earlier = Self.dot(events, at: a2 - 1)
        #expect(!earlier.contains("\"a2\"") && earlier.contains("\"c2\" ["))
        // Before the first send there is nothing to draw: an error, not an empty picture.
        var empty = DotExporter(at: 0)
        for e in events { empty.observe(e) }
        #expect(empty.problem(with: .init()) == "no message was sent by 0ns")
    }

    /// A range draws part of the graph; edges to and from messages outside end in stubs.
    @Test func aRangeEndsItsCutEdgesInStubs() throws {
        let text = Self.dot(PaperTraces.figure1(), .init(range: 2...3))
        #expect(!text.contains("\"a1\" [label=\"a1\", pos") && text.contains("\"a1\" [label=\"a1\", shape=plaintext"))
        #expect(text.contains("\"a1\" -> \"b1\" [color=gray60, style=dashed]"))
        #expect(text.contains("\"c1\" -> \"c2\" [color=gray60, style=dashed]") && text.contains("\"b1\" -> \"a2\" [color=gray60, style=dashed]"))
        try Self.expectGolden(text, "figure1-range.dot")
    }

    /// Acknowledgements and control messages are drawn quieter; data only hides them and
    /// contracts edges through them into a transitive reduction of the data messages.
    @Test func dataOnlyContractsEdgesThroughHiddenMessages() throws {
        let events = Self.waves()
        let all = Self.dot(events)
        #expect(all.contains("shape=box, width=0.35") && all.contains("\\nw1") && all.contains("fillcolor"))
        try Self.expectGolden(all, "waves.dot")
        let data = Self.dot(events, .init(title: "data only", dataOnly: true))
        try Self.expectGolden(data, "waves-data-only.dot")
        try Self.expectGolden(Self.dot(events, .init(dataOnly: true, layout: .paper)), "waves-data-only-paper.dot")

        var graph = TraceGraph()
        for e in events { graph.apply(e) }
        let dataMessages = graph.messages.filter { graph.content($0) == "data" }
        let edges: [[MessageID]] = data.split(separator: "\n").filter { $0.contains(" -> ") }.map { line in
            let quoted = line.split(separator: "\"").map(String.init)
            return [MessageID(label: quoted[1])!, MessageID(label: quoted[3])!]
        }
        #expect(Set(edges.flatMap { $0 }) .isSubset(of: Set(dataMessages)))
        for e in edges { #expect(graph.precedes(e[0], e[1]), "\(e[0]) -> \(e[1]) is not in the context") }
        // Every precedence among data messages is kept by a path of drawn edges, and no edge is redundant.
        var successors: [MessageID: [MessageID]] = [:]
        for e in edges { successors[e[0], default: []].append(e[1]) }
        func reachable(_ from: MessageID, _ to: MessageID, skipping direct: Bool) -> Bool {
            var stack = (successors[from] ?? []).filter { !(direct && $0 == to) }, seen = Set<MessageID>()
            while let x = stack.popLast() {
                if x == to { return true }
                if seen.insert(x).inserted { stack += successors[x] ?? [] }
            }
            return false
        }
        for a in dataMessages { for b in dataMessages where graph.precedes(a, b) { #expect(reachable(a, b, skipping: false), "\(a) ≺ \(b) lost") } }
        for e in edges { #expect(!reachable(e[0], e[1], skipping: true), "\(e[0]) -> \(e[1]) is redundant") }
    }

    @Test func aTitleIsPlainTextInTheSameFont() throws {
        let text = Self.dot(PaperTraces.figure2(), .init(title: "a \"quoted\" title\\"))
        #expect(text.contains("label=\"a \\\"quoted\\\" title\\\\\";") && text.contains("  fontname=\"Helvetica\";"))
        #expect(!text.contains("Times"))
        #expect(try Self.render(text) == "")
    }

    /// Past `routedEdgesLimit` drawn messages, edges are straight (Graphviz's router took a
    /// minute for 239 pinned messages); at or below it, routed. Both render cleanly.
    @Test func largePicturesUseStraightEdges() throws {
        let sink = MemoryTraceSink()
        var config = SimulationConfig(seed: 2, participants: 4, filters: ["waves"])
        config.workload.messagesPerParticipant = 12
        Simulator(config, trace: sink).run()
        var exporter = DotExporter()
        for e in sink.events { exporter.observe(e) }
        #expect(exporter.graph.messages.count > DotExporter.routedEdgesLimit)
        let large = exporter.dot()
        #expect(large.contains("splines=false;"))
        #expect(try Self.render(large) == "")
        let small = exporter.dot(.init(range: 1...DotExporter.routedEdgesLimit / 2))
        #expect(small.contains("splines=true;"), "half the limit and its stubs are routed")
        #expect(try Self.render(small) == "")
    }

    /// Lanes stack a, b, c, ... from the top in every picture (Graphviz's own ordering put
    /// them in the wrong order in 35 of these 36).
    @Test func lanesAreAlwaysInParticipantOrder() throws {
        for seed in UInt64(1)...12 {
            for n in 3...5 {
                let sink = MemoryTraceSink()
                var config = SimulationConfig(seed: seed, participants: n)
                config.workload.messagesPerParticipant = 2
                Simulator(config, trace: sink).run()
                let (plain, error, _) = try run("dot", ["-Tplain"], input: Self.dot(sink.events))
                #expect(error == "")
                let lanes: [[String]] = plain.split(separator: "\n").map { $0.split(separator: " ").map(String.init) }
                    .filter { $0.first == "node" && $0[1].hasPrefix("lane_") }
                let topToBottom = lanes.sorted { Double($0[3])! > Double($1[3])! }.map { $0[1] }
                #expect(topToBottom == (0..<n).map { "lane_\($0)" }, "seed \(seed), \(n) participants")
            }
        }
    }

    /// Traces/figure1.jsonl.lz4 and figure2 are the paper's figures as the engine recorded
    /// them (Tools/traces.sh draws them as SVG and PDF); their paper layout is Traces/figureN.dot.
    @Test func theStoredFigureTracesAreThePapersFigures() throws {
        for (name, events) in [("figure1", PaperTraces.figure1()), ("figure2", PaperTraces.figure2())] {
            let complete = events + [TraceEvent(time: events.last!.time, host: nil, .end(reason: EndReason.quiescent.rawValue))]
            let trace = Self.repository.appendingPathComponent("Traces/\(name).jsonl.lz4").path
            if Self.updating { try PaperTraces.write(complete, to: trace) }
            let (_, stored) = try TraceReader.readAll(path: trace)
            #expect(stored == Array(complete.dropFirst()), "\(trace) is not the paper's \(name)")
            let dot = Self.repository.appendingPathComponent("Traces/\(name).dot")
            let text = Self.dot(complete, .init(layout: .paper))
            if Self.updating { try text.write(to: dot, atomically: true, encoding: .utf8) }
            #expect(text == (try String(contentsOf: dot, encoding: .utf8)))
        }
    }
}
