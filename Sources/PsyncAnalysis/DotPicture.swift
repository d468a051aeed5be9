import Psync

extension DotExporter {
    /// What a picture shows, whatever its layout: the messages drawn, the stubs standing for
    /// messages a range leaves out, and the edges between them.
    ///
    /// With `dataOnly`, an edge into a hidden message (an acknowledgement or control message)
    /// is carried on to the nearest shown ones after it, and of the predecessors that a
    /// message gets that way only those not preceding another are kept, so the picture is
    /// again a transitive reduction (Section 2), of the data messages alone.
    struct Picture {
        /// Drawn messages, in send order.
        var nodes: [MessageID] = []
        /// Messages outside the range with an edge to or from a drawn one, in send order.
        var stubs: [MessageID] = []
        /// Both, in send order.
        var drawn: [MessageID] = []
        /// Edges, predecessor first; `cut` when one end is a stub.
        var edges: [(from: MessageID, to: MessageID, cut: Bool)] = []

        init(_ graph: TraceGraph, _ options: Options) {
            func hidden(_ m: MessageID) -> Bool {
                options.dataOnly && (graph.content(m) == "ack" || graph.content(m) == "control")
            }
            var positions: [MessageID: Int] = [:]
            for (i, m) in graph.messages.enumerated() { positions[m] = i + 1 }
            func inRange(_ m: MessageID) -> Bool { options.range.map { positions[m].map($0.contains) ?? false } ?? true }

            // The shown messages each hidden one passes its edges on from.
            var through: [MessageID: [MessageID]] = [:]
            func shownPredecessors(_ m: MessageID) -> [MessageID] {
                var out: [MessageID] = []
                var contracted = false
                for p in graph.predecessors(of: m) ?? [] {
                    if !hidden(p) {
                        out.append(p)
                    } else {
                        contracted = true
                        if through[p] == nil { through[p] = shownPredecessors(p) }
                        out += through[p]!
                    }
                }
                guard contracted else { return out }
                var unique: [MessageID] = []
                for p in out where !unique.contains(p) { unique.append(p) }
                return unique.filter { p in !unique.contains { q in graph.precedes(p, q) } }
            }

            var stubbed: Set<MessageID> = []
            for m in graph.messages {
                if hidden(m) {
                    // In send order, so a hidden message's own are known before anything after it asks.
                    through[m] = shownPredecessors(m)
                } else if inRange(m) {
                    nodes.append(m)
                    for p in shownPredecessors(m) {
                        let cut = !inRange(p)
                        if cut { stubbed.insert(p) }
                        edges.append((p, m, cut))
                    }
                } else if options.range != nil {
                    for p in shownPredecessors(m) where inRange(p) {
                        stubbed.insert(m)
                        edges.append((p, m, true))
                    }
                }
            }
            let shown = Set(nodes)
            stubs = graph.messages.filter(stubbed.contains)
            drawn = graph.messages.filter { shown.contains($0) || stubbed.contains($0) }
        }
    }
}
