/// Serving messages whose nodes Section 3.3's threshold Θ reclaimed (or `freeNode` did) to a
/// host that lacks them: one that restarted without its memory (Section 5). Reclaimed messages
/// are stable, held by every host, so no request for them comes otherwise; the host's stable
/// storage gives them back whole (`StableStorage.stored`), when it reads back.
extension ConversationImage {
    /// The reclaimed messages beyond `boundary` (a requester's frontier) that stable storage
    /// gives back, each after its predecessors, at most `limit` of them. Each sender's messages
    /// are read in sequence as their predecessors are served or already held by the requester
    /// (a reclaimed message's predecessors are reclaimed too, or within the boundary).
    /// O(served x in-degree x participants) at worst; nothing without read-back storage.
    func storedAnswer(after boundary: [UInt32], limit: Int) -> [AddNode] {
        guard let storage, limit > 0 else { return [] }
        var served = (0..<participantCount).map { min(boundary[$0], graph.reclaimedOf[$0]) }
        var next: [AddNode?] = (0..<participantCount).map { _ in nil }
        var out: [AddNode] = []
        var moved = true
        while moved && out.count < limit {
            moved = false
            for s in 0..<participantCount where served[s] < graph.reclaimedOf[s] && out.count < limit {
                let mid = MessageID(sender: s, sequence: served[s] + 1)
                guard let an = next[s] ?? storage.stored(mid, in: id), an.message == mid else { continue }
                guard an.predecessors.allSatisfy({ $0.senderIndex < participantCount && $0.sequence <= served[$0.senderIndex] })
                else {
                    next[s] = an
                    continue
                }
                next[s] = nil
                out.append(an)
                served[s] += 1
                moved = true
            }
        }
        return out
    }
}
