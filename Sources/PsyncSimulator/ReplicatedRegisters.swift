import Psync

/// The state of the replicated-state-machine workload (`Workload.Pattern.replicated`): eight
/// registers that every participant updates with each command its total-order stack delivers.
///
/// Updates do not commute, and each command carries a digest of its sender's state when it was
/// sent, so two participants end with the same digest only if they applied the same commands in
/// the same order, and a re-executed participant (Section 5.2) sends the same commands only if
/// it was delivered the same order again.
public struct ReplicatedRegisters: Sendable, Hashable, Codable {
    public private(set) var registers = [UInt64](repeating: 0, count: 8)
    /// How many commands were applied.
    public private(set) var applied = 0

    public init() {}

    /// FNV-1a over the registers.
    public var digest: UInt64 {
        var h: UInt64 = 0xCBF2_9CE4_8422_2325
        for r in registers {
            for shift in stride(from: 0, to: 64, by: 8) {
                h = (h ^ (r >> UInt64(shift) & 0xFF)) &* 0x0000_0100_0000_01B3
            }
        }
        return h
    }

    /// Applies a command payload (`Workload.command`) of participant `sender`.
    public mutating func apply(_ payload: [UInt8], from sender: ParticipantIndex) {
        var operand: UInt64 = 0
        for b in payload.dropFirst(2).prefix(8) { operand = operand << 8 | UInt64(b) }
        let k = Int(operand % UInt64(registers.count))
        registers[k] = (registers[k] ^ operand) &* 0x9E37_79B9_7F4A_7C15 &+ UInt64(sender) &+ 1
        applied += 1
    }
}
