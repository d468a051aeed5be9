import Psync
import PsyncTrace

/// `psync trace export`: a run in formats other tools open, written as the trace streams by.
/// Memory grows with the number of messages (send times and clocks), not with the records.
public protocol TraceExporter {
    /// Text to write for one record (possibly empty).
    mutating func observe(_ e: TraceEvent) -> String
    /// Text to write at the end.
    func finish() -> String
}

/// Chrome/Perfetto trace-event JSON: a process per host, a thread per participant, an instant
/// per send and receive, and one flow per send-to-receive edge (a flow cannot fork, so a message
/// received by three participants has three flows). Times in microseconds.
public struct PerfettoExport: TraceExporter {
    private var first = true
    private var flow: UInt64 = 0
    private var sends: [MessageID: (ParticipantID, UInt64)] = [:]

    public init() {}

    private mutating func item(_ v: JSONValue) -> String {
        defer { first = false }
        return (first ? "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" : ",\n") + v.text
    }

    private func thread(_ p: ParticipantID) -> [(String, JSONValue)] {
        [("pid", .uint(UInt64(p.host.rawValue))), ("tid", .uint(UInt64(p.local)))]
    }

    private func ts(_ t: UInt64) -> JSONValue { .double(Double(t) / 1000) }

    public mutating func observe(_ e: TraceEvent) -> String {
        switch e.kind {
        case .header(let h):
            var out = ""
            for p in h.participants {
                out += item(.object([("ph", .string("M")), ("name", .string("process_name"))] + thread(p)
                                    + [("args", .object([("name", .string("host \(p.host.rawValue)"))]))]))
                out += item(.object([("ph", .string("M")), ("name", .string("thread_name"))] + thread(p)
                                    + [("args", .object([("name", .string("participant \(p)"))]))]))
            }
            return out
        case .send(_, let p, let m, let preds, let bytes, _):
            sends[m] = (p, e.time)
            return item(.object([("ph", .string("i")), ("s", .string("t")), ("name", .string("send \(m)")), ("cat", .string("psync")),
                                 ("ts", ts(e.time))] + thread(p)
                                + [("args", .object([("preds", .array(preds.map { .string($0.description) })), ("bytes", .uint(UInt64(bytes)))]))]))
        case .receive(_, let p, let m):
            guard let (sender, sentAt) = sends[m] else { return "" }
            flow += 1
            return item(.object([("ph", .string("s")), ("id", .uint(flow)), ("name", .string(m.description)), ("cat", .string("context")),
                                 ("ts", ts(sentAt))] + thread(sender)))
                + item(.object([("ph", .string("i")), ("s", .string("t")), ("name", .string("receive \(m)")), ("cat", .string("psync")),
                                ("ts", ts(e.time))] + thread(p)))
                + item(.object([("ph", .string("f")), ("bp", .string("e")), ("id", .uint(flow)), ("name", .string(m.description)),
                                ("cat", .string("context")), ("ts", ts(e.time))] + thread(p)))
        default:
            return ""
        }
    }

    public func finish() -> String { first ? "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[]}\n" : "\n]}\n" }
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
