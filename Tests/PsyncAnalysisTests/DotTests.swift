import Foundation
import Testing
import Psync
import PsyncAnalysis
import PsyncTrace
import PsyncSimulator

/// `psync trace dot`: exact DOT text for the paper's Figures 1 and 2, and every picture renders
/// with Graphviz without a warning.
@Suite struct DotTests {
    static func dot(_ events: [TraceEvent], _ options: DotExporter.Options = .init()) -> String {
        var exporter = DotExporter()
        for e in events { exporter.observe(e) }
        return exporter.dot(options)
    }

    /// Renders with `dot -Tsvg`; returns Graphviz's complaints (empty when clean).
    static func render(_ text: String) throws -> String {
        let (_, error, status) = try run("dot", ["-Tsvg", "-o", "/dev/null"], input: text)
        return status == 0 ? error : "exit \(status): \(error)"
    }

    @Test func figure1IsDrawnExactly() throws {
        let text = Self.dot(PaperTraces.figure1())
        #expect(text == Self.figure1)
        #expect(try Self.render(text) == "")
    }

    @Test func figure2IsDrawnExactly() throws {
        let text = Self.dot(PaperTraces.figure2())
        #expect(text == Self.figure2)
        #expect(try Self.render(text) == "")
    }

    /// A view drawn mid-conversation greys what the participant has not received; a range
    /// draws part of the graph; a waves run shades and numbers its waves.
    @Test func viewsRangesAndWavesRender() throws {
        var events = PaperTraces.figure1()
        let cut = events.firstIndex { if case .receive(_, let p, _) = $0.kind { p == ParticipantID(host: HostID(3)) } else { false } }!
        events = Array(events[..<cut])
        let view = Self.dot(events, .init(view: ParticipantID(host: HostID(3)), title: "V_p3 before it receives"))
        #expect(view.contains("\"a2\" [label=\"a2\", group=\"lane_0\", color=gray70"))
        #expect(try Self.render(view) == "")
        let range = Self.dot(PaperTraces.figure1(), .init(range: 2...4))
        #expect(!range.contains("\"a1\" [") && range.contains("\"c2\" ["))
        #expect(try Self.render(range) == "")

        let sink = MemoryTraceSink()
        var config = PsyncSimulator.SimulationConfig(seed: 3, participants: 3, filters: ["waves"])
        config.workload.messagesPerParticipant = 3
        PsyncSimulator.Simulator(config, trace: sink).run()
        let waves = Self.dot(sink.events)
        #expect(waves.contains("\\nw1") && waves.contains("fillcolor"))
        #expect(try Self.render(waves) == "")
    }

    static let figure1 = #"""
digraph psync {
  rankdir=LR;
  labelloc=t;
  node [shape=circle, fontname="Helvetica", fontsize=10, width=0.45, fixedsize=true];
  edge [arrowsize=0.6];
  newrank=true;
  subgraph cluster_lane_0 {
    style=invis;
    lane_0 [shape=plaintext, fixedsize=false, label="a = p0", group="lane_0"];
    "a1" [label="a1", group="lane_0"];
    "lane_0" -> "a1" [style=invis, weight=20];
    "a2" [label="a2", group="lane_0"];
    "a1" -> "a2" [style=invis, weight=20];
  }
  subgraph cluster_lane_1 {
    style=invis;
    lane_1 [shape=plaintext, fixedsize=false, label="b = p1", group="lane_1"];
    "b1" [label="b1", group="lane_1"];
    "lane_1" -> "b1" [style=invis, weight=20];
  }
  subgraph cluster_lane_2 {
    style=invis;
    lane_2 [shape=plaintext, fixedsize=false, label="c = p2", group="lane_2"];
    "c1" [label="c1", group="lane_2"];
    "lane_2" -> "c1" [style=invis, weight=20];
    "c2" [label="c2", group="lane_2"];
    "c1" -> "c2" [style=invis, weight=20];
  }
  { rank=min; lane_0; lane_1; lane_2; }
  lane_0 -> lane_1 [style=invis];
  lane_1 -> lane_2 [style=invis];
  "a1" -> "b1";
  "a1" -> "c1";
  "c1" -> "c2";
  "b1" -> "a2";
  "c2" -> "a2";
  subgraph cluster_legend {
    label="legend";
    fontname="Helvetica";
    fontsize=10;
    color=gray80;
    legend_stable [label="stable", peripheries=2, fontsize=8, width=0.6];
  }
}

"""#

    static let figure2 = #"""
digraph psync {
  rankdir=LR;
  labelloc=t;
  node [shape=circle, fontname="Helvetica", fontsize=10, width=0.45, fixedsize=true];
  edge [arrowsize=0.6];
  newrank=true;
  subgraph cluster_lane_0 {
    style=invis;
    lane_0 [shape=plaintext, fixedsize=false, label="a = p0", group="lane_0"];
    "a1" [label="a1", group="lane_0", peripheries=2];
    "lane_0" -> "a1" [style=invis, weight=20];
    "a2" [label="a2", group="lane_0"];
    "a1" -> "a2" [style=invis, weight=20];
    "a3" [label="a3", group="lane_0"];
    "a2" -> "a3" [style=invis, weight=20];
  }
  subgraph cluster_lane_1 {
    style=invis;
    lane_1 [shape=plaintext, fixedsize=false, label="b = p1", group="lane_1"];
    "b1" [label="b1", group="lane_1", peripheries=2];
    "lane_1" -> "b1" [style=invis, weight=20];
    "b2" [label="b2", group="lane_1"];
    "b1" -> "b2" [style=invis, weight=20];
  }
  subgraph cluster_lane_2 {
    style=invis;
    lane_2 [shape=plaintext, fixedsize=false, label="c = p2", group="lane_2"];
    "c1" [label="c1", group="lane_2", peripheries=2];
    "lane_2" -> "c1" [style=invis, weight=20];
  }
  { rank=min; lane_0; lane_1; lane_2; }
  lane_0 -> lane_1 [style=invis];
  lane_1 -> lane_2 [style=invis];
  "a1" -> "b1";
  "b1" -> "c1";
  "c1" -> "a2";
  "c1" -> "b2";
  "a2" -> "a3";
  subgraph cluster_legend {
    label="legend";
    fontname="Helvetica";
    fontsize=10;
    color=gray80;
    legend_stable [label="stable", peripheries=2, fontsize=8, width=0.6];
  }
}

"""#
}
