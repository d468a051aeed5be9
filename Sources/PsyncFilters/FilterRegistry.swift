/// The filters that can be named on the command line and in a simulation's configuration.
public enum FilterRegistry {
    /// Names, with what each implements.
    public static let catalog: [(name: String, summary: String)] = [
        ("causal", "Psync's receive order (the context relation)"),
        ("waves", "total order by breadth-first waves, committed on one stable message (Section 4.2)"),
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
        default: throw UnknownFilter(name: name)
        }
    }
}
