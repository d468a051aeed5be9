import Psync
import PsyncTrace

/// `psync trace replay --step`: a debugger's view of a run. Each record is printed with the
/// state it leaves behind: the holding queue of the host it happened on, and the view of the
/// participant it concerns (as one range of messages per sender).
public struct TraceStepper {
    private var graph = TraceGraph()

    public init() {}

    public mutating func step(_ e: TraceEvent) -> String {
        graph.apply(e)
        var line = "[\(formatFixed(Double(e.time) / 1e6, 3)) ms] " + e.jsonLine
        if let host = e.host {
            let held = (graph.held[host] ?? []).sorted().map(\.description)
            line += "\n    \(host) holding: " + (held.isEmpty ? "-" : held.joined(separator: " "))
        }
        if let p = participant(of: e), let i = graph.position(of: p) {
            let ranges = graph.views[i].enumerated().filter { $0.element > 0 }.map { s, n in
                n == 1 ? "\(MessageID.senderLabel(s))1" : "\(MessageID.senderLabel(s))1-\(MessageID.senderLabel(s))\(n)"
            }
            line += "\n    V_\(p): " + (ranges.isEmpty ? "-" : ranges.joined(separator: " "))
        }
        return line
    }

    private func participant(of e: TraceEvent) -> ParticipantID? {
        switch e.kind {
        case .open(_, let p, _, _), .send(_, let p, _, _, _, _), .receive(_, let p, _), .stable(_, let p, _),
             .maskOut(_, let p, _), .maskIn(_, let p, _):
            return p
        default:
            return nil
        }
    }
}
