import Psync

/// Keeps the messages a host collected (`StableStorage`, Section 3.3): for the checkers, whose
/// image a host under the threshold Θ partly reclaims (ids and predecessors), and, for a host
/// that restarts with its log (Section 5), the whole messages in order: the simulated
/// non-volatile log, which survives the host's crash.
final class ImageRecorder: StableStorage {
    private(set) var messages: [MessageID: [MessageID]] = [:]
    private(set) var log: [AddNode] = []
    let keepsLog: Bool

    init(keepsLog: Bool) { self.keepsLog = keepsLog }

    func store(_ message: AddNode) {
        messages[message.message] = message.predecessors
        if keepsLog { log.append(message) }
    }
}
