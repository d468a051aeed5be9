import Histogram
import Psync
import PsyncSimulator
import PsyncTrace

/// Latency distributions and counts from a trace (`psync trace stats`), with HdrHistogram:
/// send to arrive (per receiving host), send to receive and send to stable (per participant),
/// send to deliver (per filter, per participant), time in the holding queue (per host);
/// the same for application data alone (`receive:data`, `deliver:FILTER:data`) when send records
/// say what messages carry; retransmission, resend and drop counts; packets and bytes per
/// delivered message and per data message.
///
/// Latencies are measured from the message's `send` record. A message known only from `arrive`
/// records (a killed process's lost trace tail, learned by `TraceGraph`) has none, and is left
/// out of every latency from send: its first arrival is no stand-in for its send time.
public struct TraceStatistics {
    public typealias Latencies = Histogram<UInt64>

    /// One distribution: overall, and per host or participant.
    public struct Metric {
        public var name: String
        public var overall = TraceStatistics.newHistogram()
        public var byKey: [String: Latencies] = [:]

        mutating func record(_ value: UInt64, key: String) {
            _ = overall.record(value)
            _ = byKey[key, default: TraceStatistics.newHistogram()].record(value)
        }
    }

    public private(set) var metrics: [String: Metric] = [:]
    /// Counters by name (`counts` adds the fixed ones below, kept apart to spare a hash per record).
    private var namedCounts: [String: Int] = [:]
    private var packetsSent = 0, bytesSent = 0, receives = 0, messagesSent = 0
    /// Sends whose record says they carry application data (simulator traces say so).
    private var dataSent = 0
    public private(set) var events = 0
    public private(set) var filters: [String] = []
    /// The trace's header (what the run was: seed, filters, configuration), once read.
    public private(set) var header: TraceHeader?
    /// The latest record's time: the run's length in nanoseconds.
    public private(set) var duration: UInt64 = 0
    private var graph = TraceGraph()
    private var holds: [HostID: [MessageID: UInt64]] = [:]
    /// Section 5: hosts rebuilding their image after a restart, since when, and what the other
    /// images held then (the image is recovered once it holds that much).
    private var recovering: [HostID: (since: UInt64, target: [UInt32])] = [:]
    /// Names built once: records repeat the same few hosts, participants and packet types.
    private var names: [HostID: String] = [:]
    private var participantNames: [ParticipantID: String] = [:]
    private var packetKeys: [String: String] = [:]

    mutating func name(_ h: HostID?) -> String {
        guard let h else { return "-" }
        if let n = names[h] { return n }
        names[h] = h.description
        return h.description
    }

    mutating func name(_ p: ParticipantID) -> String {
        if let n = participantNames[p] { return n }
        participantNames[p] = p.description
        return p.description
    }

    public init() {}

    /// The toolkit's latency histogram (`psync simulate` summarizes with the same one).
    static func newHistogram() -> Latencies { LatencyHistogram.new() }

    /// Metric names in report order.
    public var metricNames: [String] {
        var names = ["arrive", "receive"]
        if dataSent > 0 { names.append("receive:data") }
        names.append("stable")
        for f in filters {
            names.append("deliver:\(f)")
            if dataSent > 0 { names.append("deliver:\(f):data") }
        }
        names.append("hold")
        if metrics["recover"] != nil { names.append("recover") }
        return names
    }

    /// Every latency is a later record's time less an earlier one's; `TraceReader` refuses files
    /// whose time goes backwards, and records fed by other means that do are left out, not
    /// subtracted (which would trap).
    mutating func latency(_ metric: String, _ m: MessageID, at t: UInt64, key: String) {
        guard let sent = graph.sendTime(m), t >= sent else { return }
        metrics[metric, default: Metric(name: metric)].record(t - sent, key: key)
    }

    mutating func count(_ name: String, _ n: Int = 1) { namedCounts[name, default: 0] += n }

    /// Every counter, by name.
    public var counts: [String: Int] {
        var all = namedCounts
        for (name, n) in [("packets sent", packetsSent), ("bytes sent", bytesSent), ("receives", receives), ("messages sent", messagesSent)] where n > 0 {
            all[name] = n
        }
        return all
    }

    public mutating func observe(_ e: TraceEvent) {
        events += 1
        duration = max(duration, e.time)
        graph.apply(e)
        switch e.kind {
        case .header(let h):
            header = h
            filters = h.filters
        case .send(_, _, _, _, _, let content):
            messagesSent += 1
            if let content {
                if content == "data" { dataSent += 1 }
                count("messages sent: \(content)")
            }
        case .packetOut(let p):
            packetsSent += 1
            bytesSent += p.bytes
            if packetKeys[p.type] == nil { packetKeys[p.type] = "packets sent: \(p.type)" }
            count(packetKeys[p.type]!)
        case .arrive(_, let m, _):
            latency("arrive", m, at: e.time, key: name(e.host))
            if let h = e.host, let r = recovering[h], e.time >= r.since, let image = graph.images[h], zip(image, r.target).allSatisfy({ $0 >= $1 }) {
                recovering[h] = nil
                metrics["recover", default: Metric(name: "recover")].record(e.time - r.since, key: name(h))
            }
        case .other("restart", _):
            // Time to recover: from the restart until the host's image holds what the others' did.
            guard let h = e.host else { break }
            count("restarts")
            var target = [UInt32](repeating: 0, count: graph.participantCount)
            for (other, image) in graph.images where other != h && !graph.crashed.contains(other) {
                for s in target.indices where s < image.count { target[s] = max(target[s], image[s]) }
            }
            recovering[h] = (e.time, target)
        case .receive(_, let p, let m):
            receives += 1
            latency("receive", m, at: e.time, key: name(p))
            if graph.content(m) == "data" { latency("receive:data", m, at: e.time, key: name(p)) }
        case .stable(_, let p, let m):
            latency("stable", m, at: e.time, key: name(p))
        case .hold(_, let m, _):
            if let h = e.host { holds[h, default: [:]][m] = e.time }
        case .release(_, let m):
            if let h = e.host, let start = holds[h]?.removeValue(forKey: m), e.time >= start {
                let key = name(e.host)
                metrics["hold", default: Metric(name: "hold")].record(e.time - start, key: key)
            }
        case .retransmitRequest(_, _, _, let to, let broadcast):
            count(broadcast ? "retransmit requests (broadcast)" : "retransmit requests (to source)", to.count)
        case .frontierRequest(_, _, _, _, _, let to, let reason):
            count("frontier requests (\(reason))", to.count)
        case .retransmitAnswer(_, _, let ms, let cut):
            count("messages retransmitted", ms.count)
            if cut { count("retransmit answers cut") }
        case .digestsStopped:
            count("digest rounds given up")
        case .resend:
            count("resends")
        case .resendSuccessors(_, _, let ss, _):
            count("successors resent", ss.count)
        case .drop(let d):
            count("drops: \(d.reason)")
        case .other("deliver", let fields):
            let field = { (k: String) in fields.first { $0.0 == k }?.1 }
            guard let filter = field("filter")?.string, let p = field("p")?.string,
                  let m = field("mid")?.string.flatMap(MessageID.init(label:)) else { return }
            // Latencies and counts are of application messages (control messages that a filter
            // passes up to the one above are delivered too, but are not what users wait for).
            guard field("application")?.bool ?? true else { return }
            if !filters.contains(filter) { filters.append(filter) }
            count("deliveries: \(filter)")
            latency("deliver:\(filter)", m, at: e.time, key: p)
            // The application's data apart from its acknowledgements, when sends say which.
            if graph.content(m) == "data" { latency("deliver:\(filter):data", m, at: e.time, key: p) }
        default:
            break
        }
    }

    /// Delivered messages: the top filter's deliveries, or Psync's receives without filters.
    public var delivered: Int {
        filters.last.map { namedCounts["deliveries: \($0)"] ?? 0 } ?? receives
    }

    /// The derived ratios: packets and bytes per delivered message, and per data message sent
    /// when send records say which messages carry data (the figure that compares across
    /// filters and recovery policies: acknowledgements and control messages are overhead).
    public var perDelivered: [(String, Double)] {
        let d = Double(max(delivered, 1))
        var out = [("packets per delivered message", Double(packetsSent) / d),
                   ("bytes per delivered message", Double(bytesSent) / d)]
        if dataSent > 0 {
            out += [("packets per data message", Double(packetsSent) / Double(dataSent)),
                    ("bytes per data message", Double(bytesSent) / Double(dataSent))]
        }
        return out
    }
}

/// The percentiles reported for each distribution.
public let reportedPercentiles: [(String, Double)] = [("p50", 50), ("p90", 90), ("p99", 99), ("p99.9", 99.9)]
