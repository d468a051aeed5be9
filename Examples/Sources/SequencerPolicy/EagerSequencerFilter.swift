import Psync
import PsyncFilters

/// A sequencer that is wrong on purpose, to show what the checkers catch: it hands a
/// participant's own messages up at once ("my own message cannot be out of order for me") and
/// skips them when their turn in the order comes. It still claims total order, but when two
/// participants send concurrently each delivers its own message first, and the sequences differ.
public final class EagerSequencerFilter: SequencerFilter {
    /// Own messages already delivered, whose turn is still to come.
    private var early: Set<MessageID> = []

    public init() { super.init(name: "eager-sequencer") }

    public override func input(_ message: FilterMessage, _ context: FilterContext) {
        super.input(message, context)   // the sequencer still orders it
        if message.sender == context.participant && !message.isControl(of: name) {
            early.insert(message.id)
            context.deliver(message, from: self)
        }
    }

    override func deliverInTurn(_ m: FilterMessage, _ context: FilterContext) {
        if early.remove(m.id) == nil { context.deliver(m, from: self) }
    }
}
