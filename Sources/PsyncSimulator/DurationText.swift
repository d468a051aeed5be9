/// Durations as people type them (`250us`, `5ms`, `1.5s`) and delay distributions as the
/// command line takes them (`const:2ms`, `uniform:1ms-5ms`, `exp:1ms+2ms`).

/// Formats nanoseconds with the largest unit that keeps the value whole.
public func formatDuration(_ ns: UInt64) -> String {
    for (unit, scale) in [("s", UInt64(1_000_000_000)), ("ms", 1_000_000), ("us", 1_000)] where ns >= scale && ns % scale == 0 {
        return "\(ns / scale)\(unit)"
    }
    return "\(ns)ns"
}

/// Why a command-line value does not parse: the value, and what is wrong with it.
public struct ArgumentSyntaxError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ value: String, _ why: String) { description = "'\(value)': \(why)" }
}

/// Parses `12ns`, `250us`, `5ms`, `1.5s`; nil if it is not a duration.
public func parseDuration(_ text: String) -> UInt64? { try? duration(text) }

/// Parses a duration, or says why it is not one.
public func duration(_ text: String) throws(ArgumentSyntaxError) -> UInt64 {
    let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("ms", 1e6), ("s", 1e9)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
        let number = text.dropLast(suffix.count)
        if suffix == "s", number.last.map({ !$0.isNumber && $0 != "." }) == true { continue }
        guard let value = Double(number) else { throw ArgumentSyntaxError(text, "'\(number)' is not a number") }
        guard value >= 0 else { throw ArgumentSyntaxError(text, "a duration is not negative") }
        guard value * scale < 1.8e19 else { throw ArgumentSyntaxError(text, "longer than 584 years") }
        return UInt64((value * scale).rounded())
    }
    throw ArgumentSyntaxError(text, "a duration needs a unit: ns, us, ms or s (examples: 500us, 5ms, 1.5s)")
}

extension DelayDistribution {
    /// Parses `const:D`, `uniform:D-D`, `exp:MEAN` or `exp:BASE+MEAN`, or says why it cannot.
    public init(parsing text: String) throws(ArgumentSyntaxError) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        let forms = "const:2ms, uniform:1ms-5ms, exp:3ms or exp:1ms+3ms"
        guard parts.count == 2 else { throw ArgumentSyntaxError(text, "a delay distribution is KIND:PARAMETERS (\(forms))") }
        func part(_ t: Substring) throws(ArgumentSyntaxError) -> UInt64 {
            do { return try duration(String(t)) } catch { throw ArgumentSyntaxError(text, error.description) }
        }
        switch parts[0] {
        case "const", "constant":
            self = .constant(nanoseconds: try part(Substring(parts[1])))
        case "uniform":
            let bounds = parts[1].split(separator: "-", omittingEmptySubsequences: false)
            guard bounds.count == 2 else { throw ArgumentSyntaxError(text, "uniform takes LOW-HIGH (uniform:1ms-5ms)") }
            let lo = try part(bounds[0]), hi = try part(bounds[1])
            guard lo <= hi else { throw ArgumentSyntaxError(text, "the lower bound is above the upper bound") }
            self = .uniform(lowNanoseconds: lo, highNanoseconds: hi)
        case "exp", "exponential":
            let terms = parts[1].split(separator: "+", omittingEmptySubsequences: false)
            guard terms.count <= 2 else { throw ArgumentSyntaxError(text, "exp takes MEAN or BASE+MEAN (exp:1ms+3ms)") }
            self = terms.count == 1 ? .exponential(baseNanoseconds: 0, meanNanoseconds: try part(terms[0]))
                : .exponential(baseNanoseconds: try part(terms[0]), meanNanoseconds: try part(terms[1]))
        default:
            throw ArgumentSyntaxError(text, "unknown distribution '\(parts[0])' (\(forms))")
        }
    }
}
