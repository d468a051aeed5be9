import Psync

/// The two layouts of `DotExporter`, and the node styles and legend they share.
extension DotExporter {
    /// Inches between columns of a lane, and between lanes.
    static let columnWidth = 0.8, laneHeight = 0.75
    /// Up to this many drawn messages, edges are splines routed around nodes; beyond, straight
    /// lines. Graphviz's router grows steeply with pinned nodes: 83 messages take 1.8 s to
    /// render, 239 take 60 s and 509 more than 5 minutes, against 0.03-0.07 s straight.
    public static let routedEdgesLimit = 100

    /// One lane per participant, stacked in participant order: each message in the column
    /// after its lane's previous item and after every predecessor drawn (so edges run left to
    /// right, as the ranks of a time-ordered picture would), pinned at that position.
    func lanes(_ picture: Picture, _ options: Options) -> String {
        let n = graph.participantCount
        let viewer = options.view.flatMap { graph.position(of: $0) }
        let drawn = picture.drawn.filter { $0.senderIndex < n }
        let rows = (0..<n).filter { s in drawn.contains { $0.senderIndex == s } }
        let row = Dictionary(uniqueKeysWithValues: rows.enumerated().map { ($1, $0) })
        func pos(_ column: Int, _ s: Int) -> String {
            "pos=\"\(formatFixed(0.3 + Double(column) * Self.columnWidth, 2)),\(formatFixed(-Double(row[s]!) * Self.laneHeight, 2))!\""
        }

        var out = preamble(options, ["layout=neato;", "splines=\(drawn.count <= Self.routedEdgesLimit);"])
        var into: [MessageID: [MessageID]] = [:]
        for e in picture.edges { into[e.to, default: []].append(e.from) }
        var column: [MessageID: Int] = [:]
        var last = [Int](repeating: 0, count: n)
        var pending = [[UInt32]](repeating: [], count: n)
        for r in graph.restarts where r.participant < n { pending[r.participant].append(r.after) }
        var restarts = [Int](repeating: 0, count: n)
        func restartMarker(_ s: Int) {
            last[s] += 1
            out.append("  restart_\(s)_\(restarts[s]) [shape=box, style=dashed, fixedsize=false, fontsize=8, label=\"restart\", \(pos(last[s], s))];")
            restarts[s] += 1
        }
        for s in rows {
            out.append("  lane_\(s) [shape=plaintext, fixedsize=false, label=\(quote("\(MessageID.senderLabel(s)) = \(graph.participants[s])")), pos=\"0,\(formatFixed(-Double(row[s]!) * Self.laneHeight, 2))!\"];")
        }
        let stubs = Set(picture.stubs)
        for m in drawn {
            let s = m.senderIndex
            while let k = pending[s].first, k < m.sequence { restartMarker(s); pending[s].removeFirst() }
            let c = (into[m] ?? []).reduce(last[s] + 1) { max($0, (column[$1] ?? 0) + 1) }
            column[m] = c
            last[s] = c
            out.append("  " + (stubs.contains(m) ? stub(m) : node(m, viewer: viewer)) + ", \(pos(c, s))];")
        }
        for s in rows { for _ in pending[s] { restartMarker(s) } }
        out += edgeLines(picture, viewer: viewer)

        let items = legendItems(picture, options, viewer: viewer, restarts: restarts.contains { $0 > 0 })
        if !items.isEmpty {
            let y = formatFixed(-(Double(rows.count) + 0.2) * Self.laneHeight, 2)
            out.append("  legend [shape=plaintext, fixedsize=false, fontsize=8, label=\"legend\", pos=\"0,\(y)!\"];")
            for (i, (id, attributes)) in items.enumerated() {
                out.append("  \(id) [\(attributes), fontsize=8, width=0.6, pos=\"\(formatFixed(0.3 + Double(i + 1) * Self.columnWidth, 2)),\(y)!\"];")
            }
        }
        out.append("}")
        return out.joined(separator: "\n") + "\n"
    }

    /// Top-down, as the paper draws Figures 1 and 2: Graphviz ranks the messages by their
    /// predecessors; no lanes, no legend, no restart markers.
    func paper(_ picture: Picture, _ options: Options) -> String {
        let viewer = options.view.flatMap { graph.position(of: $0) }
        var out = preamble(options, ["rankdir=TB;", "nodesep=0.4;", "ranksep=0.35;"])
        let stubs = Set(picture.stubs)
        for m in picture.drawn { out.append("  " + (stubs.contains(m) ? stub(m) : node(m, viewer: viewer)) + "];") }
        out += edgeLines(picture, viewer: viewer)
        out.append("}")
        return out.joined(separator: "\n") + "\n"
    }

    /// The lines both layouts start with: one font family for title, nodes and edges.
    private func preamble(_ options: Options, _ layout: [String]) -> [String] {
        var out = ["digraph psync {"] + layout.map { "  " + $0 }
        out.append("  fontname=\"Helvetica\";")
        if let title = options.title { out += ["  labelloc=t;", "  label=\(quote(plainText(title)));"] }
        out.append("  node [shape=circle, fontname=\"Helvetica\", fontsize=10, width=0.45, fixedsize=true];")
        out.append("  edge [fontname=\"Helvetica\", arrowsize=0.6];")
        return out
    }

    private func edgeLines(_ picture: Picture, viewer: Int?) -> [String] {
        picture.edges.map { e in
            let style = e.cut ? " [color=gray60, style=dashed]"
                : viewer.map { graph.inView(e.to, of: $0) } == false ? " [color=gray70, style=dashed]" : ""
            return "  \(quote(e.from.description)) -> \(quote(e.to.description))\(style);"
        }
    }

    /// A message outside the range: its name in grey, where the cut edge ends.
    private func stub(_ m: MessageID) -> String {
        "\(quote(m.description)) [label=\(quote(m.description)), shape=plaintext, fixedsize=false, fontsize=8, fontcolor=gray50"
    }

    /// A drawn message's node, without its closing bracket (layouts add a position).
    private func node(_ m: MessageID, viewer: Int?) -> String {
        var attributes: [String] = []
        var label = m.description
        var styles: [String] = []
        let quiet = graph.content(m) == "ack" || graph.content(m) == "control"
        if graph.content(m) == "control" { attributes.append("shape=box") }
        if graph.content(m) == "ack" { styles.append("dotted") }
        if quiet { attributes += ["width=0.35", "height=0.3", "fontsize=8", "color=gray50", "fontcolor=gray35"] }
        if let w = waves[m] {
            styles.append("filled")
            attributes.append("fillcolor=\(w % 2 == 0 ? "\"#dbe9f6\"" : "\"#f6e7d0\"")")
            label += "\\nw\(w)"
        } else if let c = commits[m] {
            label += "\\n#\(c)"
        }
        if stable.contains(m) { attributes.append("peripheries=2") }
        if let v = viewer, !graph.inView(m, of: v) {
            attributes += ["color=gray70", "fontcolor=gray50"]
            styles = styles.filter { $0 != "dotted" } + ["dashed"]
        }
        if !styles.isEmpty { attributes.append("style=\(quote(styles.joined(separator: ",")))") }
        return "\(quote(m.description)) [" + (["label=\(quote(label))"] + attributes).joined(separator: ", ")
    }

    private func legendItems(_ picture: Picture, _ options: Options, viewer: Int?, restarts: Bool) -> [(String, String)] {
        var items: [(String, String)] = [("legend_stable", "label=\"stable\", peripheries=2")]
        let contents = Set(picture.nodes.compactMap { graph.content($0) })
        if contents.contains("ack") { items.append(("legend_ack", "label=\"ack\", style=dotted, color=gray50, fontcolor=gray35")) }
        if contents.contains("control") { items.append(("legend_control", "label=\"filter\\ncontrol\", shape=box, color=gray50, fontcolor=gray35")) }
        if let f = waveFilter {
            items.append(("legend_wave", "label=\(quote("\(f)\\nwave n")), style=filled, fillcolor=\"#dbe9f6\""))
        }
        if let f = commitFilter { items.append(("legend_commit", "label=\(quote("\(f)\\ncommit #n"))")) }
        if let v = viewer {
            items.append(("legend_outstanding", "label=\(quote("outside\\nV_\(graph.participants[v])")), color=gray70, fontcolor=gray50, style=dashed"))
        }
        if !picture.stubs.isEmpty { items.append(("legend_stub", "label=\"outside\\nrange\", shape=plaintext, fontcolor=gray50")) }
        if restarts { items.append(("legend_restart", "label=\"restart\", shape=box, style=dashed")) }
        return items
    }

    /// A DOT string literal of a label this exporter writes: it may use DOT's escapes (`\n`).
    func quote(_ s: String) -> String {
        "\"" + String(s.flatMap { $0 == "\"" ? ["\\", "\""] : [$0] }) + "\""
    }

    /// A user's text (a title) as a label showing exactly that text: backslashes escaped (a
    /// trailing one would escape the closing quote), line breaks as DOT's centred `\n`.
    func plainText(_ s: String) -> String {
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
