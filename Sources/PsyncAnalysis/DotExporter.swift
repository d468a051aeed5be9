import Psync
import PsyncTrace

/// The context graph as Graphviz DOT, ready for `dot -Tpdf` in a paper (`psync trace dot`).
///
/// Time runs left to right; each participant has a lane, its messages on a straight line in send
/// order; edges go from immediate predecessors (the graph is the transitive reduction, Section
/// 2); labels are the paper's (`a1`, `b2`, Figure 2). Stable messages have a double border;
/// waves of a total-order filter are shaded alternately and numbered; depth-first commits are
/// numbered. With a view, messages outside it (outstanding, Section 2) are grey and dashed. A
/// participant's restart (Section 5) is a dashed box in its lane, after the last message of its
/// the graph held when it restarted. What a message carries, when its send record says
/// (`content`), sets its shape: application data a circle, an application's acknowledgement a
/// small dotted circle, a filter's control message (an ACK, a vote, an order) a box.
public struct DotExporter {
    public struct Options: Sendable {
        /// Draw this participant's view V_p: messages outside it are greyed.
        public var view: ParticipantID?
        /// Only messages whose send position (1-based, in send order) is in this range.
        public var range: ClosedRange<Int>?
        public var title: String?
        public init(view: ParticipantID? = nil, range: ClosedRange<Int>? = nil, title: String? = nil) {
            self.view = view
            self.range = range
            self.title = title
        }
    }

    public private(set) var graph = TraceGraph()
    private var stable: Set<MessageID> = []
    private var waves: [MessageID: Int] = [:]
    private var waveFilter: String?
    private var commits: [MessageID: Int] = [:]
    private var commitFilter: String?

    public init() {}

    /// Takes in one record of the trace.
    public mutating func observe(_ e: TraceEvent) {
        graph.apply(e)
        switch e.kind {
        case .stable(_, _, let m):
            stable.insert(m)
        case .other("wave", let fields):
            // Every participant commits the same waves; the first one to record a wave names it.
            let field = { (k: String) in fields.first { $0.0 == k }?.1 }
            guard let filter = field("filter")?.string, waveFilter == nil || waveFilter == filter,
                  let n = field("wave")?.int, let mids = field("mids")?.array else { return }
            waveFilter = filter
            for m in mids.compactMap({ $0.string.flatMap(MessageID.init(label:)) }) where waves[m] == nil { waves[m] = n }
        case .other("commit", let fields):
            let field = { (k: String) in fields.first { $0.0 == k }?.1 }
            guard let filter = field("filter")?.string, commitFilter == nil || commitFilter == filter,
                  let m = field("mid")?.string.flatMap(MessageID.init(label:)), let n = field("commit")?.int else { return }
            commitFilter = filter
            if commits[m] == nil { commits[m] = n }
        default:
            break
        }
    }

    /// Why `options` cannot draw this trace's graph, or nil: a view of a participant the
    /// conversation does not have, or a range past its last message (an empty picture would
    /// look like a run with no messages).
    public func problem(with options: Options) -> String? {
        if let p = options.view, graph.position(of: p) == nil {
            return "\(p) is not a participant of this conversation"
        }
        if let r = options.range, r.lowerBound > graph.messages.count {
            return "the range \(r.lowerBound)..\(r.upperBound) starts past the last of the trace's \(graph.messages.count) messages"
        }
        return nil
    }

    /// The DOT text.
    public func dot(_ options: Options = Options()) -> String {
        let n = graph.participantCount
        let chosen = graph.messages.indices.filter { options.range?.contains($0 + 1) ?? true }.map { graph.messages[$0] }
        let shown = Set(chosen)
        let viewer = options.view.flatMap { graph.position(of: $0) }
        var out = ["digraph psync {"]
        out.append("  rankdir=LR;")
        out.append("  labelloc=t;")
        if let title = options.title { out.append("  label=\(quote(plainText(title)));") }
        out.append("  node [shape=circle, fontname=\"Helvetica\", fontsize=10, width=0.45, fixedsize=true];")
        out.append("  edge [arrowsize=0.6];")
        // Lanes: each sender's messages in a band of their own (an invisible cluster), in
        // send order along invisible heavy edges, behind a label. Bands stack a, b, c, ...
        out.append("  newrank=true;")
        for s in 0..<n {
            let mine = chosen.filter { $0.senderIndex == s }
            guard !mine.isEmpty else { continue }
            let lane = "lane_\(s)"
            let who = "\(MessageID.senderLabel(s)) = \(graph.participants[s])"
            out.append("  subgraph cluster_\(lane) {")
            out.append("    style=invis;")
            out.append("    \(lane) [shape=plaintext, fixedsize=false, label=\(quote(who)), group=\(quote(lane))];")
            var previous = lane
            var pending = graph.restarts.filter { $0.participant == s }.map(\.after)
            func marker(_ k: Int) {
                let name = "restart_\(s)_\(k)"
                out.append("    \(name) [shape=box, style=dashed, fixedsize=false, fontsize=8, label=\"restart\", group=\(quote(lane))];")
                out.append("    \(quote(previous)) -> \(name) [style=invis, weight=20];")
                previous = name
            }
            var markers = 0
            while let k = pending.first, k == 0 {
                marker(markers); markers += 1; pending.removeFirst()
            }
            for m in mine {
                out.append("    \(node(m, viewer: viewer, group: lane));")
                out.append("    \(quote(previous)) -> \(quote(m.description)) [style=invis, weight=20];")
                previous = m.description
                while let k = pending.first, k <= m.sequence {
                    marker(markers); markers += 1; pending.removeFirst()
                }
            }
            out.append("  }")
        }
        let lanes = (0..<n).filter { s in chosen.contains { $0.senderIndex == s } }
        out.append("  { rank=min; \(lanes.map { "lane_\($0);" }.joined(separator: " ")) }")
        for (x, y) in zip(lanes, lanes.dropFirst()) { out.append("  lane_\(x) -> lane_\(y) [style=invis];") }
        for m in chosen {
            for p in graph.predecessors(of: m) ?? [] where shown.contains(p) {
                let faded = viewer.map { !graph.inView(m, of: $0) } ?? false
                out.append("  \(quote(p.description)) -> \(quote(m.description))\(faded ? " [color=gray70, style=dashed]" : "");")
            }
        }
        out.append(contentsOf: legend(viewer: viewer))
        out.append("}")
        return out.joined(separator: "\n") + "\n"
    }

    private func node(_ m: MessageID, viewer: Int?, group: String) -> String {
        var attributes = ["group=\(quote(group))"]
        var label = m.description
        var dotted = false
        switch graph.content(m) {
        case "ack":
            attributes += ["width=0.35", "fontsize=8"]
            dotted = true
        case "control":
            attributes.append("shape=box")
        default:
            break
        }
        if let w = waves[m] {
            attributes.append(dotted ? "style=\"filled,dotted\"" : "style=filled")
            attributes.append("fillcolor=\(w % 2 == 0 ? "\"#dbe9f6\"" : "\"#f6e7d0\"")")
            label += "\\nw\(w)"
        } else if let c = commits[m] {
            label += "\\n#\(c)"
        }
        if stable.contains(m) { attributes.append("peripheries=2") }
        if let v = viewer, !graph.inView(m, of: v) {
            attributes.append("color=gray70")
            attributes.append("fontcolor=gray50")
            attributes.append(waves[m] == nil ? "style=dashed" : "style=\"filled,dashed\"")
        } else if dotted {
            attributes.append(waves[m] == nil ? "style=dotted" : "style=\"filled,dotted\"")
        }
        attributes.insert("label=\(quote(label))", at: 0)
        return "\(quote(m.description)) [\(attributes.joined(separator: ", "))]"
    }

    private func legend(viewer: Int?) -> [String] {
        var items: [(String, String)] = [("legend_stable", "label=\"stable\", peripheries=2")]
        let contents = Set(graph.contents.compactMap { $0 })
        if contents.contains("ack") { items.append(("legend_ack", "label=\"app\\nack\", style=dotted")) }
        if contents.contains("control") { items.append(("legend_control", "label=\"filter\\ncontrol\", shape=box")) }
        if let f = waveFilter {
            items.append(("legend_wave", "label=\(quote("\(f)\\nwave n")), style=filled, fillcolor=\"#dbe9f6\""))
        }
        if let f = commitFilter { items.append(("legend_commit", "label=\(quote("\(f)\\ncommit #n"))")) }
        if let v = viewer {
            items.append(("legend_outstanding", "label=\(quote("outside\\nV_\(graph.participants[v])")), color=gray70, fontcolor=gray50, style=dashed"))
        }
        var out = ["  subgraph cluster_legend {", "    label=\"legend\";", "    fontname=\"Helvetica\";", "    fontsize=10;", "    color=gray80;"]
        for (id, attributes) in items { out.append("    \(id) [\(attributes), fontsize=8, width=0.6];") }
        for (a, b) in zip(items, items.dropFirst()) { out.append("    \(a.0) -> \(b.0) [style=invis];") }
        out.append("  }")
        return out
    }

    /// A DOT string literal of a label this exporter writes: it may use DOT's escapes (`\n`).
    private func quote(_ s: String) -> String {
        "\"" + String(s.flatMap { $0 == "\"" ? ["\\", "\""] : [$0] }) + "\""
    }

    /// A user's text (a title) as a label showing exactly that text: backslashes escaped (a
    /// trailing one would escape the closing quote), line breaks as DOT's centred `\n`.
    private func plainText(_ s: String) -> String {
        var out = ""
        for c in s {
            switch c {
            case "\\": out += "\\\\"
            case "\n", "\r\n", "\r": out += "\\n"
            default: out.append(c)
            }
        }
        return out
    }
}
