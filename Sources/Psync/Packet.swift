/// The packets Psync exchanges between hosts (Section 3, Figures 3-5).
///
/// Every packet names its conversation. Data packets (SC and AN) carry one message each; a copy
/// flagged `resent` is the exact duplicate produced by `resend(node)` (Section 3.2.2).
public enum Packet: Hashable, Sendable {
    /// Start conversation (Figure 3): the conversation's first message, which also carries the
    /// participant list. `participants[0]` is the sender; the message's id is `MessageID.root`.
    case startConversation(StartConversation)
    /// Add node (Figure 4): one message with its immediate predecessors.
    case addNode(AddNode)
    /// Retransmission request (Figure 5).
    case retransmitRequest(RetransmitRequest)
    /// Restart (Section 5.1). The wire format reserves it; the engine does not implement
    /// reintegration yet and drops it with `DropReason.unsupported`.
    case restart(Restart)

    public var conversation: ConversationID {
        switch self {
        case .startConversation(let p): p.conversation
        case .addNode(let p): p.conversation
        case .retransmitRequest(let p): p.conversation
        case .restart(let p): p.conversation
        }
    }

    /// The short name used in summaries and traces: SC, AN, RR, RS.
    public var typeName: String {
        switch self {
        case .startConversation: "SC"
        case .addNode: "AN"
        case .retransmitRequest: "RR"
        case .restart: "RS"
        }
    }
}

public struct StartConversation: Hashable, Sendable {
    public var conversation: ConversationID
    public var participants: [ParticipantID]
    public var payload: [UInt8]
    public var resent: Bool
    public init(conversation: ConversationID, participants: [ParticipantID], payload: [UInt8], resent: Bool = false) {
        self.conversation = conversation
        self.participants = participants
        self.payload = payload
        self.resent = resent
    }
}

public struct AddNode: Hashable, Sendable {
    public var conversation: ConversationID
    public var message: MessageID
    public var sender: ParticipantID
    public var predecessors: [MessageID]
    public var payload: [UInt8]
    public var resent: Bool
    public init(
        conversation: ConversationID, message: MessageID, sender: ParticipantID,
        predecessors: [MessageID], payload: [UInt8], resent: Bool = false
    ) {
        self.conversation = conversation
        self.message = message
        self.sender = sender
        self.predecessors = predecessors
        self.payload = payload
        self.resent = resent
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
