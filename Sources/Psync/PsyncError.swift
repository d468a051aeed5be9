/// Errors of the conversation operations: a participant asked for something the conversation
/// cannot do. (Bad input from the network is never an error here: it is a traced `Drop`.)
public enum PsyncError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownConversation(ConversationID)
    case conversationExists(ConversationID)
    case notLocalParticipant(ParticipantID, ConversationID)
    case notOpen(ParticipantID, ConversationID)
    case invalidParticipants(String)
    case notInView(MessageID)
    /// The message's graph node was reclaimed (`freeNode`, or older than the last Θ messages,
    /// Section 3.3): it was in the view, but the operation needs its node.
    case reclaimed(MessageID)
    /// The message is stable everywhere and its buffer was reclaimed (Section 3.3).
    case payloadReclaimed(MessageID)
    /// The send would block. Section 3.3 flow control: the conversation's buffer holds as many
    /// of this host's messages as it may until some are settled (held by every host not masked
    /// out). Or Section 5: the participant restarted and the image has not yet recovered all it
    /// had sent (a new send could take an old message's id). Wait for `HostEffect.sendable`
    /// (the UDP runtime's `Conversation.send` waits by itself) and send again.
    case wouldBlock(ConversationID)
    /// Section 5.2: a re-executing participant sent, in place of a message already in the
    /// graph, one with other predecessors or another payload: it is not deterministic, and its
    /// re-execution cannot continue.
    case reexecutionDiverged(MessageID)

    public var description: String {
        switch self {
        case .unknownConversation(let c): "unknown conversation \(c)"
        case .conversationExists(let c): "conversation \(c) already exists on this host"
        case .notLocalParticipant(let p, let c): "\(p) is not a participant of \(c) on this host"
        case .notOpen(let p, let c): "\(p) has not opened \(c)"
        case .invalidParticipants(let why): "invalid participant set: \(why)"
        case .notInView(let m): "message \(m) is not in the participant's view"
        case .reclaimed(let m): "message \(m)'s node was reclaimed (free_node or the threshold Θ, Section 3.3)"
        case .payloadReclaimed(let m): "message \(m) is stable everywhere and its buffer was reclaimed (Section 3.3)"
        case .wouldBlock(let c): "conversation \(c) is at its buffer limit: send would block until messages become stable (Section 3.3)"
        case .reexecutionDiverged(let m): "re-execution diverged at \(m): the participant sent something else the first time (Section 5.2)"
        }
    }
}
