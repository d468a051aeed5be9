import Psync
import PsyncTrace

/// `psync trace export`: a run in formats other tools open, written as the trace streams by.
/// Memory grows with the number of messages (send times and clocks), not with the records.
public protocol TraceExporter {
    /// Text to write for one record (possibly empty).
    mutating func observe(_ e: TraceEvent) -> String
    /// Text to write at the end.
    mutating func finish() -> String
}

/// A ShiViz log: for every send and receive, a line describing it, then a line with the
/// participant and its vector clock, which ShiViz's default parser reads:
/// `(?<event>.*)\n(?<host>\S*) (?<clock>{.*})`. A send ticks the sender's clock; a receive
/// merges the sender's clock at the send, then ticks.
public struct ShivizExport: TraceExporter {
    private var clocks: [ParticipantID: [String: UInt64]] = [:]
    private var atSend: [MessageID: [String: UInt64]] = [:]

    public init() {}

    private func line(_ event: String, _ p: ParticipantID, _ c: [String: UInt64]) -> String {
        "\(event)\n\(p) " + JSONValue.object(c.sorted { $0.key < $1.key }.map { ($0.key, .uint($0.value)) }).text + "\n"
    }

    public mutating func observe(_ e: TraceEvent) -> String {
        switch e.kind {
        case .send(_, let p, let m, _, _, _):
            var c = clocks[p, default: [:]]
            c[p.description, default: 0] += 1
            clocks[p] = c
            atSend[m] = c
            return line("send \(m)", p, c)
        case .receive(_, let p, let m):
            guard let sent = atSend[m] else { return "" }
            var c = clocks[p, default: [:]]
            for (k, v) in sent { c[k] = max(c[k, default: 0], v) }
            c[p.description, default: 0] += 1
            clocks[p] = c
            return line("receive \(m)", p, c)
        default:
            return ""
        }
    }

    public func finish() -> String { "" }
}
