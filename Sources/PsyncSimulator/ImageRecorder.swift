import Psync

/// Keeps, for the checkers, the messages a host collected (`StableStorage`, Section 3.3):
/// with the threshold Θ a host reclaims graph nodes, and the checkers still need its whole
/// image. Keeps ids and predecessors only (payloads are dropped), so it costs what the image
/// cost before reclamation; only runs that record history use it.
final class ImageRecorder: StableStorage {
    private(set) var messages: [MessageID: [MessageID]] = [:]

    func store(_ message: AddNode) { messages[message.message] = message.predecessors }
}
