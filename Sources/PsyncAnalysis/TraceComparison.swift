import Histogram

/// Several runs' statistics side by side (`psync trace compare`): one column per run, each
/// figure with its ratio to the first run's.
public struct TraceComparison {
    public let runs: [(name: String, stats: TraceStatistics)]

    public init(_ runs: [(String, TraceStatistics)]) { self.runs = runs.map { (name: $0.0, stats: $0.1) } }

    /// (row label, value per run); nil where a run lacks the figure.
    public var rows: [(String, [Double?])] {
        var out: [(String, [Double?])] = []
        let metrics = runs.flatMap(\.stats.metricNames).reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for metric in metrics {
            for (label, q) in [("p50", 50.0), ("p99", 99.0), ("max", 100.0)] {
                out.append(("\(metric) \(label) (ms)", runs.map { r in
                    r.stats.metrics[metric].map { Double($0.overall.valueAtPercentile(q)) / 1e6 }
                }))
            }
        }
        let counts = runs.flatMap { $0.stats.counts.keys }.reduce(into: Set<String>()) { $0.insert($1) }.sorted()
        for name in counts { out.append((name, runs.map { r in r.stats.counts[name].map(Double.init) ?? 0 })) }
        // Costs per delivered message, and per data message where the sends say which they are
        // (acknowledgements and filters' control messages are the cost, data the work).
        let costs = runs.flatMap { $0.stats.perDelivered.map(\.0) }.reduce(into: [String]()) { if !$0.contains($1) { $0.append($1) } }
        for name in costs {
            out.append((name, runs.map { r in r.stats.perDelivered.first { $0.0 == name }?.1 }))
        }
        return out
    }

    public var table: String {
        let width = max(24, (rows.map(\.0.count).max() ?? 0) + 2)
        var lines = ["".padding(width) + runs.map { cell(short($0.name), 22) }.joined()]
        for (label, values) in rows {
            let base = values.first ?? nil
            lines.append(label.padding(width) + values.enumerated().map { i, v in
                guard let v else { return cell("-", 22) }
                let text = formatFixed(v, v == v.rounded() ? 0 : 3)
                guard i > 0, let b = base, b != 0 else { return cell(text, 22) }
                return cell("\(text) (\(formatFixed(v / b, 2))x)", 22)
            }.joined())
        }
        return lines.joined(separator: "\n") + "\n"
    }

    private func short(_ path: String) -> String { String(path.split(separator: "/").last ?? Substring(path)) }
    private func cell(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(1, w - s.count)) + s }
}
