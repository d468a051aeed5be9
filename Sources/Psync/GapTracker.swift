/// The gaps of one image under `RecoveryPolicy.gaps`: messages that some held message waits
/// for and that are neither in the image nor held themselves (Section 3.1.3), or that a peer's
/// digest showed it holds, each with the state of its requests. Held messages that wait on the
/// same missing message share its gap, so they share its requests; one timer per image serves
/// every gap.
struct GapTracker {
    struct Gap {
        /// The host the first held message waiting on this gap came from. It holds the gap's
        /// message: it sent or received something in its context (Section 3.2.1).
        var source: HostID
        /// Requests sent for this gap since it opened, or since its last answer was cut.
        var requests = 0
        /// When the next request is due.
        var deadline: Instant
        /// Opened by a digest (tail recovery) rather than by a held message: nothing waits on
        /// it, and nothing is discarded when its requests run out.
        var revealed = false
    }

    private var gaps: [MessageID: Gap] = [:]
    /// The deadline of the armed recovery timer, if one is armed.
    var armed: Instant?

    var isEmpty: Bool { gaps.isEmpty }

    subscript(mid: MessageID) -> Gap? {
        get { gaps[mid] }
        set { gaps[mid] = newValue }
    }

    /// Opens a gap for `mid` unless one is open.
    mutating func open(_ mid: MessageID, source: HostID, deadline: Instant, revealed: Bool = false, requests: Int = 0) {
        if gaps[mid] == nil { gaps[mid] = Gap(source: source, requests: requests, deadline: deadline, revealed: revealed) }
    }

    mutating func close(_ mid: MessageID) { gaps[mid] = nil }

    /// The gaps whose request is due by `time`, in id order (dictionary order differs between
    /// processes, and runs must be reproducible).
    func due(by time: Instant) -> [MessageID] {
        gaps.filter { $0.value.deadline <= time }.keys.sorted()
    }

    /// Every open gap, in id order.
    var all: [MessageID] { gaps.keys.sorted() }

    /// The earliest deadline of an open gap. O(gaps).
    var nextDeadline: Instant? { gaps.values.lazy.map(\.deadline).min() }
}
