/// The packets Psync exchanges between hosts (Section 3, Figures 3-5).
///
/// Every packet names its conversation. Data packets (SC and AN) carry one message each; a copy
/// flagged `resent` is the exact duplicate produced by `resend(node)` (Section 3.2.2), and one
/// flagged `answerCut` is the last message of a retransmission answer that the batch limit cut
/// short (its receiver asks again at once).
public enum Packet: Hashable, Sendable {
    /// Start conversation (Figure 3): the conversation's first message, which also carries the
    /// participant list. `participants[0]` is the sender; the message's id is `MessageID.root`.
    case startConversation(StartConversation)
    /// Add node (Figure 4): one message with its immediate predecessors.
    case addNode(AddNode)
    /// Retransmission request (Figure 5), as the paper states it: the requester's leaves and the
    /// held message. Sent under `RecoveryPolicy.paper`.
    case retransmitRequest(RetransmitRequest)
    /// Frontier request: Figure 5's request made exact (the requester's whole frontier and the
    /// messages it misses), or, naming no message, a digest for tail recovery. Sent under
    /// `RecoveryPolicy.gaps`, the default.
    case frontierRequest(FrontierRequest)
    /// Restart (Section 5.1, Figure 10): a participant restarted; the receiving host tells its
    /// participants and sends its image's leaves. `leaves` are the restarted view's (empty for
    /// re-execution), for information.
    case restart(Restart)

    public var conversation: ConversationID {
        switch self {
        case .startConversation(let p): p.conversation
        case .addNode(let p): p.conversation
        case .retransmitRequest(let p): p.conversation
        case .frontierRequest(let p): p.conversation
        case .restart(let p): p.conversation
        }
    }

    /// The short name used in summaries and traces: SC, AN, RR, FR, RS.
    public var typeName: String {
        switch self {
        case .startConversation: "SC"
        case .addNode: "AN"
        case .retransmitRequest: "RR"
        case .frontierRequest: "FR"
        case .restart: "RS"
        }
    }
}

public struct StartConversation: Hashable, Sendable {
    public var conversation: ConversationID
    public var participants: [ParticipantID]
    public var payload: [UInt8]
    public var resent: Bool
    public var answerCut: Bool
    public init(conversation: ConversationID, participants: [ParticipantID], payload: [UInt8], resent: Bool = false,
                answerCut: Bool = false) {
        self.conversation = conversation
        self.participants = participants
        self.payload = payload
        self.resent = resent
        self.answerCut = answerCut
    }
}

public struct AddNode: Hashable, Sendable {
    public var conversation: ConversationID
    public var message: MessageID
    public var sender: ParticipantID
    public var predecessors: [MessageID]
    public var payload: [UInt8]
    public var resent: Bool
    /// The last message of a retransmission answer cut at `HostConfig.retransmitBatchLimit`.
    public var answerCut: Bool
    public init(
        conversation: ConversationID, message: MessageID, sender: ParticipantID,
        predecessors: [MessageID], payload: [UInt8], resent: Bool = false, answerCut: Bool = false
    ) {
        self.conversation = conversation
        self.message = message
        self.sender = sender
        self.predecessors = predecessors
        self.payload = payload
        self.resent = resent
        self.answerCut = answerCut
    }
}

/// "The set of leaf_mid's identify the current leaves of the local image and mid identifies the
/// message whose predecessors are missing" (Section 3.2.1). With no `message`, the answer is
/// every message in the context of the leaves; with no leaves, everything from the root.
public struct RetransmitRequest: Hashable, Sendable {
    public var conversation: ConversationID
    public var message: MessageID?
    public var leaves: [MessageID]
    public init(conversation: ConversationID, message: MessageID?, leaves: [MessageID]) {
        self.conversation = conversation
        self.message = message
        self.leaves = leaves
    }
}

/// A retransmission request that states exactly what the requester has, so that the answer is
/// exactly what it lacks (the default `RecoveryPolicy.gaps`).
///
/// Figure 5's request describes the requester by the leaves of its image. Under steady sending
/// a host's only leaf is usually its own newest message, which is still in flight to (or lost
/// on the way to) the host asked: that host cannot place it, and answers with messages the
/// requester already has. A frontier names, for every sender, the newest message the requester
/// holds (at most one entry per participant, Figure 5's bound), which any host can place
/// without having it: the requester's image is exactly the messages at or below the frontier,
/// since each sender's messages form a chain (Section 2).
///
/// - With `wanted` messages (a *gap request*), the answer is every message in the down-closure
///   of the wanted messages the responder holds that lies beyond the frontier and is not one of
///   the requester's `held` messages, oldest first, cut at the batch limit. A host that holds none of them stays silent, so a broadcast
///   request is answered only by the hosts that can help.
/// - With no wanted message (a *digest*, the paper's "RR without a mid" of Section 3.2.1), the
///   answer is everything the responder holds beyond the frontier; a responder that is itself
///   behind asks back with a gap request, and otherwise replies with its own digest marked
///   `isReply`, which is answered only with messages, never with another digest. Digests are
///   the tail recovery (anti-entropy) that the last-ACK problem (Section 3.2.2) needs, and the
///   frontiers they carry are what each host knows of the others' images.
public struct FrontierRequest: Hashable, Sendable {
    public var conversation: ConversationID
    /// The requester's newest message from each sender it holds any message of.
    public var frontier: [MessageID]
    /// The messages the requester misses; empty for a digest.
    public var wanted: [MessageID]
    /// Messages beyond the frontier that the requester has in its holding queue (the rest of
    /// what it has): an answer leaves them out. At most `WireCodec.Limits.maxParticipants`.
    public var held: [MessageID]
    /// A digest sent in answer to a digest.
    public var isReply: Bool
    public init(conversation: ConversationID, frontier: [MessageID], wanted: [MessageID], held: [MessageID] = [],
                isReply: Bool = false) {
        self.conversation = conversation
        self.frontier = frontier
        self.wanted = wanted
        self.held = held
        self.isReply = isReply
    }

    public var isDigest: Bool { wanted.isEmpty }
}

/// The arguments of `restart(cid, pid, participant_set, leaf_mid_set)` (Section 5.1).
public struct Restart: Hashable, Sendable {
    public var conversation: ConversationID
    public var participant: ParticipantID
    public var leaves: [MessageID]
    public init(conversation: ConversationID, participant: ParticipantID, leaves: [MessageID]) {
        self.conversation = conversation
        self.participant = participant
        self.leaves = leaves
    }
}
