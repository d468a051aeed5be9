import Psync

extension Checker {
    /// Section 5.1's bound on what a restarted participant gets back when other participants'
    /// failure periods overlap its own: everything up to the messages stable enough that some
    /// image holding them survived.
    ///
    /// A message m is *n-stable* if n-1 participants other than its sender sent a message in
    /// its context; then n images hold m and its context. When the failure periods of f other
    /// participants overlap the restarted participant p's, f+1 images are gone (p's own among
    /// them), so a message is sure to be recoverable only if it is (f+2)-stable. The paper says
    /// "n-stable" with n-1 = f, which counts p's image as a surviving one; the scenario test
    /// `overlappingFailuresRecoverUpToTheLowestNStableMessages` shows a 2-stable message lost
    /// with one overlapping failure, so the checker holds the run to f+2.
    ///
    /// The contexts are the reference model's (`ReferenceContexts`): q sent a message in m's
    /// context if m is in the context of q's last recorded send (contexts grow along a
    /// participant's sends). A failure period runs from a crash to the host's next restart, or
    /// to the end of the run; the restarted participant's is taken to last to the end (a
    /// conservative choice: it can only count more overlaps, and so demand less). A participant
    /// running at the end of the run must hold, for each sender s, every message of s followed
    /// by at least f+1 other participants. O(n² log n) per restart.
    public static func nStableRecovery(_ r: SimulationResult) -> [Violation] {
        let faults = r.config.faults
        guard !faults.restarts.isEmpty else { return [] }
        let n = r.config.participants
        // Per participant: the context vector of its last send the model knows.
        let last: [ArraySlice<UInt32>?] = (0..<n).map { q in
            r.histories[q].last { $0.senderIndex == q && r.contexts.vector(of: $0) != nil }.flatMap(r.contexts.vector(of:))
        }
        /// Whether host q is down at some time at or after `time`: a crash whose next restart
        /// (if any) comes after `time`.
        func downSince(_ q: Int, _ time: UInt64) -> Bool {
            faults.crashes.contains { c in
                guard c.host == UInt32(q) else { return false }
                let back = faults.restarts.filter { $0.host == c.host && $0.atNanoseconds > c.atNanoseconds }.map(\.atNanoseconds).min()
                return back.map { $0 > time } ?? true
            }
        }
        var out: [Violation] = []
        for restart in faults.restarts {
            let p = Int(restart.host)
            guard p < n, let frontier = r.frontiers[p],
                  let crashed = faults.crashes.filter({ $0.host == restart.host && $0.atNanoseconds < restart.atNanoseconds })
                      .map(\.atNanoseconds).max() else { continue }
            let overlapping = (0..<n).filter { $0 != p && downSince($0, crashed) }.count
            for s in 0..<n {
                // The (f+1)th largest count of s's messages in another participant's context:
                // every message of s up to it is (f+2)-stable.
                let followed = (0..<n).filter { $0 != s }.compactMap { last[$0].map { $0[$0.startIndex + s] } }.sorted(by: >)
                guard followed.count > overlapping else { continue }
                let required = followed[overlapping]
                if frontier[s] < required {
                    out.append(Violation(
                        property: "n-stable recovery",
                        detail: "h\(p) restarted at \(restart.atNanoseconds) ns with \(overlapping) overlapping failures holds "
                            + "\(MessageID(sender: s, sequence: frontier[s])) of participant \(s), but up to "
                            + "\(MessageID(sender: s, sequence: required)) is \(overlapping + 2)-stable"))
                }
            }
        }
        return out
    }
}
