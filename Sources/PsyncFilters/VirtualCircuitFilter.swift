import Psync

/// Section 4.1's virtual circuit over a conversation: "a process stops sending data when the
/// number of unstable messages it has sent exceeds the size of the circuit's sliding window".
/// Flow control through stability, with no sequence numbers or acknowledgement fields of its
/// own: the context graph carries them.
///
/// The application's sends pass down while fewer than `window` of this participant's data
/// messages are unstable (not yet followed by every other participant); the others wait, in
/// order, and go as acknowledgements make room. Messages are delivered in Psync's receive
/// order (causal, every message once, as `CausalFilter`). A participant acknowledges what it
/// received when it had nothing to send (Figure 8's rule, `Acknowledgement`); when both sides
/// have data, a message sent in the context of received ones acknowledges them, the paper's
/// piggyback for free.
///
/// The rest of Section 4.1's library follows: `window` 1 is stop-and-wait, whose graph is the
/// "linear context graph" of the paper, and over which one message is a reliable datagram (its
/// acknowledgement is sent in its context); two participants passing a token (`Workload.Pattern.ring`,
/// `--ring`) under it are RPC with conversational continuity: each reply is sent in the context
/// of its request and each request in the context of the previous reply, and a request resent
/// after a loss is the same message, executed at most once (Psync never delivers a message
/// twice). The unreliable datagram is a conversation of one message, Psync alone.
public final class VirtualCircuitFilter: OrderingFilter {
    public let name = "circuit"
    public let guarantees: Set<FilterGuarantee> = [.causal, .complete]
    public let window: Int
    private var held: [[UInt8]] = []
    private var unstable: [MessageID] = []
    /// Passed down, not yet in the view (the stack tells the view's growth after the call).
    private var passedDown = 0
    private var ready: [FilterMessage] = []
    /// The most data messages of this participant that were ever unstable at once: never more
    /// than `window` (the tests hold the filter to it).
    public private(set) var mostUnstable = 0

    public init(window: Int = 4) {
        precondition(window >= 1, "a window holds at least one message")
        self.window = window
    }

    public func send(_ payload: [UInt8], _ context: FilterContext) -> Bool {
        held.append(payload)
        sendWhatFits(context)
        return true
    }

    public func viewGrew(_ message: FilterMessage, _ context: FilterContext) {
        if message.sender == context.participant && message.content.isApplication {
            unstable.append(message.id)
            passedDown = max(0, passedDown - 1)
        }
    }

    public func input(_ message: FilterMessage, _ context: FilterContext) {
        if !message.isControl(of: name) { ready.append(message) }
    }

    /// Section 3.3: queries no node, so Θ may reclaim anything.
    public func releasedHistory(_ context: FilterContext) -> [UInt32] { context.viewFrontier }

    public func update(_ context: FilterContext) {
        for m in ready { context.deliver(m, from: self) }
        ready.removeAll()
        unstable.removeAll { context.isAgreedStable($0) }
        sendWhatFits(context)
    }

    public func batchEnded(received: [FilterMessage], sentSomething: Bool, _ context: FilterContext) {
        Acknowledgement.afterBatch(received: received, sentSomething: sentSomething, filter: self, context)
    }

    private func sendWhatFits(_ context: FilterContext) {
        while unstable.count + passedDown < window, !held.isEmpty {
            // A filter below that refuses it (a handshake after TERM) has the last word.
            if context.send(held.removeFirst(), from: self) { passedDown += 1 }
            mostUnstable = max(mostUnstable, unstable.count + passedDown)
        }
    }
}
