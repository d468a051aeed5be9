import Psync
import PsyncSimulator
import PsyncTrace

/// The context graph as Graphviz DOT, ready for `dot -Tpdf` in a paper (`psync trace dot`).
///
/// Edges go from immediate predecessors (the graph is the transitive reduction, Section 2);
/// labels are the paper's (`a1`, `b2`, Figure 2). Stable messages have a double border; waves
/// of a total-order filter are shaded alternately and numbered; depth-first commits are
/// numbered. With a view, messages outside it (outstanding, Section 2) are grey and dashed. What
/// a message carries, when its send record says (`content`), sets its style: application data
/// a plain circle; an acknowledgement (the application's or a filter's, Figure 8) a small
/// dotted grey circle; a filter's other control messages (a vote, an order) a small grey box.
/// `dataOnly` hides both and contracts the edges through them. Two layouts (`Layout`): lanes,
/// one per participant with time left to right, and the paper's top-down figures.
///
/// Built from a trace one record at a time; `at` keeps only the records up to that moment, so
/// the picture (graph, views, stability, waves) is the run as it was then.
public struct DotExporter {
    public enum Layout: String, CaseIterable, Sendable {
        /// A lane per participant, stacked a, b, c, ... from the top, each sender's messages in
        /// send order, time left to right. Positions are computed here and pinned (Graphviz's
        /// `neato` engine, named in the file, so `dot -Tsvg` draws it too): left to Graphviz's
        /// crossing minimization, lanes came out in any order.
        case lanes
        /// Top-down with no lanes, as the paper's Figures 1 and 2 (Graphviz `dot`); no legend
        /// and no restart markers.
        case paper
    }

    public struct Options: Sendable {
        /// Draw this participant's view V_p: messages outside it are greyed.
        public var view: ParticipantID?
        /// Only messages whose send position (1-based, in send order) is in this range; an edge
        /// to or from a message outside it ends in a grey stub named after that message.
        public var range: ClosedRange<Int>?
        public var title: String?
        /// Hide acknowledgements and filter control messages, contracting edges through them.
        public var dataOnly: Bool
        public var layout: Layout

        public init(view: ParticipantID? = nil, range: ClosedRange<Int>? = nil, title: String? = nil,
                    dataOnly: Bool = false, layout: Layout = .lanes) {
            self.view = view
            self.range = range
            self.title = title
            self.dataOnly = dataOnly
            self.layout = layout
        }
    }

    public private(set) var graph = TraceGraph()
    /// Records later than this are not taken in.
    public let at: UInt64?
    var stable: Set<MessageID> = []
    var waves: [MessageID: Int] = [:]
    var waveFilter: String?
    var commits: [MessageID: Int] = [:]
    var commitFilter: String?

    public init(at: UInt64? = nil) { self.at = at }

    /// Takes in one record of the trace.
    public mutating func observe(_ e: TraceEvent) {
        if let at, e.time > at { return }
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
    /// conversation does not have, or a selection (range, time, data only) that leaves nothing
    /// to draw of a graph that has messages (an empty picture would look like a run with none).
    public func problem(with options: Options) -> String? {
        if let p = options.view, graph.position(of: p) == nil {
            return "\(p) is not a participant of this conversation"
        }
        if let at, graph.messages.isEmpty {
            return "no message was sent by \(formatDuration(at))"
        }
        if let r = options.range, r.lowerBound > graph.messages.count {
            return "the range \(r.lowerBound)..\(r.upperBound) starts past the last of the \(graph.messages.count) messages"
        }
        if !graph.messages.isEmpty, Picture(graph, options).nodes.isEmpty {
            return "no message\(options.range.map { " in the range \($0.lowerBound)..\($0.upperBound)" } ?? "") carries application data (data only)"
        }
        return nil
    }

    /// The DOT text.
    public func dot(_ options: Options = Options()) -> String {
        let picture = Picture(graph, options)
        switch options.layout {
        case .lanes: return lanes(picture, options)
        case .paper: return paper(picture, options)
        }
    }
}
