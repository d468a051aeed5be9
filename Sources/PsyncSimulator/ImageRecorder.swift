import Psync

/// Keeps the messages a host collected (`StableStorage`, Section 3.3): for the checkers, whose
/// image a host under the threshold Θ partly reclaims (ids and predecessors), and, in a run
/// with restarts (Section 5), the whole messages in order: the simulated non-volatile log,
/// which survives the host's crash, which a restarted host reads first (`:log`), and from which
/// every host serves the messages whose buffers it freed to a host that lost them.
final class ImageRecorder: StableStorage {
    private(set) var messages: [MessageID: [MessageID]] = [:]
    private(set) var log: [AddNode] = []
    /// Position in `log` of each message's first record.
    private var logged: [MessageID: Int] = [:]
    let keepsLog: Bool

    init(keepsLog: Bool) { self.keepsLog = keepsLog }

    func store(_ message: AddNode) {
        messages[message.message] = message.predecessors
        guard keepsLog else { return }
        if logged[message.message] == nil { logged[message.message] = log.count }
        log.append(message)
    }

    func stored(_ message: MessageID, in conversation: ConversationID) -> AddNode? {
        guard let i = logged[message], log[i].conversation == conversation else { return nil }
        return log[i]
    }
}
