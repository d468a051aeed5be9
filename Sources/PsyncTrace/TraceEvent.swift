import Psync

/// One record of a trace: what happened, when (`t`, nanoseconds of the clock the header names),
/// and on which host. `Traces/FORMAT.md` documents every kind and field.
public struct TraceEvent: Sendable, Equatable {
    public var time: UInt64
    public var host: HostID?
    public var kind: Kind

    public init(time: UInt64, host: HostID?, _ kind: Kind) {
        self.time = time
        self.host = host
        self.kind = kind
    }

    public enum Kind: Sendable, Equatable {
        /// The first record of every trace.
        case header(TraceHeader)
        /// A participant opened a conversation (actively: it created it; passively: its SC came).
        case open(ConversationID, ParticipantID, participants: [ParticipantID], active: Bool)
        /// A participant sent a message in the context of `predecessors` (its view's leaves).
        /// `content` says what the message carries when the recorder knows: `data` (application
        /// data), `ack` (an application's acknowledgement) or `control` (a filter's control
        /// message), so that costs per data message compare across policies.
        case send(ConversationID, ParticipantID, MessageID, predecessors: [MessageID], payloadBytes: Int, content: String?)
        /// A packet left this host for `peer`, or arrived here from `peer`.
        case packetOut(PacketRecord)
        case packetIn(PacketRecord)
        /// A message was attached to this host's image (Section 3.1.3).
        case arrive(ConversationID, MessageID, predecessors: [MessageID])
        /// A message waits in the holding queue for `missing`; later released into the image.
        case hold(ConversationID, MessageID, missing: [MessageID])
        case release(ConversationID, MessageID)
        /// A retransmission request was sent (Section 3.2.1), to its source or broadcast (3.2.3).
        case retransmitRequest(ConversationID, MessageID?, leaves: [MessageID], to: [HostID], broadcast: Bool)
        /// A frontier request (gap request or digest, `RecoveryPolicy.gaps`) was sent; `reason`
        /// is a `RequestReason` raw value.
        case frontierRequest(ConversationID, frontier: [MessageID], wanted: [MessageID], held: [MessageID], reply: Bool,
                             to: [HostID], reason: String)
        /// This host answered a request from `requester` with `messages`; `cut` if the batch
        /// limit cut the answer short.
        case retransmitAnswer(ConversationID, requester: HostID, messages: [MessageID], cut: Bool)
        /// Digests to these peers went unanswered; tail recovery paused.
        case digestsStopped(ConversationID, unanswered: [HostID])
        /// `resend(node)` (Section 3.2.2), and the successors a host resends on a resent copy.
        case resend(ConversationID, MessageID)
        case resendSuccessors(ConversationID, MessageID, successors: [MessageID], to: HostID)
        /// A message entered a participant's view (Section 2).
        case receive(ConversationID, ParticipantID, MessageID)
        /// A message was first observed stable in a participant's view.
        case stable(ConversationID, ParticipantID, MessageID)
        case maskOut(ConversationID, ParticipantID, target: ParticipantID)
        case maskIn(ConversationID, ParticipantID, target: ParticipantID)
        /// A packet or message was dropped (`reason` is a `DropReason` raw value, or a newer one).
        case drop(DropRecord)
        /// Simulator faults.
        case crash
        case partition(side: [HostID], healAt: UInt64)
        case heal(side: [HostID])
        /// The last record of a run's trace (of each process's, for a real run): how the run
        /// ended. A simulation says an `EndReason` raw value; a node says why it stopped ("done",
        /// "signal SIGTERM", ...). A trace without it was cut short (the process was killed, the
        /// disk filled): tools say they cannot tell what they did not read.
        case end(reason: String)
        /// A record of a kind this version does not know (filters add kinds): kept whole.
        case other(name: String, fields: [(String, JSONValue)])

        /// Two kinds are equal when they encode to the same JSON.
        public static func == (a: Kind, b: Kind) -> Bool {
            TraceEvent(time: 0, host: nil, a).jsonLine == TraceEvent(time: 0, host: nil, b).jsonLine
        }

        public var name: String {
            if case .other(let name, _) = self { return name }
            return staticName.description
        }

        /// The record's `kind` field for the kinds this version knows (`other` has its own).
        var staticName: StaticString {
            switch self {
            case .header: "header"
            case .open: "open"
            case .send: "send"
            case .packetOut: "packet_out"
            case .packetIn: "packet_in"
            case .arrive: "arrive"
            case .hold: "hold"
            case .release: "release"
            case .retransmitRequest: "rr_sent"
            case .frontierRequest: "fr_sent"
            case .retransmitAnswer: "rr_answered"
            case .digestsStopped: "digests_stopped"
            case .resend: "resend"
            case .resendSuccessors: "resend_successors"
            case .receive: "receive"
            case .stable: "stable"
            case .maskOut: "mask_out"
            case .maskIn: "mask_in"
            case .drop: "drop"
            case .crash: "crash"
            case .partition: "partition"
            case .heal: "heal"
            case .end: "end"
            case .other: "other"
            }
        }
    }
}

/// A packet as a trace sees it.
public struct PacketRecord: Sendable, Equatable {
    /// SC, AN, RR, FR or RS.
    public var type: String
    public var conversation: ConversationID
    /// The message a data packet carries, or the one an RR names.
    public var message: MessageID?
    /// The other end: destination of a `packet_out`, source of a `packet_in`.
    public var peer: HostID
    public var bytes: Int
    public var resent: Bool

    public init(type: String, conversation: ConversationID, message: MessageID?, peer: HostID, bytes: Int, resent: Bool) {
        self.type = type
        self.conversation = conversation
        self.message = message
        self.peer = peer
        self.bytes = bytes
        self.resent = resent
    }

    /// The record of `packet` (encoded as `bytes` bytes) exchanged with `peer`.
    public init(_ packet: Packet, peer: HostID, bytes: Int) {
        let message: MessageID?
        let resent: Bool
        switch packet {
        case .startConversation(let sc): (message, resent) = (.root, sc.resent)
        case .addNode(let an): (message, resent) = (an.message, an.resent)
        case .retransmitRequest(let rr): (message, resent) = (rr.message, false)
        case .frontierRequest: (message, resent) = (nil, false)
        case .restart: (message, resent) = (nil, false)
        }
        self.init(type: packet.typeName, conversation: packet.conversation, message: message, peer: peer, bytes: bytes, resent: resent)
    }
}

/// A drop as a trace sees it. `reason` is a string so that readers accept reasons added later.
public struct DropRecord: Sendable, Equatable {
    public var reason: String
    public var conversation: ConversationID?
    public var message: MessageID?
    public var from: HostID?
    public var to: HostID?
    public var detail: String

    public init(reason: String, conversation: ConversationID? = nil, message: MessageID? = nil,
                from: HostID? = nil, to: HostID? = nil, detail: String = "") {
        self.reason = reason
        self.conversation = conversation
        self.message = message
        self.from = from
        self.to = to
        self.detail = detail
    }

    public init(_ d: Drop) {
        self.init(reason: d.reason.rawValue, conversation: d.conversation, message: d.message, from: d.from, detail: d.detail)
    }
}

/// The first record of a trace: enough to know what ran and, for a simulation, to run it again.
public struct TraceHeader: Sendable, Equatable {
    public static let currentSchema = "psync-trace/1"

    public var schema: String
    public var toolkit: String
    /// "virtual" (simulator) or "monotonic" (real runs): what `t` counts.
    public var clock: String
    public var seed: UInt64?
    public var participants: [ParticipantID]
    public var conversation: ConversationID?
    /// Filter stacks in use, by name (none yet: filters are a later addition).
    public var filters: [String]
    /// The run's full configuration as JSON (for a simulation, its `SimulationConfig`).
    public var run: JSONValue

    public init(schema: String = TraceHeader.currentSchema, toolkit: String = toolkitVersion, clock: String,
                seed: UInt64?, participants: [ParticipantID], conversation: ConversationID?,
                filters: [String] = [], run: JSONValue = .null) {
        self.schema = schema
        self.toolkit = toolkit
        self.clock = clock
        self.seed = seed
        self.participants = participants
        self.conversation = conversation
        self.filters = filters
        self.run = run
    }
}

/// How a simulation ended (its `end` record's `reason`).
public enum EndReason: String, Sendable, CaseIterable {
    /// The run went on until no event was left: its images can be checked for convergence.
    case quiescent
    /// The run reached its time limit with events left.
    case timeLimit = "time-limit"
    /// The run was stopped on request (Ctrl-C, SIGTERM) between two events.
    case interrupted
    /// A model checker's path to a state that breaks a property (`psync explore --trace`): the
    /// whole of what it shows, but it ends where the property broke, not at quiescence.
    case counterexample
}

/// The toolkit's version, written into every trace header.
public let toolkitVersion = "0.1.0"
