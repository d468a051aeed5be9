import Histogram

/// The one way the toolkit summarizes latencies: an HdrHistogram over nanoseconds from 1 ns to
/// an hour (resizing beyond), three significant digits. `psync simulate`'s summary and
/// `psync trace stats` both read their percentiles from one, so the figures they both print
/// agree to the nanosecond.
public enum LatencyHistogram {
    public typealias Latencies = Histogram<UInt64>

    public static func new() -> Latencies {
        var h = Latencies(lowestDiscernibleValue: 1, highestTrackableValue: 3_600_000_000_000, numberOfSignificantValueDigits: .three)
        h.autoResize = true
        return h
    }

    public static func of(_ values: [UInt64]) -> Latencies {
        var h = new()
        for v in values { _ = h.record(v) }
        return h
    }
}
