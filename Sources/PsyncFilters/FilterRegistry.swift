/// The filters that can be named on the command line and in a simulation's configuration.
public enum FilterRegistry {
    /// Names, with what each implements.
    public static let catalog: [(name: String, summary: String)] = [
        ("causal", "Psync's receive order (the context relation)"),
        ("waves", "total order by breadth-first waves, committed on one stable message (Section 4.2)"),
        ("depth-first", "total order by a depth-first traversal, each node expanded once stable (Section 4.2, footnote 3)"),
        ("quorum", "delivers a message once a majority has it in context; quorum:N for N (Section 3.4)"),
        ("stable-causal", "causal order, each message delivered once stable (the README's example filter)"),
        ("handshake", "three-way initialize and terminate around the application's messages (Section 3.4)"),
        ("commutative", "replicated objects: commutative operations at once, others in batches (Section 4.3, Figure 9)"),
        ("membership", "conversation-wide delete and join by agreement, above a total order: waves,membership (Sections 3.2.4, 5)"),
    ]

    public struct UnknownFilter: Error, CustomStringConvertible {
        public let name: String
        public var description: String {
            "unknown filter '\(name)'; known: \(FilterRegistry.catalog.map(\.name).joined(separator: ", "))"
        }
    }

    /// A new instance of the filter called `name`.
    public static func make(_ name: String) throws(UnknownFilter) -> OrderingFilter {
        switch name {
        case "causal": return CausalFilter()
        case "waves": return WavesFilter()
        case "depth-first": return DepthFirstFilter()
        case "quorum": return QuorumFilter()
        case "membership": return MembershipFilter()
        case "stable-causal": return StableCausalFilter()
        case "handshake": return HandshakeFilter()
        case "commutative": return CommutativeFilter()
        default:
            if name.hasPrefix("quorum:"), let k = Int(name.dropFirst(7)), k >= 1 { return QuorumFilter(quorum: k) }
            throw UnknownFilter(name: name)
        }
    }
}
