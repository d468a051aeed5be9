import Psync
import PsyncTrace

/// A stack of ordering filters over one participant's view, like a protocol stack: the lowest
/// filter takes the view's receive order, each filter delivers to the one above, the top one to
/// the application (Section 4). The application sends through the top filter.
///
/// The shell (simulator, UDP runtime, replay) calls `drain` when the host reports messages
/// available, `send` for the application, and `fireTimers` at `nextTimerDeadline`; it carries
/// out the host effects the stack leaves with `takeHostEffects`.
public final class FilterStack {
    public let filters: [OrderingFilter]
    public let context: FilterContext
    public let trace: TraceSink?
    /// Called for every delivery of every filter: (filter position in the stack, message,
    /// delivery position of that filter starting at 1).
    public var onDeliver: ((Int, FilterMessage, Int) -> Void)?
    /// Called for every message entering the view (received, or sent by this participant).
    public var onViewGrew: ((FilterMessage) -> Void)?
    /// Called for each message a re-executing participant sent again and the engine
    /// suppressed as already in the graph (Section 5.2; `replayOwnMessages`).
    public var onResendSuppressed: ((MessageID) -> Void)?
    /// Set by a shell that traces: the engine events the stack's operations produce are handed
    /// here as they happen (and not left among `takeHostEffects`), so that the trace has them
    /// before the filters' own records: a send before the delivery a filter makes inside it.
    public var recordEngineEvent: ((EngineEvent) -> Void)?

    private var positions: [Int]
    private var applicationDeliveries: [FilterMessage] = []
    private var arrived: [FilterMessage] = []
    /// Sends refused because the participant was muted (by membership, or by offline replay).
    public private(set) var blockedSends = 0
    /// Whether this participant sent anything since its last receive.
    private var sentSinceReceive = false
    private var hostEffects: [HostEffect] = []
    private var timers: [(deadline: Instant, filter: Int, token: Int)] = []
    private var pumping = false
    /// Contents blocked by flow control, or waiting for their turn in a re-execution, in send
    /// order (`sendToPsync`).
    private var flowBlocked: [FilterMessage.Content] = []
    /// A participant resumed from a checkpoint (`resume`): its own messages up to this one are
    /// sent again from the image, its application's included, and the top filter's deliveries
    /// up to `deliveredAtCheckpoint` do not reach the application, whose state has them.
    private var replayedThrough: UInt32 = 0
    private var deliveredAtCheckpoint = 0
    /// The filters' control messages not sent while re-executing (each once): sent once the
    /// participant is past its old messages (`replayOwnMessages`). Some may have been answered
    /// by old messages replayed since, but which cannot be told in general (an old message
    /// replayed late follows less than was received meanwhile): an extra ACK costs a packet, a
    /// missing one a stalled wave.
    private var deferredControl: [FilterMessage.Content] = []
    /// Set when a re-executing participant (Section 5.2) sent something else than its first
    /// execution did: the application is not deterministic, and the stack sends nothing more.
    public private(set) var reexecutionDivergedAt: MessageID?

    /// Why `filters` (bottom first) cannot run as one stack in a conversation of `participants`,
    /// or nil: a filter named twice, or a filter's own `problem(below:participants:)`. Shells
    /// ask before a run (`psync simulate`, `node`, `trace replay`), so a stack that cannot keep
    /// its promises is refused with the reason rather than failing its checks.
    public static func problem(of filters: [OrderingFilter], participants: Int) -> String? {
        var names: Set<String> = []
        for (i, f) in filters.enumerated() {
            guard names.insert(f.name).inserted else { return "\(f.name) appears twice in the stack" }
            if let why = f.problem(below: Array(filters[..<i]), participants: participants) { return why }
        }
        return nil
    }

    /// Opens the stack on an open conversation of `participant` on `host`. `filters` is bottom first.
    public init(_ filters: [OrderingFilter], host: Host, conversation: ConversationID, participant: ParticipantID,
                now: Instant, trace: TraceSink? = nil) throws(PsyncError) {
        precondition(!filters.isEmpty, "a filter stack needs at least one filter")
        precondition(Set(filters.map(\.name)).count == filters.count, "a filter appears twice in one stack")
        self.filters = filters
        self.trace = trace
        positions = Array(repeating: 0, count: filters.count)
        context = try FilterContext(host: host, conversation: conversation, participant: participant, now: now)
        context.stack = self
    }

    /// Section 5.1 under filters, from an application checkpoint: the filters' state is not in
    /// it, so they run again over the image from the root (the participant restarted as for a
    /// re-execution); the messages it sent up to its `ownThrough`th, before the checkpoint, are
    /// sent again from the image (suppressed), and the top filter's first `delivered`
    /// deliveries are not handed to the application. Call before `start`.
    public func resume(ownThrough: UInt32, delivered: Int) {
        replayedThrough = ownThrough
        deliveredAtCheckpoint = delivered
    }

    /// How many messages the top filter delivered, for a checkpoint (`resume`).
    public var topDeliveries: Int { positions[filters.count - 1] }

    /// Starts the filters (bottom first) and takes in what the view already holds.
    public func start(now: Instant, respond: ([FilterMessage]) -> Void = { _ in }) {
        context.now = now
        for f in filters { f.start(context) }
        drain(now: now, respond: respond)
    }

    /// Receives every outstanding message from Psync, runs the filters, and hands what the top
    /// filter delivered to `respond`, where the application may send in reply. Then the batch
    /// ends (Figure 8's loop): filters learn whether anything was sent after these receives.
    public func drain(now: Instant, respond: ([FilterMessage]) -> Void = { _ in }) {
        context.now = now
        var received: [FilterMessage] = []
        while let (mid, payload) = try? context.host.receive(context.conversation, as: context.participant) {
            let m = FilterMessage(id: mid, sender: context.sender(mid), content: FilterMessage.unframe(payload))
            arrived.append(m)
            received.append(m)
        }
        if !received.isEmpty { sentSinceReceive = false }
        drainHostEffects()
        pump()
        respond(takeApplicationDeliveries())
        guard !received.isEmpty else { return }
        for f in filters { f.batchEnded(received: received, sentSomething: sentSinceReceive, context) }
        pump()
    }

    /// The application sends `payload` through the top filter. False if a filter refused it.
    @discardableResult
    public func send(_ payload: [UInt8], now: Instant) -> Bool {
        context.now = now
        let accepted = filters.last!.send(payload, context)
        pump()
        return accepted
    }

    /// Runs `body` (an application's call into one of its filters: a handshake's terminate, a
    /// membership proposal), then lets the filters act on what it did.
    public func perform(now: Instant, _ body: (FilterContext) -> Void) {
        context.now = now
        body(context)
        drainHostEffects()
        pump()
    }

    /// Section 5.1: the host said `participant` restarted; every filter is told (bottom first),
    /// then acts on it.
    public func participantRestarted(_ participant: ParticipantID, now: Instant) {
        context.now = now
        for f in filters { f.participantRestarted(participant, context) }
        drainHostEffects()
        pump()
    }

    /// Sends exactly `content`, bypassing the filters and the mute: offline replay uses it to
    /// make a participant send what the recorded participant sent. Returns the new message.
    public func replaySend(_ content: FilterMessage.Content, now: Instant) -> MessageID? {
        context.now = now
        let muted = context.muted
        context.muted = false
        defer { context.muted = muted }
        let mid = sendToPsync(content)
        pump()
        return mid
    }

    /// Fires the timers that are due; returns what reached the application.
    public func fireTimers(now: Instant) -> [FilterMessage] {
        context.now = now
        while let i = timers.indices.filter({ timers[$0].deadline <= now }).min(by: { timers[$0].deadline < timers[$1].deadline }) {
            let t = timers.remove(at: i)
            filters[t.filter].timerFired(t.token, context)
            pump()
        }
        return takeApplicationDeliveries()
    }

    public var nextTimerDeadline: Instant? { timers.map(\.deadline).min() }

    /// Host effects produced by the stack's sends and receives (packets to transmit, timers).
    public func takeHostEffects() -> [HostEffect] {
        drainHostEffects()
        defer { hostEffects.removeAll() }
        return hostEffects
    }

    public func takeApplicationDeliveries() -> [FilterMessage] {
        defer { applicationDeliveries.removeAll() }
        return applicationDeliveries
    }

    // MARK: Routing (called through FilterContext)

    func deliver(_ m: FilterMessage, from filter: OrderingFilter) {
        let i = index(of: filter)
        positions[i] += 1
        onDeliver?(i, m, positions[i])
        record("deliver", filter: filter.name, [("mid", .string(m.id.description)), ("position", .uint(UInt64(positions[i]))),
                                                ("application", .bool(m.isApplication))])
        if i + 1 < filters.count {
            if !isConsumedBelow(m, filters[i + 1]) { filters[i + 1].input(m, context) }
        } else if m.isApplication && positions[i] > deliveredAtCheckpoint {
            applicationDeliveries.append(m)
        }
    }

    func send(_ payload: [UInt8], below filter: OrderingFilter) -> Bool {
        let i = index(of: filter)
        if i > 0 { return filters[i - 1].send(payload, context) }
        return sendToPsync(.application(payload)) != nil
    }

    /// Sends `content` to Psync. A send that Section 3.3's flow control blocks (`wouldBlock`)
    /// is queued, with every later one, and goes out in order from `resumeBlockedSends`: nil
    /// then, as for a refused send. While the participant re-executes, the filters' own control
    /// messages are not sent (their old ones are replayed, `replayOwnMessages`) and the
    /// application's wait for their turn.
    func sendToPsync(_ content: FilterMessage.Content) -> MessageID? {
        guard !context.muted, reexecutionDivergedAt == nil else {
            blockedSends += 1
            return nil
        }
        if isReexecuting {
            if case .application = content {
                flowBlocked.append(content)
            } else if !deferredControl.contains(content) {
                deferredControl.append(content)
            }
            replayOwnMessages()
            return nil
        }
        guard flowBlocked.isEmpty else {
            flowBlocked.append(content)
            return nil
        }
        do {
            return try transmit(content)
        } catch .wouldBlock {
            flowBlocked.append(content)
        } catch {}
        drainHostEffects()
        return nil
    }

    /// Whether sends wait for buffer space (Section 3.3).
    public var hasBlockedSends: Bool { !flowBlocked.isEmpty }

    /// The host said `.sendable`: sends what flow control held back, in order, until it blocks
    /// again; then lets the filters act on it.
    public func resumeBlockedSends(now: Instant) {
        context.now = now
        sendBlocked()
        drainHostEffects()
        pump()
    }

    private func sendBlocked() {
        guard !isReexecuting else { return replayOwnMessages() }
        while let content = flowBlocked.first {
            do throws(PsyncError) {
                _ = try transmit(content)
            } catch .wouldBlock {
                break
            } catch {
                // The conversation cannot take it at all (closed, say): it is refused, not held.
            }
            flowBlocked.removeFirst()
        }
    }

    /// Whether the participant re-executes (Section 5.2): its own next message is in the image.
    private var isReexecuting: Bool {
        (try? context.host.reexecutionStep(context.conversation, as: context.participant)) != nil
    }

    /// Section 5.2 under filters: a re-executed participant must send exactly what it sent the
    /// first time, with the same ids. Its application does, being deterministic over what the
    /// filters deliver; its filters' control messages (Figure 8's ACKs above all) answer batches
    /// of receives, and a re-execution, finding much of the graph already there, batches
    /// differently. So while it re-executes, its filters' control messages are not sent: the
    /// ones its first execution sent are sent again from the image, each as soon as its context
    /// is in the view (the engine suppresses them as duplicates, and the filters see them enter
    /// the view as they did then). The application's sends wait in order for their turn: after
    /// the control messages that preceded them, and until their context is in the view. Once
    /// past its old messages (and its host caught up: until then a send may `wouldBlock` and
    /// wait), the participant sends as usual, starting with the control messages its filters
    /// asked for meanwhile. O(in-degree) per message.
    private func replayOwnMessages() {
        // Control messages queued while the image did not show an old message yet (a restarted
        // host catching up, `wouldBlock`) are the filters' answers of this execution: they wait
        // with the others until the participant is past its old messages.
        if isReexecuting {
            for content in flowBlocked where !content.isApplication && !deferredControl.contains(content) {
                deferredControl.append(content)
            }
            flowBlocked.removeAll { !$0.isApplication }
        }
        while reexecutionDivergedAt == nil,
              let step = try? context.host.reexecutionStep(context.conversation, as: context.participant),
              step.contextInView {
            let old = step.payload.map(FilterMessage.unframe)
            let content: FilterMessage.Content
            if case .control = old {
                content = old!
            } else if step.message.sequence <= replayedThrough, let old {
                content = old
            } else if let first = flowBlocked.first, case .application = first {
                content = flowBlocked.removeFirst()
            } else {
                return
            }
            // An old message follows what the first execution had received, not what this
            // one just did: it does not stand for an answer to those (Figure 8's ACK rule).
            let answered = sentSinceReceive
            defer { sentSinceReceive = answered }
            do {
                onResendSuppressed?(try transmit(content))
            } catch .reexecutionDiverged(let m) {
                reexecutionDivergedAt = m
                flowBlocked.removeAll()
            } catch {
                return
            }
        }
        guard !isReexecuting else { return }
        // What the filters asked to send while re-executing (an ACK of what arrived meanwhile:
        // Figure 8's rule) goes now, or the conversation could wait for it for ever.
        flowBlocked.insert(contentsOf: deferredControl, at: 0)
        deferredControl.removeAll()
        if !flowBlocked.isEmpty { sendBlocked() }
    }

    private func transmit(_ content: FilterMessage.Content) throws(PsyncError) -> MessageID {
        let mid = try context.host.send(FilterMessage.frame(content), in: context.conversation,
                                        as: context.participant, now: context.now)
        drainHostEffects()
        sentSinceReceive = true
        context.lastSent = mid
        if case .control(let filter, let body) = content {
            // What a control message says, so that offline replay can tell it from data.
            record("control", filter: filter, [("mid", .string(mid.description)), ("body", .array(body.map { .uint(UInt64($0)) }))])
        }
        arrived.append(FilterMessage(id: mid, sender: context.participant, content: content))
        return mid
    }

    func isConsumedBelow(_ m: FilterMessage, _ filter: OrderingFilter) -> Bool {
        guard case .control(let name, _) = m.content else { return false }
        let i = index(of: filter)
        return filters[..<i].contains { $0.name == name }
    }

    func setTimer(_ deadline: Instant, token: Int, for filter: OrderingFilter) {
        timers.append((deadline, index(of: filter), token))
    }

    func record(_ kind: String, filter: String, _ fields: @autoclosure () -> [(String, JSONValue)]) {
        guard let trace else { return }
        let base: [(String, JSONValue)] = [("cid", .uint(context.conversation.rawValue)), ("p", .string(context.participant.description)),
                                           ("filter", .string(filter))]
        trace.record(TraceEvent(time: context.now.nanoseconds, host: context.participant.host, .other(name: kind, fields: base + fields())))
    }

    func drainHostEffects() {
        let start = hostEffects.count
        context.host.drainEffects(into: &hostEffects)
        guard let recordEngineEvent, hostEffects.count > start else { return }
        var kept = start
        for i in start..<hostEffects.count {
            if case .event(let e) = hostEffects[i] {
                recordEngineEvent(e)
            } else {
                hostEffects[kept] = hostEffects[i]
                kept += 1
            }
        }
        hostEffects.removeSubrange(kept...)
    }

    /// Feeds messages that entered the view to every filter, then lets the filters deliver,
    /// bottom up, until nothing moves. Re-entrant calls (a filter sending while being fed) only
    /// queue work for the loop already running.
    private func pump() {
        guard !pumping else { return }
        pumping = true
        defer { pumping = false }
        var moved = true
        while moved {
            moved = false
            while !arrived.isEmpty {
                let m = arrived.removeFirst()
                moved = true
                onViewGrew?(m)
                for f in filters { f.viewGrew(m, context) }
                if !isConsumedBelow(m, filters[0]) { filters[0].input(m, context) }
            }
            let before = positions
            for f in filters { f.update(context) }
            replayOwnMessages()
            if positions != before || !arrived.isEmpty { moved = true }
        }
        retainQueriedHistory()
    }

    /// Tells the host which nodes the filters may still query (Section 3.3's Θ reclaims only
    /// below what every filter released). Only under a threshold: otherwise nothing is reclaimed
    /// by age and the call would cost for nothing.
    private func retainQueriedHistory() {
        guard context.host.config.retainedNodes != nil else { return }
        var released = context.viewFrontier
        for f in filters {
            let r = f.releasedHistory(context)
            for s in released.indices { released[s] = min(released[s], s < r.count ? r[s] : 0) }
        }
        try? context.host.retainHistory(beyond: released, in: context.conversation, as: context.participant)
    }

    private func index(of filter: OrderingFilter) -> Int {
        filters.firstIndex { $0 === filter }!
    }
}
