import Histogram
import PsyncTrace

/// The ways `psync trace stats` prints a `TraceStatistics`.
extension TraceStatistics {
    public enum Format: String, CaseIterable, Sendable { case table, csv, json, hgrm }

    public func report(_ format: Format) -> String {
        switch format {
        case .table: table
        case .csv: csv
        case .json: json.text + "\n"
        case .hgrm: hgrm
        }
    }

    /// Rows of (metric, key, histogram), overall first then per key in order.
    var rows: [(String, String, Latencies)] {
        metricNames.compactMap { metrics[$0] }.flatMap { m in
            [(m.name, "all", m.overall)] + m.byKey.sorted { $0.key < $1.key }.map { (m.name, $0.key, $0.value) }
        }
    }

    var table: String {
        func ms(_ ns: UInt64) -> String { formatFixed(Double(ns) / 1e6, 3) }
        func cell(_ s: String, _ w: Int) -> String { String(repeating: " ", count: max(0, w - s.count)) + s }
        var lines = ["latency, ms (send to ...)      count" + reportedPercentiles.map { cell($0.0, 10) }.joined() + cell("max", 10)]
        for (metric, key, h) in rows {
            let label = key == "all" ? metric : "  \(key)"
            lines.append(label.padding(30) + cell("\(h.totalCount)", 7)
                         + reportedPercentiles.map { cell(ms(h.valueAtPercentile($0.1)), 10) }.joined() + cell(ms(h.max), 10))
        }
        lines.append("")
        lines.append("counts")
        for (name, n) in counts.sorted(by: { $0.key < $1.key }) { lines.append("  " + name.padding(40) + cell("\(n)", 10)) }
        for (name, v) in perDelivered { lines.append("  " + name.padding(40) + cell(formatFixed(v, 2), 10)) }
        return lines.joined(separator: "\n") + "\n"
    }

    var csv: String {
        var lines = ["metric,key,count," + reportedPercentiles.map { "\($0.0)_ns" }.joined(separator: ",") + ",max_ns,mean_ns"]
        for (metric, key, h) in rows {
            lines.append("\(metric),\(key),\(h.totalCount)," + reportedPercentiles.map { "\(h.valueAtPercentile($0.1))" }.joined(separator: ",")
                         + ",\(h.max),\(formatFixed(h.mean, 1))")
        }
        for (name, n) in counts.sorted(by: { $0.key < $1.key }) { lines.append("count,\(name),\(n)" + String(repeating: ",", count: reportedPercentiles.count + 2)) }
        return lines.joined(separator: "\n") + "\n"
    }

    var json: JSONValue {
        func summary(_ h: Latencies) -> JSONValue {
            .object([("count", .uint(h.totalCount))] + reportedPercentiles.map { ($0.0, .uint(h.valueAtPercentile($0.1))) }
                    + [("max", .uint(h.max)), ("mean", .double(h.mean))])
        }
        let latencies = metricNames.compactMap { metrics[$0] }.map { m in
            (m.name, JSONValue.object([("all", summary(m.overall))] + m.byKey.sorted { $0.key < $1.key }.map { ($0.key, summary($0.value)) }))
        }
        return .object([("unit", .string("ns")), ("events", .uint(UInt64(events))), ("latencies", .object(latencies)),
                        ("counts", .object(counts.sorted { $0.key < $1.key }.map { ($0.key, .uint(UInt64($0.value))) })),
                        ("derived", .object(perDelivered.map { ($0.0, .double($0.1)) }))])
    }

    /// HdrHistogram's percentile distribution of each overall latency, in milliseconds.
    var hgrm: String {
        var out = ""
        for m in metricNames.compactMap({ metrics[$0] }) {
            out += "# \(m.name) (milliseconds)\n"
            m.overall.outputPercentileDistribution(to: &out, outputValueUnitScalingRatio: 1e6)
            out += "\n"
        }
        return out
    }
}

/// `x` with `digits` decimals, computed without Foundation so output is the same everywhere.
func formatFixed(_ x: Double, _ digits: Int) -> String {
    var scale = 1.0
    for _ in 0..<digits { scale *= 10 }
    let scaled = (abs(x) * scale).rounded()
    let whole = UInt64(scaled / scale)
    let frac = String(UInt64(scaled) - whole * UInt64(scale))
    let sign = x < 0 && scaled > 0 ? "-" : ""
    return digits == 0 ? "\(sign)\(whole)" : "\(sign)\(whole)." + String(repeating: "0", count: digits - frac.count) + frac
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
}
