import Synchronization

/// Builds a participant's filter stack (bottom first) from the names a configuration or a
/// trace's header gives; throws if it does not know one. `FilterRegistry.makeStack` is the
/// default everywhere one is taken (the simulator, replay, counterfactual replay).
public typealias FilterFactory = ([String]) throws -> [OrderingFilter]

/// The filters that can be named on the command line, in a simulation's configuration and in a
/// trace's header: the built-in ones, and any a program registers before it runs
/// (`register(_:summary:make:)`). Every part of the toolkit that turns a name into a filter (the
/// simulator, `psync node`, replay, counterfactual replay, `trace compare`, the checkers) asks
/// here, so a policy written outside the package works with all of them once registered.
///
/// A stack is named bottom first, comma-separated (`waves,membership`); a name may carry an
/// argument after a colon (`quorum:3`), which the filter's factory parses.
public enum FilterRegistry {
    /// Makes a filter from the argument after the colon (nil without one); nil if the argument
    /// is not one the filter accepts.
    public typealias Factory = @Sendable (_ argument: String?) -> OrderingFilter?

    struct Entry {
        let name: String
        let summary: String
        let make: Factory
    }

    private static let entries = Mutex<[Entry]>([
        Entry(name: "causal", summary: "Psync's receive order (the context relation)") { $0 == nil ? CausalFilter() : nil },
        Entry(name: "waves", summary: "total order by breadth-first waves, committed on one stable message (Section 4.2)") {
            $0 == nil ? WavesFilter() : nil
        },
        Entry(name: "depth-first", summary: "total order by a depth-first traversal, each node expanded once stable (Section 4.2, footnote 3)") {
            $0 == nil ? DepthFirstFilter() : nil
        },
        Entry(name: "quorum", summary: "delivers a message once a majority has it in context; quorum:N for N (Section 3.4)") { argument in
            guard let argument else { return QuorumFilter() }
            guard let k = Int(argument), k >= 1 else { return nil }
            return QuorumFilter(quorum: k)
        },
        Entry(name: "stable-causal", summary: "causal order, each message delivered once stable (the README's example filter)") {
            $0 == nil ? StableCausalFilter() : nil
        },
        Entry(name: "handshake", summary: "three-way initialize and terminate around the application's messages (Section 3.4)") {
            $0 == nil ? HandshakeFilter() : nil
        },
        Entry(name: "commutative", summary: "replicated objects: commutative operations at once, others in batches (Section 4.3, Figure 9)") {
            $0 == nil ? CommutativeFilter() : nil
        },
        Entry(name: "circuit", summary: "virtual circuit: sends wait while WINDOW of one's messages are unstable; circuit:1 is stop-and-wait (Section 4.1)") { argument in
            guard let argument else { return VirtualCircuitFilter() }
            guard let window = Int(argument), window >= 1 else { return nil }
            return VirtualCircuitFilter(window: window)
        },
        Entry(name: "membership", summary: "conversation-wide delete and join by agreement, above a total order: waves,membership (Sections 3.2.4, 5)") {
            $0 == nil ? MembershipFilter() : nil
        },
    ])

    /// Names, with what each implements, in registration order (built-in filters first).
    public static var catalog: [(name: String, summary: String)] {
        entries.withLock { $0.map { ($0.name, $0.summary) } }
    }

    /// Makes `name` known everywhere a filter name is accepted. `make` builds a fresh instance
    /// (one per participant and run). Registering a name again replaces the earlier factory.
    /// A name is a non-empty run of letters, digits, `-`, `_` and `.` (commas separate a stack's
    /// names, a colon starts an argument).
    public static func register(_ name: String, summary: String, make: @escaping @Sendable () -> OrderingFilter) {
        register(name, summary: summary, parameterized: { $0 == nil ? make() : nil })
    }

    /// As `register(_:summary:make:)`, for a filter that takes an argument (`NAME:ARGUMENT`).
    public static func register(_ name: String, summary: String, parameterized make: @escaping Factory) {
        precondition(isValidName(name), "a filter name is letters, digits, '-', '_' and '.': '\(name)'")
        let entry = Entry(name: name, summary: summary, make: make)
        entries.withLock { list in
            if let k = list.firstIndex(where: { $0.name == name }) { list[k] = entry } else { list.append(entry) }
        }
    }

    static func isValidName(_ name: String) -> Bool {
        !name.isEmpty && name.unicodeScalars.allSatisfy { $0.properties.isAlphabetic || ("0"..."9").contains($0) || "-_.".unicodeScalars.contains($0) }
    }

    public struct UnknownFilter: Error, CustomStringConvertible, Equatable {
        public let name: String
        public var description: String {
            "unknown filter '\(name)'; known: \(FilterRegistry.catalog.map(\.name).joined(separator: ", ")) (a program registers its own with FilterRegistry.register)"
        }
    }

    /// A new instance of the filter called `name` (`NAME` or `NAME:ARGUMENT`).
    public static func make(_ name: String) throws(UnknownFilter) -> OrderingFilter {
        let base = name.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false)
        let factory = entries.withLock { list in list.first { $0.name == base[0] }?.make }
        let argument = base.count > 1 ? String(base[1]) : nil
        guard let factory, let filter = factory(argument) else { throw UnknownFilter(name: name) }
        return filter
    }

    /// A stack (bottom first) from its names.
    public static func makeStack(_ names: [String]) throws(UnknownFilter) -> [OrderingFilter] {
        var stack: [OrderingFilter] = []
        for name in names { stack.append(try make(name)) }
        return stack
    }

    /// The names of a stack written `NAME[,NAME...]`, unchecked: an empty name (`waves,`) stays
    /// in, for `make` to refuse.
    public static func stackNames(_ text: String) -> [String] {
        text.split(separator: ",", omittingEmptySubsequences: false).map(String.init)
    }

    /// The names of a stack written `NAME[,NAME...]`, each checked.
    public static func parseStack(_ text: String) throws(UnknownFilter) -> [String] {
        let names = stackNames(text)
        _ = try makeStack(names)
        return names
    }
}
