import Psync
import PsyncFilters
import PsyncTrace

/// Offline checkers over any trace (`psync trace check`): the guarantees of Sections 2 and 3
/// and the promises of the filters, verified from the records alone.
///
/// - receive respects the context relation: never before a predecessor, never twice, never
///   one's own message;
/// - stability is never claimed early: when `stable` is recorded, the view holds, from every
///   other unmasked participant, a message that follows;
/// - filters that promise a total order agree: every participant's delivery sequence is a prefix
///   of the longest one;
/// - images converge: at the end of a complete trace, every host that did not crash and is not
///   cut off by a partition holds the same messages (a simulated host that never opened the
///   conversation fails this);
/// - every send is consistent with the graph (predecessors known, senders in sequence), and
///   every arrival agrees with it (the predecessors the message was sent with).
///
/// A message whose `send` record is missing but which a host recorded arriving is learned from
/// that `arrive` record (see `TraceGraph`): a process killed with kill -9 loses its last
/// unflushed trace frame, and the image of Section 3.1.3 is the same on every host, so another
/// host's arrive record witnesses the message's context as well as the send would. So a merged
/// real run whose killed process sent messages in its lost second checks clean. This does not
/// weaken the check where nothing was lost: a receive of a message that nobody sent and nobody
/// recorded arriving is still "received m, which nobody sent"; a later send or arrive with other
/// predecessors is a "graph" violation; and at the end of a complete trace a message still
/// known from arrivals only is a "send" violation unless the trace is a real run's (clock not
/// `virtual`) and its sender's host crashed (ended without `end`: its trace tail may be lost).
/// A simulation records every send before its arrivals, so there every such message is flagged.
public struct TraceChecker {
    public struct Violation: Sendable, CustomStringConvertible {
        public var property: String
        public var witness: String
        public var time: UInt64
        public var description: String { "\(property) (t=\(time)): \(witness)" }
    }

    public enum Verdict: Equatable, Sendable {
        case valid, invalid
        /// The trace ended early (truncated or damaged): what was read is consistent, but
        /// properties about the end of the run cannot be decided.
        case undetermined(String)
    }

    public private(set) var graph = TraceGraph()
    public private(set) var violations: [Violation] = []
    public private(set) var events = 0
    /// What the records claimed, kept for the checks at the end (`TraceChecker+Claims`): each
    /// filter's deliveries per participant in order, with their times; its waves and commits per
    /// participant; the participants membership removed; the header's stack.
    var deliveries: [String: [ParticipantID: [(MessageID, UInt64)]]] = [:]
    var waves: [String: [ParticipantID: [(mids: [MessageID], time: UInt64)]]] = [:]
    var commits: [String: [ParticipantID: [(MessageID, UInt64)]]] = [:]
    var removed: Set<ParticipantID> = []
    var stack: [String] = []
    /// Per host: the time of its last record (a host's records never go back in time).
    var hostTimes: [HostID: UInt64] = [:]
    /// Whether the header says a real run (clock not `virtual`): crashed hosts may have lost the
    /// tail of their traces.
    var realRun = false
    /// The run's partitions (side, start, heal), and the time of its last record that is not a
    /// partition's start or heal or the end: when the run fell quiet.
    private var partitions: [(side: [HostID], start: UInt64, heal: UInt64)] = []
    private var lastActivity: UInt64 = 0
    /// At most this many violations are kept (the count goes on).
    public var violationLimit = 100
    public private(set) var violationCount = 0

    public init() {}

    mutating func flag(_ property: String, _ witness: @autoclosure () -> String, at time: UInt64) {
        violationCount += 1
        if violations.count < violationLimit { violations.append(Violation(property: property, witness: witness(), time: time)) }
    }

    public mutating func observe(_ e: TraceEvent) {
        events += 1
        checkHostTime(e)
        switch e.kind {
        case .partition, .heal, .end: break
        default: lastActivity = e.time
        }
        switch e.kind {
        case .header(let h):
            realRun = h.clock != "virtual"
            stack = h.filters
        case .send(_, let p, let m, let preds, _, _):
            checkSendContext(p, m, preds, host: e.host, at: e.time)
            let arrived = graph.learned[m]
            let known = graph.predecessors(of: m)
            guard !graph.apply(e) else { return }
            if let arrived, let known {
                flag("graph", "\(p) sent \(m) with predecessors \(preds), but \(arrived.host.map { "\($0)" } ?? "a host") recorded its arrival with \(known)", at: e.time)
            } else {
                flag("graph", "\(p) sent \(m) with predecessors \(preds) that contradict the graph", at: e.time)
            }
            return
        case .arrive(_, let m, let preds):
            let known = graph.predecessors(of: m)
            guard !graph.apply(e) else { return }
            let host = e.host.map { "\($0)" } ?? "a host"
            if let known {
                let witness = graph.learned[m] != nil ? "an earlier arrival of it says \(known)" : "it was sent with \(known)"
                flag("graph", "\(host) recorded the arrival of \(m) with predecessors \(preds), but \(witness)", at: e.time)
            } else {
                flag("graph", "\(host) recorded the arrival of \(m) with predecessors \(preds) that contradict the graph", at: e.time)
            }
            return
        case .receive(_, let p, let m):
            checkReceive(p, m, at: e.time)
            checkReceiveHost(p, m, host: e.host, at: e.time)
        case .stable(_, let p, let m):
            checkStable(p, m, at: e.time)
        case .other("deliver", let fields):
            checkDelivery(fields, at: e.time)
        case .other("restart", let fields):
            // Section 5: the participant's filter stack starts over (a re-execution delivers
            // everything again): its deliveries and waves are those of the new incarnation.
            if let p = fields.first(where: { $0.0 == "p" })?.1.string.flatMap(ParticipantID.init(label:)) {
                for filter in deliveries.keys { deliveries[filter]?[p] = nil }
                for filter in waves.keys { waves[filter]?[p] = nil }
                for filter in commits.keys { commits[filter]?[p] = nil }
            }
        case .other(let kind, let fields) where ["wave", "commit", "remove", "readmit"].contains(kind):
            keepClaim(kind, fields, at: e.time)
        case .partition(let side, let heal):
            partitions.append((side, e.time, heal))
        default:
            break
        }
        graph.apply(e)
    }

    mutating func checkReceive(_ p: ParticipantID, _ m: MessageID, at t: UInt64) {
        guard let i = graph.position(of: p) else { return flag("receive", "\(p) is not a participant", at: t) }
        guard let preds = graph.predecessors(of: m) else { return flag("receive", "\(p) received \(m), which nobody sent", at: t) }
        if m.senderIndex == i { flag("never receive own", "\(p) received its own \(m)", at: t) }
        if graph.inView(m, of: i) { flag("receive once", "\(p) received \(m) twice", at: t) }
        for x in preds where !graph.inView(x, of: i) {
            flag("receive after context", "\(p) received \(m) before its predecessor \(x)", at: t)
        }
    }

    mutating func checkStable(_ p: ParticipantID, _ m: MessageID, at t: UInt64) {
        guard let i = graph.position(of: p), graph.inView(m, of: i) else {
            return flag("stability", "\(p) claims \(m) stable without it in its view", at: t)
        }
        let following = Set(graph.followers(of: m, inViewOf: i))
        let missing = (0..<graph.participantCount).filter { q in
            q != m.senderIndex && !graph.masked[i].contains(q) && !following.contains(q)
        }
        if !missing.isEmpty {
            let names = missing.map { graph.participants[$0].description }
            flag("stability claimed early", "\(p) claims \(m) stable but has no message following it from \(names)", at: t)
        }
    }

    /// A delivery is of a message in the participant's view; it is kept for the order checks
    /// at the end.
    mutating func checkDelivery(_ fields: [(String, JSONValue)], at t: UInt64) {
        let field = { (k: String) in fields.first { $0.0 == k }?.1 }
        guard let filter = field("filter")?.string, let p = field("p")?.string.flatMap(ParticipantID.init(label:)),
              let m = field("mid")?.string.flatMap(MessageID.init(label:)) else { return }
        guard let i = graph.position(of: p) else { return flag("deliver", "\(p) is not a participant", at: t) }
        if !graph.inView(m, of: i) { flag("\(filter): deliver", "\(p) delivers \(m), which is not in its view", at: t) }
        deliveries[filter, default: [:]][p, default: []].append((m, t))
    }

    /// The verdict once the trace has been read; `complete` is false when it ended early.
    public mutating func finish(complete: Bool, readError: String? = nil) -> Verdict {
        if complete {
            for (m, arrival) in graph.learned.sorted(by: { $0.key < $1.key }) {
                let sender = graph.participants[m.senderIndex]
                if realRun && graph.crashed.contains(sender.host) { continue }
                let witness = "\(arrival.host.map { "\($0)" } ?? "a host") recorded the arrival of \(m), whose sender \(sender) never "
                    + "recorded sending it" + (realRun ? " and did not crash" : "")
                flag("send", witness, at: arrival.time)
            }
            // Convergence is asked of every host that did not crash and that no partition cut
            // off when the run fell quiet (as `SimulationResult.cutOffAtEnd`: Psync cannot
            // converge across a partition, and a heal wakes no one up): a simulated host among
            // them with no image never opened the conversation. (A real run's host without an
            // image is one whose trace was not given.)
            let end = lastActivity
            let cutOff = Set(partitions.filter { $0.start <= end && $0.heal > end }.flatMap(\.side))
            // A participant membership removed is masked out by the others, who discarded what
            // it sent after its removal's cut: its image is not asked to converge either.
            let crashed = graph.crashed, removedHosts = Set(removed.map(\.host))
            let converging = { (h: HostID) in !crashed.contains(h) && !cutOff.contains(h) && !removedHosts.contains(h) }
            if !realRun {
                for p in graph.participants where converging(p.host) && graph.images[p.host] == nil {
                    flag("images converge", "\(p.host) never opened the conversation", at: 0)
                }
            }
            let running = graph.images.filter { converging($0.key) }.sorted { $0.key < $1.key }
            if let (first, image) = running.first {
                for (host, other) in running.dropFirst() where other != image {
                    let diff = (0..<graph.participantCount).filter { other[$0] != image[$0] }.map {
                        "\(MessageID.senderLabel($0)): \(first) has \(image[$0]), \(host) has \(other[$0])"
                    }
                    flag("images converge", "\(host) and \(first) differ (\(diff.joined(separator: "; ")))", at: 0)
                }
            }
            checkOrdersAtTheEnd(running: Set(graph.participants.filter { converging($0.host) }))
        }
        checkClaimedOrders()
        if violationCount > 0 { return .invalid }
        return complete ? .valid : .undetermined(readError ?? "the trace ended early")
    }
}
