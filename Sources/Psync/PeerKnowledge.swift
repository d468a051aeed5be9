/// What one host knows of the other hosts' images under `RecoveryPolicy.gaps`, and the state
/// of its tail recovery (digests).
///
/// Knowledge is a lower bound of each peer's frontier: for every other host and every sender,
/// how many of that sender's messages the host is known to hold. It has two sources, both exact
/// because each sender's messages form a chain and images are down-closed (Section 2): the
/// frontier a peer states in a request or digest (kept here, `stated`), and the messages its
/// participants sent (the vector clock of a participant's newest message in the image is what
/// its host held then). The second is read from the image when needed
/// (`ConversationImage.peerHolds`), so arrivals cost nothing here. These are the stability
/// digests that memory reclamation (Section 3.3) also needs.
struct PeerKnowledge {
    /// `stated[k][s]`: `otherHosts[k]` said it holds sender s's messages 1...stated[k][s].
    var stated: [[UInt32]]
    /// The participants on each other host (by position in the participant list).
    let participantsOn: [[ParticipantIndex]]
    /// The deadline of the armed digest timer, if one is armed.
    var armed: Instant?
    /// The last time the image grew (a send or an arrival): digests wait for quiet.
    var lastActivity = Instant.zero
    /// Per other host: digests sent to it since it was last heard from (any packet). A peer
    /// that stays silent for `digestAttempts` digests is suspected and gets no more until it
    /// speaks; a peer that answers, even if its answers keep getting lost, is not.
    var silentRounds: [Int]
    /// A pending conversation was opened after discarding arrivals (Section 3.3): digests go to
    /// each peer, known to cover the frontier or not, until that peer answers with a digest of
    /// its own (which shows what this image lacks, and asks for it).
    var pulling: [Bool]
    /// Per other host, after its RS (Section 5): its participants' messages up to these
    /// sequences were sent before it lost its memory, so their clocks no longer say what it
    /// holds. nil if it never restarted.
    var forgotten: [[UInt32]?]
    /// After this host's own `restart`: the RS to repeat, and which peers echoed it back (an
    /// RS naming our own participant is the acknowledgement). Repeated with the digests of the
    /// pull until each has.
    var restart: Restart?
    var restartAcked: [Bool]

    init(participants: [ParticipantID], otherHosts: [HostID]) {
        stated = Array(repeating: Array(repeating: 0, count: participants.count), count: otherHosts.count)
        participantsOn = otherHosts.map { h in participants.indices.filter { participants[$0].host == h } }
        silentRounds = Array(repeating: 0, count: otherHosts.count)
        pulling = Array(repeating: false, count: otherHosts.count)
        forgotten = Array(repeating: nil, count: otherHosts.count)
        restartAcked = Array(repeating: false, count: otherHosts.count)
    }

    mutating func heardFrom(_ k: Int) { silentRounds[k] = 0 }

    /// Raises what `otherHosts[k]` said it holds to at least `vector`. O(participants).
    mutating func learn(_ vector: [UInt32], slot k: Int) {
        for s in vector.indices where vector[s] > stated[k][s] { stated[k][s] = vector[s] }
    }
}
