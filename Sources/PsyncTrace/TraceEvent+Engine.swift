import Psync

extension TraceEvent.Kind {
    /// The trace record of an engine event.
    public init(_ e: EngineEvent) {
        switch e {
        case .open(let c, let p, let ps, let active): self = .open(c, p, participants: ps, active: active)
        case .send(let c, let p, let m, let preds, let bytes):
            self = .send(c, p, m, predecessors: preds, payloadBytes: bytes, content: nil)
        case .arrive(let c, let m, let preds): self = .arrive(c, m, predecessors: preds)
        case .hold(let c, let m, let missing): self = .hold(c, m, missing: missing)
        case .release(let c, let m): self = .release(c, m)
        case .retransmitRequested(let rr, let to, let broadcast):
            self = .retransmitRequest(rr.conversation, rr.message, leaves: rr.leaves, to: to, broadcast: broadcast)
        case .frontierRequested(let fr, let to, let reason):
            self = .frontierRequest(fr.conversation, frontier: fr.frontier, wanted: fr.wanted, held: fr.held, reply: fr.isReply,
                                    to: to, reason: reason.rawValue)
        case .retransmitAnswered(let c, let requester, let ms, let cut):
            self = .retransmitAnswer(c, requester: requester, messages: ms, cut: cut)
        case .digestsStopped(let c, let hosts): self = .digestsStopped(c, unanswered: hosts)
        case .resent(let c, let m): self = .resend(c, m)
        case .resentSuccessors(let c, let m, let ss, let to): self = .resendSuccessors(c, m, successors: ss, to: to)
        case .receive(let c, let p, let m): self = .receive(c, p, m)
        case .stable(let c, let p, let m): self = .stable(c, p, m)
        case .maskOut(let c, let by, let target): self = .maskOut(c, by, target: target)
        case .maskIn(let c, let by, let target): self = .maskIn(c, by, target: target)
        case .drop(let d): self = .drop(DropRecord(d))
        case .restart(let c, let p, let leaves, let logged):
            self = .other(name: "restart", fields: [("cid", .uint(c.rawValue)), ("p", .string(p.description)),
                                                    ("leaves", .array(leaves.map { .string($0.description) })),
                                                    ("logged", .uint(UInt64(logged)))])
        case .restored(let c, let p, let view):
            self = .other(name: "restored", fields: [("cid", .uint(c.rawValue)), ("p", .string(p.description)),
                                                     ("view", .array(view.map { .uint(UInt64($0)) }))])
        case .restartNotified(let c, let p):
            self = .other(name: "restart_notified", fields: [("cid", .uint(c.rawValue)), ("restarted", .string(p.description))])
        case .resendSuppressed(let c, let p, let m):
            self = .other(name: "resend_suppressed", fields: [("cid", .uint(c.rawValue)), ("p", .string(p.description)),
                                                              ("mid", .string(m.description))])
        case .sendBlocked(let c, let p, let n):
            self = .other(name: "send_blocked", fields: [("cid", .uint(c.rawValue)), ("p", .string(p.description)),
                                                         ("unsettled", .uint(UInt64(n)))])
        }
    }
}
