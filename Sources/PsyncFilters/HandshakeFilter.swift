import Psync
import PsyncTrace

/// Beginning and ending a conversation with three-way handshakes: the "initialize and terminate
/// routines" that Section 3.4 lists among the library routines built on top of Psync rather
/// than in it. Each step is a control message, so the context graph itself records who knew
/// what when each step was taken.
///
/// Initialize: the opener (position 0) sends INIT; every other participant answers READY once
/// INIT is in its view; once READY from every agreed participant is in the opener's view, every
/// one of them has joined, and the opener sends START. A participant is started when START is in
/// its view. Application sends made before that are held, in order, and passed down then; so
/// every application message follows START in the graph, and nobody sends into a conversation
/// that some participant has not joined yet.
///
/// Terminate: the application calls `terminate`, which sends TERM. A participant with a TERM in
/// its view passes no more application sends down (they are refused; held ones are dropped) and
/// answers TERM-ACK, once. The terminator sends DONE once a TERM or TERM-ACK of every other
/// agreed participant is in its view (two participants terminating at once accept each other's
/// TERM as the answer). DONE thus follows every participant's TERM or TERM-ACK, and each of those
/// follows every application message its sender ever sent: DONE follows every application
/// message of the conversation. A participant is `terminated` when DONE comes up from the layer
/// below: everything before it (every application message) has come up, and been delivered,
/// first. At the bottom of a stack that is the moment DONE enters the view. The argument
/// assumes the filters below pass sends straight to Psync, as the causal, waves and commutative
/// filters do.
///
/// Received messages pass through in input order, like `CausalFilter`. Waiting for READY and
/// TERM-ACK is over `context.agreed`, so a membership filter can drop a failed participant
/// (Section 3.2.4).
public final class HandshakeFilter: OrderingFilter {
    public let name = "handshake"
    public let guarantees: Set<FilterGuarantee> = [.causal]
    /// START is in the view: application sends pass down.
    public private(set) var started = false
    /// DONE came up from the layer below: the conversation is over and fully delivered.
    public private(set) var terminated = false
    /// Held application sends dropped because a TERM came before START.
    public private(set) var droppedSends = 0

    /// The handshake steps; the raw value is the control message's body and the trace name.
    private enum Step: String {
        case initialize = "INIT", ready = "READY", start = "START"
        case term = "TERM", termAck = "TERM-ACK", done = "DONE"
    }

    private var sent: Set<Step> = []
    private var initSeen = false
    private var readyFrom: Set<ParticipantIndex> = []
    /// A TERM is in the view: no more application sends.
    private var closing = false
    /// Participants whose TERM or TERM-ACK is in the view.
    private var closedBy: Set<ParticipantIndex> = []
    private var held: [[UInt8]] = []
    private var inputs: [FilterMessage] = []

    public init() {}

    public func start(_ context: FilterContext) {
        if context.me == 0 { sendStep(.initialize, context) }
    }

    /// Ends the conversation (the terminate routine of Section 3.4): sends TERM, once. Does
    /// nothing if a TERM is already in the view. Call it through `FilterStack.perform`, which
    /// then lets the filters take the TERM in.
    public func terminate(_ context: FilterContext) {
        guard !closing else { return }
        // Our TERM is in the view from the moment it is sent: close at once.
        closing = true
        sendStep(.term, context)
    }

    public func send(_ payload: [UInt8], _ context: FilterContext) -> Bool {
        if closing { return false }
        guard started else {
            held.append(payload)
            return true
        }
        return context.send(payload, from: self)
    }

    public func viewGrew(_ message: FilterMessage, _ context: FilterContext) {
        guard let step = step(of: message) else { return }
        let from = message.id.senderIndex
        switch step {
        case .initialize: initSeen = true
        case .ready: readyFrom.insert(from)
        case .start:
            started = true
            context.record("handshake", from: self, [("step", .string("started"))])
        case .term:
            closing = true
            closedBy.insert(from)
        case .termAck: closedBy.insert(from)
        case .done: break  // acted on when input, after what precedes it
        }
    }

    public func input(_ message: FilterMessage, _ context: FilterContext) { inputs.append(message) }

    /// Section 3.3: asks only about stability, which needs no node, so Θ may reclaim anything.
    public func releasedHistory(_ context: FilterContext) -> [UInt32] { context.viewFrontier }

    public func update(_ context: FilterContext) {
        takeSteps(context)
        for m in inputs {
            if !m.isControl(of: name) {
                context.deliver(m, from: self)
            } else if step(of: m) == .done && !terminated {
                terminated = true
                context.record("handshake", from: self, [("step", .string("terminated"))])
            }
        }
        inputs.removeAll()
    }

    /// Takes whichever handshake steps the view now calls for, each at most once, then drops
    /// (after a TERM) or passes down (after START) the held sends.
    private func takeSteps(_ context: FilterContext) {
        if initSeen && context.me != 0 && !sent.contains(.ready) { sendStep(.ready, context) }
        if context.me == 0 && initSeen && !sent.contains(.start) && everyoneElse(in: readyFrom, context) {
            sendStep(.start, context)
        }
        if closing && !sent.contains(.term) && !sent.contains(.termAck) { sendStep(.termAck, context) }
        if sent.contains(.term) && !sent.contains(.done) && everyoneElse(in: closedBy, context) { sendStep(.done, context) }
        guard !held.isEmpty else { return }
        if closing {
            droppedSends += held.count
            context.record("handshake", from: self, [("step", .string("dropped")), ("count", .uint(UInt64(held.count)))])
            held.removeAll()
        } else if started {
            for payload in held { context.send(payload, from: self) }
            held.removeAll()
        }
    }

    /// Whether every agreed participant other than this one is in `set`.
    private func everyoneElse(in set: Set<ParticipantIndex>, _ context: FilterContext) -> Bool {
        context.agreed.indices.allSatisfy { q in q == context.me || !context.agreed[q] || set.contains(q) }
    }

    private func sendStep(_ step: Step, _ context: FilterContext) {
        sent.insert(step)
        let mid = context.sendControl(Array(step.rawValue.utf8), from: self)
        context.record("handshake", from: self, [("step", .string(step.rawValue)), ("mid", .string(mid?.description ?? "-"))])
    }

    private func step(of message: FilterMessage) -> Step? {
        guard case .control(let filter, let body) = message.content, filter == name else { return nil }
        return Step(rawValue: String(decoding: body, as: UTF8.self))
    }
}
