/// Durations as people type them (`250us`, `5ms`, `1.5s`) and delay distributions as the
/// command line takes them (`const:2ms`, `uniform:1ms-5ms`, `exp:1ms+2ms`).

/// Formats nanoseconds with the largest unit that keeps the value whole.
public func formatDuration(_ ns: UInt64) -> String {
    for (unit, scale) in [("s", UInt64(1_000_000_000)), ("ms", 1_000_000), ("us", 1_000)] where ns >= scale && ns % scale == 0 {
        return "\(ns / scale)\(unit)"
    }
    return "\(ns)ns"
}

/// Parses `12ns`, `250us`, `5ms`, `1.5s`; nil if it is not a duration.
public func parseDuration(_ text: String) -> UInt64? {
    let units: [(String, Double)] = [("ns", 1), ("us", 1e3), ("ms", 1e6), ("s", 1e9)]
    for (suffix, scale) in units where text.hasSuffix(suffix) {
        let number = text.dropLast(suffix.count)
        if suffix == "s", number.last.map({ !$0.isNumber && $0 != "." }) == true { continue }
        guard let value = Double(number), value >= 0, value * scale < 1.8e19 else { return nil }
        return UInt64((value * scale).rounded())
    }
    return nil
}

extension DelayDistribution {
    /// Parses `const:D`, `uniform:D-D`, `exp:MEAN` or `exp:BASE+MEAN`.
    public init?(parsing text: String) {
        let parts = text.split(separator: ":", maxSplits: 1).map(String.init)
        guard parts.count == 2 else { return nil }
        switch parts[0] {
        case "const", "constant":
            guard let d = parseDuration(parts[1]) else { return nil }
            self = .constant(nanoseconds: d)
        case "uniform":
            let bounds = parts[1].split(separator: "-").map { parseDuration(String($0)) }
            guard bounds.count == 2, let lo = bounds[0], let hi = bounds[1], lo <= hi else { return nil }
            self = .uniform(lowNanoseconds: lo, highNanoseconds: hi)
        case "exp", "exponential":
            let terms = parts[1].split(separator: "+").map { parseDuration(String($0)) }
            if terms.count == 1, let mean = terms[0] {
                self = .exponential(baseNanoseconds: 0, meanNanoseconds: mean)
            } else if terms.count == 2, let base = terms[0], let mean = terms[1] {
                self = .exponential(baseNanoseconds: base, meanNanoseconds: mean)
            } else {
                return nil
            }
        default:
            return nil
        }
    }
}
