import Psync
import PsyncSimulator

/// Seeded loss, duplication, delay and reordering of a node's outgoing datagrams: kernel netem
/// is not available everywhere (not on the toolkit's CI machine), so the shell injects the
/// faults a real run should suffer, like netem on egress. The decisions are the simulator's
/// (`LinkModel.fate`, one seeded generator), so a real run and a simulated one share a fault
/// description; what the operating system adds on top (scheduling, socket buffers) is real.
public struct FaultInjector: Sendable {
    public var link: LinkModel
    var rng: SplitMix64

    public init(link: LinkModel, seed: UInt64) {
        self.link = link
        rng = SplitMix64(seed: seed)
    }

    /// No faults: every datagram goes out once, at once.
    public static let none = FaultInjector(link: LinkModel(delay: .constant(nanoseconds: 0)), seed: 0)

    var isActive: Bool { link != FaultInjector.none.link }

    /// The delays of the copies of one datagram that go out (empty: it is lost).
    public mutating func fate() -> [UInt64] {
        isActive ? link.fate(&rng).delays : [0]
    }
}
