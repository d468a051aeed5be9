import Psync
import PsyncFilters
import PsyncTrace

/// Counterfactual replay (`psync trace replay --filter STACK`): what a different ordering policy
/// would have delivered, and when, on the same run.
///
/// Each participant gets a fresh host and the filter stack; the participant's recorded receives
/// are fed to it at their recorded times, in their recorded order, each with its recorded
/// predecessors, and its recorded sends are sent again, so every view grows exactly as it did.
/// The filters see the same graph at the same times and deliver in their own order; their
/// records (`deliver`, `wave`, ...) go to `trace`.
///
/// The filters are muted: the recorded run cannot contain messages they would have sent (a
/// waves filter's acknowledgements, a membership vote). A policy that needs no control messages
/// of its own is replayed exactly; for one that tries to send, the result is an approximation
/// (deliveries that waited on its own messages come late or not at all), and `blockedSends`
/// says how many it tried. Application payloads are not in traces, so replayed messages carry
/// empty data; control messages of the recorded run's filters keep their recorded bodies.
public final class CounterfactualReplay {
    public let filterNames: [String]
    let factory: FilterFactory
    let trace: TraceSink?
    private var participants: [ParticipantID] = []
    private var conversation = ConversationID(0)
    private var hosts: [HostID: Host] = [:]
    private var stacks: [ParticipantID: FilterStack] = [:]
    private var predecessors: [MessageID: [MessageID]] = [:]
    private var controls: [MessageID: FilterMessage.Content] = [:]
    /// Recorded sends that the replay could not reproduce (a mid mismatch): should stay 0.
    public private(set) var mismatches = 0
    /// Why the replay stopped before the trace's end (see `timerFiringLimit`); nil if it did not.
    public private(set) var abandoned: String?

    /// Filter timer firings one record may take to reach: the filters' periodic timers fire at
    /// every deadline between two records, so a trace whose time leaps ahead (by centuries, when
    /// edited) would keep the replay busy for ever. 100,000 covers 2.8 hours of silence at the
    /// membership filter's 100 ms check interval, and takes a few seconds in a debug build.
    public static let timerFiringLimit = 100_000

    /// Replays under the stack `filters` (bottom first), made by `factory` (the registry's
    /// filters by default); throws if the factory does not know a name.
    public init(filters: [String], trace: TraceSink?, factory: @escaping FilterFactory = FilterRegistry.makeStack) throws {
        _ = try factory(filters)
        filterNames = filters
        self.factory = factory
        self.trace = trace
    }

    /// Sends the filters tried to make and could not.
    public var blockedSends: Int { stacks.values.reduce(0) { $0 + $1.blockedSends } }
    public var isExact: Bool { blockedSends == 0 && mismatches == 0 }

    func host(_ p: ParticipantID) -> Host {
        if let h = hosts[p.host] { return h }
        var config = HostConfig()
        config.reportsEvents = false
        let h = Host(id: p.host, config: config)
        hosts[p.host] = h
        return h
    }

    func content(_ m: MessageID) -> FilterMessage.Content { controls[m] ?? .application([]) }

    /// Feeds one record of the original trace.
    public func observe(_ e: TraceEvent) {
        guard abandoned == nil else { return }
        let now = Instant(nanoseconds: e.time)
        for stack in stacks.values {
            var firings = 0
            while let d = stack.nextTimerDeadline, d <= now {
                firings += 1
                guard firings <= Self.timerFiringLimit else {
                    abandoned = "at t=\(e.time) ns: the filters' timers would fire more than \(Self.timerFiringLimit) times to reach this record (the trace leaps ahead in time)"
                    return
                }
                _ = stack.fireTimers(now: d)
            }
        }
        switch e.kind {
        case .header(let h):
            participants = h.participants
            conversation = h.conversation ?? conversation
        case .open(let c, let p, let ps, true):
            conversation = c
            participants = ps
            _ = try? host(p).activeOpen(ps, as: p, conversation: c)
            openStack(p, now: now)
        case .other("control", let fields):
            let field = { (k: String) in fields.first { $0.0 == k }?.1 }
            if let filter = field("filter")?.string, let m = field("mid")?.string.flatMap(MessageID.init(label:)),
               let body = field("body")?.array {
                controls[m] = .control(filter: filter, body: body.compactMap { $0.uint64.map { UInt8(truncatingIfNeeded: $0) } })
            }
        case .send(_, let p, let m, let preds, _, _):
            predecessors[m] = preds
            guard let stack = stacks[p] else { return }
            if stack.replaySend(content(m), now: now) != m { mismatches += 1 }
        case .receive(_, let p, let m):
            receive(m, at: p, now: now)
        default:
            break
        }
    }

    private func openStack(_ p: ParticipantID, now: Instant) {
        guard stacks[p] == nil, let filters = try? factory(filterNames),
              let stack = try? FilterStack(filters, host: host(p), conversation: conversation, participant: p, now: now, trace: trace)
        else { return }
        stack.context.muted = true
        stacks[p] = stack
        stack.start(now: now)
    }

    private func receive(_ m: MessageID, at p: ParticipantID, now: Instant) {
        guard m.senderIndex < participants.count else { return }
        let sender = participants[m.senderIndex]
        let payload = FilterMessage.frame(content(m))
        let packet: Packet = m == .root
            ? .startConversation(StartConversation(conversation: conversation, participants: participants, payload: payload))
            : .addNode(AddNode(conversation: conversation, message: m, sender: sender, predecessors: predecessors[m] ?? [], payload: payload))
        let h = host(p)
        _ = h.handle(.packet(packet, from: sender.host), now: now)
        if stacks[p] == nil, m == .root, h.passiveOpen(p, now: now) != nil { openStack(p, now: now) }
        stacks[p]?.drain(now: now)
        _ = h.takeEffects()
    }
}

extension CounterfactualReplay {
    /// Replays the trace at `path` under `filters` and returns the statistics of the
    /// counterfactual run: the recorded events (without the recorded filters' records) together
    /// with what the replayed filters recorded. Throws `FilterRegistry.UnknownFilter` (or what
    /// `factory` throws) for a stack it cannot make, `TraceError` for a file it cannot read,
    /// `Abandoned` for a trace it cannot replay to the end.
    public static func statistics(_ path: String, filters: [String], factory: @escaping FilterFactory = FilterRegistry.makeStack)
        throws -> (TraceStatistics, CounterfactualReplay, TraceStream.Outcome) {
        let collected = ForwardingSink()
        let replay = try CounterfactualReplay(filters: filters, trace: collected, factory: factory)
        var stats = TraceStatistics()
        let outcome = try TraceStream.read(path) { e in
            if case .header(var h) = e.kind {
                h.filters = filters
                stats.observe(TraceEvent(time: 0, host: nil, .header(h)))
            } else if case .other = e.kind {
                // The recorded run's filter records are replaced by the replay's.
            } else {
                stats.observe(e)
            }
            replay.observe(e)
            for r in collected.take() { stats.observe(r) }
        }
        if let why = replay.abandoned { throw Abandoned(reason: why) }
        return (stats, replay, outcome)
    }

    /// A replay given up before the trace's end (`abandoned`).
    public struct Abandoned: Error, CustomStringConvertible {
        public var reason: String
        public var description: String { "cannot replay: \(reason)" }
    }

    /// A sentence on how far the replay can be trusted.
    public var exactness: String {
        if isExact { return "exact: the filters needed no messages of their own" }
        var why: [String] = []
        if blockedSends > 0 {
            why.append("the filters tried to send \(blockedSends) control messages (acknowledgements, votes) that the recorded run does not contain, so deliveries that waited on them are late or missing")
        }
        if mismatches > 0 { why.append("\(mismatches) recorded sends could not be reproduced") }
        return "approximate: " + why.joined(separator: "; ")
    }
}

/// Keeps what it is given until taken.
final class ForwardingSink: TraceSink {
    private var events: [TraceEvent] = []
    func record(_ event: TraceEvent) { events.append(event) }
    func close() throws(TraceError) {}
    func take() -> [TraceEvent] {
        defer { events.removeAll(keepingCapacity: true) }
        return events
    }
}
