/// Errors of the conversation operations: a participant asked for something the conversation
/// cannot do. (Bad input from the network is never an error here: it is a traced `Drop`.)
public enum PsyncError: Error, Equatable, Sendable, CustomStringConvertible {
    case unknownConversation(ConversationID)
    case conversationExists(ConversationID)
    case notLocalParticipant(ParticipantID, ConversationID)
    case notOpen(ParticipantID, ConversationID)
    case invalidParticipants(String)
    case notInView(MessageID)

    public var description: String {
        switch self {
        case .unknownConversation(let c): "unknown conversation \(c)"
        case .conversationExists(let c): "conversation \(c) already exists on this host"
        case .notLocalParticipant(let p, let c): "\(p) is not a participant of \(c) on this host"
        case .notOpen(let p, let c): "\(p) has not opened \(c)"
        case .invalidParticipants(let why): "invalid participant set: \(why)"
        case .notInView(let m): "message \(m) is not in the participant's view"
        }
    }
}
