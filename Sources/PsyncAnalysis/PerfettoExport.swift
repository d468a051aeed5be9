import Psync
import PsyncTrace

/// Chrome/Perfetto trace-event JSON (`psync trace export --format perfetto`), opened by
/// ui.perfetto.dev or chrome://tracing. Times in microseconds.
///
/// - a process per host, a thread per participant;
/// - instants: send, receive, filter deliver and stable on the participant's thread; drop,
///   crash and restart on the host (process scope);
/// - a flow per send-to-receive edge (a flow cannot fork, so a message received by three
///   participants has three flows);
/// - slices for the time each message spends in a host's holding queue (Section 3.2), as async
///   slices (they overlap, which thread slices may not): from `hold` to `release`, or to its
///   discard, the host's crash or restart, or the end of the trace;
/// - counters per host: the holding queue's length, and each participant's outstanding
///   messages (sent to the conversation but outside its view, Section 2).
public struct PerfettoExport: TraceExporter {
    private var first = true
    private var flow: UInt64 = 0
    private var graph = TraceGraph()
    private var hosts: [HostID: [ParticipantID]] = [:]
    /// Open holding-queue slices: per host, each held message's slice id.
    private var held: [HostID: [MessageID: UInt64]] = [:]
    private var slice: UInt64 = 0
    private var last: UInt64 = 0

    public init() {}

    private mutating func item(_ v: JSONValue) -> String {
        defer { first = false }
        return (first ? "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[\n" : ",\n") + v.text
    }

    private func thread(_ p: ParticipantID) -> [(String, JSONValue)] {
        [("pid", .uint(UInt64(p.host.rawValue))), ("tid", .uint(UInt64(p.local)))]
    }

    private func process(_ h: HostID) -> [(String, JSONValue)] { [("pid", .uint(UInt64(h.rawValue)))] }

    private func ts(_ t: UInt64) -> JSONValue { .double(Double(t) / 1000) }

    private mutating func instant(_ name: String, _ t: UInt64, _ where_: [(String, JSONValue)], scope: String = "t",
                                  args: [(String, JSONValue)] = []) -> String {
        item(.object([("ph", .string("i")), ("s", .string(scope)), ("name", .string(name)), ("cat", .string("psync")), ("ts", ts(t))]
                     + where_ + (args.isEmpty ? [] : [("args", .object(args))])))
    }

    private mutating func counter(_ name: String, _ t: UInt64, _ h: HostID, _ values: [(String, JSONValue)]) -> String {
        item(.object([("ph", .string("C")), ("name", .string(name)), ("ts", ts(t))] + process(h) + [("args", .object(values))]))
    }

    private mutating func holdingQueue(_ h: HostID, _ t: UInt64) -> String {
        counter("holding queue", t, h, [("messages", .uint(UInt64(graph.held[h]?.count ?? 0)))])
    }

    /// Messages sent that each of host h's participants has not received. A damaged trace can
    /// say a view holds more than was ever sent (a receive of a message with no send): then
    /// none is outstanding, rather than a count that wraps around (the fuzzer found one).
    private mutating func outstanding(_ h: HostID, _ t: UInt64) -> String {
        let sent = UInt64(graph.messages.count)
        let values: [(String, JSONValue)] = (hosts[h] ?? []).compactMap { p in
            graph.position(of: p).map { i in
                let inView = graph.views[i].reduce(0) { $0 + UInt64($1) }
                return (p.description, .uint(sent > inView ? sent - inView : 0))
            }
        }
        return values.isEmpty ? "" : counter("outstanding", t, h, values)
    }

    private mutating func endSlice(_ h: HostID, _ m: MessageID, _ t: UInt64) -> String {
        guard let id = held[h]?.removeValue(forKey: m) else { return "" }
        return item(.object([("ph", .string("e")), ("cat", .string("holding")), ("id", .uint(id)), ("name", .string("held \(m)")), ("ts", ts(t))] + process(h)))
    }

    private mutating func endSlices(_ h: HostID, _ t: UInt64) -> String {
        (held[h] ?? [:]).keys.sorted { ($0.senderIndex, $0.sequence) < ($1.senderIndex, $1.sequence) }.map { endSlice(h, $0, t) }.joined()
    }

    public mutating func observe(_ e: TraceEvent) -> String {
        last = max(last, e.time)
        let before = e.host.flatMap { graph.held[$0]?.count }
        graph.apply(e)
        var out = ""
        switch e.kind {
        case .header(let h):
            for p in h.participants {
                hosts[p.host, default: []].append(p)
                out += item(.object([("ph", .string("M")), ("name", .string("process_name"))] + thread(p)
                                    + [("args", .object([("name", .string("host \(p.host.rawValue)"))]))]))
                out += item(.object([("ph", .string("M")), ("name", .string("thread_name"))] + thread(p)
                                    + [("args", .object([("name", .string("participant \(p)"))]))]))
            }
        case .send(_, let p, let m, let preds, let bytes, let content):
            out += instant("send \(m)", e.time, thread(p),
                           args: [("preds", .array(preds.map { .string($0.description) })), ("bytes", .uint(UInt64(bytes)))]
                                 + (content.map { [("content", .string($0))] } ?? []))
            for h in hosts.keys.sorted(by: { $0.rawValue < $1.rawValue }) { out += outstanding(h, e.time) }
        case .receive(_, let p, let m):
            if let sentAt = graph.sendTime(m), m.senderIndex < graph.participantCount {
                flow += 1
                out += item(.object([("ph", .string("s")), ("id", .uint(flow)), ("name", .string(m.description)), ("cat", .string("context")),
                                     ("ts", ts(sentAt))] + thread(graph.participants[m.senderIndex])))
                out += instant("receive \(m)", e.time, thread(p))
                out += item(.object([("ph", .string("f")), ("bp", .string("e")), ("id", .uint(flow)), ("name", .string(m.description)),
                                     ("cat", .string("context")), ("ts", ts(e.time))] + thread(p)))
            } else {
                out += instant("receive \(m)", e.time, thread(p))
            }
            out += outstanding(p.host, e.time)
        case .stable(_, let p, let m):
            out += instant("stable \(m)", e.time, thread(p))
        case .other("deliver", let fields):
            let field = { (k: String) in fields.first { $0.0 == k }?.1 }
            if let p = field("p")?.string.flatMap(ParticipantID.init(label:)), let m = field("mid")?.string, let f = field("filter")?.string {
                out += instant("deliver \(m) (\(f))", e.time, thread(p))
            }
        case .hold(_, let m, _):
            guard let h = e.host, held[h]?[m] == nil else { break }
            slice += 1
            held[h, default: [:]][m] = slice
            out += item(.object([("ph", .string("b")), ("cat", .string("holding")), ("id", .uint(slice)), ("name", .string("held \(m)")), ("ts", ts(e.time))] + process(h)))
            if graph.held[h]?.count != before { out += holdingQueue(h, e.time) }
        case .release(_, let m):
            guard let h = e.host else { break }
            out += endSlice(h, m, e.time)
        case .arrive:
            if let h = e.host, graph.held[h]?.count != before { out += holdingQueue(h, e.time) }
        case .drop(let d):
            guard let h = e.host else { break }
            out += instant("drop (\(d.reason))", e.time, process(h), scope: "p", args: d.message.map { [("mid", .string($0.description))] } ?? [])
            if let m = d.message, DropReason(rawValue: d.reason)?.removesHeldMessage == true {
                out += endSlice(h, m, e.time) + holdingQueue(h, e.time)
            }
        case .crash:
            guard let h = e.host else { break }
            out += instant("crash", e.time, process(h), scope: "p") + endSlices(h, e.time)
        case .other("restart", _):
            guard let h = e.host else { break }
            out += instant("restart", e.time, process(h), scope: "p") + endSlices(h, e.time) + holdingQueue(h, e.time)
        default:
            break
        }
        return out
    }

    public mutating func finish() -> String {
        var out = ""
        for h in held.keys.sorted(by: { $0.rawValue < $1.rawValue }) { out += endSlices(h, last) }
        return out + (first ? "{\"displayTimeUnit\":\"ms\",\"traceEvents\":[]}\n" : "\n]}\n")
    }
}
