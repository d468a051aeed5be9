/// How a host recovers lost messages (Sections 3.2.1-3.2.3). Both policies keep the paper's
/// guarantees on a network that loses a few packets; they differ in what they cost, and in
/// whether a long conversation at high loss keeps them at all. `psync bench recovery` measures
/// the two side by side.
public enum RecoveryPolicy: String, Sendable, Hashable, Codable, CaseIterable {
    /// The paper's rule, literally: each held message has its own timer; when it expires, a
    /// retransmission request (Figure 5: the image's leaves and the held message) goes to the
    /// host the message came from, then once to every host, and then the held message is
    /// discarded (Section 3.2.3). The last message of a conversation is recovered only by the
    /// application's `resend` (Section 3.2.2).
    ///
    /// Kept for comparison. Its weaknesses under sustained loss: leaves often name the
    /// requester's own newest message, which the responder does not have yet, so the answer
    /// starts from the oldest messages instead of the missing ones; every held message asks on
    /// its own; and after two tries the message is gone for good.
    case paper
    /// Gap recovery with tail recovery (the default):
    /// - *Exact requests* (`FrontierRequest`): the requester's frontier and the messages it
    ///   misses; the answer is exactly the missing closure, and a cut answer says so.
    /// - *One request per gap*: held messages waiting on the same missing messages share one
    ///   request; requests to one host are merged; they back off exponentially with seeded
    ///   jitter and escalate from the host the held message came from, to another member that
    ///   is known to hold the missing message, to every host (only holders answer).
    /// - *Tail recovery*: while an image holds messages that some peer is not known to have and
    ///   has been quiet, it sends digests (its frontier) on a backoff timer; peers answer with
    ///   what lies beyond it and ask back for what they lack (the ask-back opens gaps, retried
    ///   like any). It stops when the frontiers agree, for a peer whose participants are masked
    ///   out, and for a peer that left `digestAttempts` digests unanswered (it is suspected to
    ///   have failed, until it speaks again).
    /// - A held message is discarded only after `sourceRequestAttempts + memberRequestAttempts +
    ///   broadcastRequestAttempts` requests for its gap went unanswered, or when every local
    ///   participant masks its sender out (both policies), with a traced reason.
    ///
    /// This is how reliable multicast protocols recover (NORM and PGM NAK one gap per interval;
    /// JGroups' NAKACK2 merges ranges and runs a stability digest), applied to a context graph.
    case gaps
}
