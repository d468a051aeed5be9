/// What one host knows of the other hosts' images under `RecoveryPolicy.gaps`, and the state
/// of its tail recovery (digests).
///
/// Knowledge is a lower bound of each peer's frontier: for every other host and every sender,
/// how many of that sender's messages the host is known to hold. It grows from two sources,
/// both exact because each sender's messages form a chain and images are down-closed
/// (Section 2): a message sent by a participant on the peer (its vector clock is what the peer
/// held when it sent it), and the frontier a peer states in a request or digest. These are
/// the stability digests that memory reclamation (Section 3.3) also needs.
struct PeerKnowledge {
    /// `known[k][s]`: `otherHosts[k]` holds sender s's messages 1...known[k][s].
    var known: [[UInt32]]
    /// For each participant, the index of its host in `otherHosts`, or -1 for a local one.
    let hostSlot: [Int]
    /// The deadline of the armed digest timer, if one is armed.
    var armed: Instant?
    /// The last time the image grew (a send or an arrival): digests wait for quiet.
    var lastActivity = Instant.zero
    /// Per other host: digests sent to it since it was last heard from (any packet). A peer
    /// that stays silent for `digestAttempts` digests is suspected and gets no more until it
    /// speaks; a peer that answers, even if its answers keep getting lost, is not.
    var silentRounds: [Int]

    init(participants: [ParticipantID], otherHosts: [HostID]) {
        known = Array(repeating: Array(repeating: 0, count: participants.count), count: otherHosts.count)
        hostSlot = participants.map { p in otherHosts.firstIndex(of: p.host) ?? -1 }
        silentRounds = Array(repeating: 0, count: otherHosts.count)
    }

    mutating func heardFrom(_ k: Int) { silentRounds[k] = 0 }

    /// Raises what `otherHosts[k]` is known to hold to at least `vector`. O(participants).
    mutating func learn(_ vector: [UInt32], slot k: Int) {
        for s in vector.indices where vector[s] > known[k][s] { known[k][s] = vector[s] }
    }

    /// Whether `otherHosts[k]` is known to hold everything in `frontier`. O(participants).
    func covers(_ k: Int, _ frontier: [UInt32]) -> Bool {
        for s in frontier.indices where frontier[s] > known[k][s] { return false }
        return true
    }

}
