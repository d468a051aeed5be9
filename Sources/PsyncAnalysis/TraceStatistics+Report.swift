import Histogram
import PsyncTrace

/// The ways `psync trace stats` prints a `TraceStatistics`.
///
/// Maxima are the largest value recorded, not the top of its HdrHistogram bucket (which can
/// lie above every value seen); percentiles are HdrHistogram's (`valueAtPercentile`: the value
/// at rank ceil(p/100 x count), reported as the highest value equivalent to it, at most the
/// maximum).
extension TraceStatistics {
    public enum Format: String, CaseIterable, Sendable {
        case table, csv, json
        /// HdrHistogram's percentile distribution, one file per metric.
        case hgrm
        /// HdrHistogram's compressed histogram log, one file per metric.
        case hlog

        /// Whether the format writes a file per metric (a directory) rather than one text.
        public var perMetric: Bool { self == .hgrm || self == .hlog }
        /// The file extension of a per-metric file.
        public var fileExtension: String { rawValue }
    }

    /// The report as one text (`table`, `csv`, `json`; for `hgrm` and `hlog`, of `metric`).
    public func report(_ format: Format, metric: String? = nil) -> String {
        switch format {
        case .table: table
        case .csv: csv
        case .json: json.text + "\n"
        case .hgrm, .hlog: metric.flatMap { metrics[$0] }.map { format == .hgrm ? hgrm($0) : hlog($0) } ?? ""
        }
    }

    /// The per-metric files of `format` (hgrm, hlog): a file name per metric, and its text.
    public func files(_ format: Format) -> [(name: String, text: String)] {
        metricNames.compactMap { metrics[$0] }.map { m in
            (m.name.replacingColons + "." + format.fileExtension, report(format, metric: m.name))
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
                         + reportedPercentiles.map { cell(ms(h.valueAtPercentile($0.1)), 10) }.joined() + cell(ms(h.maxRecorded), 10))
        }
        lines.append("")
        lines.append("counts")
        for (name, n) in counts.sorted(by: { $0.key < $1.key }) { lines.append("  " + name.padding(40) + cell("\(n)", 10)) }
        for (name, v) in perDelivered { lines.append("  " + name.padding(40) + cell(formatFixed(v, 2), 10)) }
        return lines.joined(separator: "\n") + "\n"
    }

    /// Tidy CSV: one row per metric and group (`kind` latency), per counter (`count`) and per
    /// derived ratio (`derived`, in `value`), each with the run's seed, filter stack, recovery
    /// policy, loss rate, participants and messages per participant (empty where the header
    /// does not say), so the CSVs of many runs concatenate into one table.
    var csv: String {
        let run = runColumns
        let empty = String(repeating: ",", count: reportedPercentiles.count + 3)
        var lines = ["kind,metric,group,count," + reportedPercentiles.map { "\($0.0)_ns" }.joined(separator: ",")
                     + ",max_ns,mean_ns,value," + run.map(\.0).joined(separator: ",")]
        let runCells = run.map { csvField($0.1) }.joined(separator: ",")
        for (metric, key, h) in rows {
            lines.append("latency,\(csvField(metric)),\(csvField(key)),\(h.totalCount)," + reportedPercentiles.map { "\(h.valueAtPercentile($0.1))" }.joined(separator: ",")
                         + ",\(h.maxRecorded),\(formatFixed(h.mean, 1)),,\(runCells)")
        }
        for (name, n) in counts.sorted(by: { $0.key < $1.key }) { lines.append("count,\(csvField(name)),all,\(empty)\(n),\(runCells)") }
        for (name, v) in perDelivered { lines.append("derived,\(csvField(name)),all,\(empty)\(formatFixed(v, 4)),\(runCells)") }
        return lines.joined(separator: "\n") + "\n"
    }

    /// What the header says of the run, as CSV columns.
    var runColumns: [(String, String)] {
        let run = header?.run
        return [("seed", header?.seed.map(String.init) ?? ""),
                ("filters", filters.joined(separator: ",")),
                ("recovery", run?["host"]?["recovery"]?.string ?? ""),
                ("loss", run?["network"]?["link"]?["lossProbability"]?.double.map { "\($0)" } ?? ""),
                ("participants", header.map { "\($0.participants.count)" } ?? ""),
                ("messages", run?["workload"]?["messagesPerParticipant"]?.int.map(String.init) ?? "")]
    }

    public var json: JSONValue {
        func summary(_ h: Latencies) -> JSONValue {
            .object([("count", .uint(h.totalCount))] + reportedPercentiles.map { ($0.0, .uint(h.valueAtPercentile($0.1))) }
                    + [("max", .uint(h.maxRecorded)), ("mean", .double(h.mean))])
        }
        let latencies = metricNames.compactMap { metrics[$0] }.map { m in
            (m.name, JSONValue.object([("all", summary(m.overall))] + m.byKey.sorted { $0.key < $1.key }.map { ($0.key, summary($0.value)) }))
        }
        return .object([("unit", .string("ns")), ("events", .uint(UInt64(events))), ("latencies", .object(latencies)),
                        ("counts", .object(counts.sorted { $0.key < $1.key }.map { ($0.key, .uint(UInt64($0.value))) })),
                        ("derived", .object(perDelivered.map { ($0.0, .double($0.1)) }))])
    }

    /// HdrHistogram's percentile distribution of one metric, in milliseconds, its `Max` line
    /// giving the largest value recorded (HdrHistogram prints the top of its bucket).
    func hgrm(_ m: Metric) -> String {
        var out = ""
        m.overall.outputPercentileDistribution(to: &out, outputValueUnitScalingRatio: 1e6)
        let lines = out.split(separator: "\n", omittingEmptySubsequences: false).map { line in
            guard line.hasPrefix("#[Max"), let comma = line.firstIndex(of: ",") else { return String(line) }
            let value = formatFixed(Double(m.overall.maxRecorded) / 1e6, 3)
            return "#[Max     = " + String(repeating: " ", count: max(0, 12 - value.count)) + value + line[comma...]
        }
        return "# psync trace stats: \(m.name), send to ..., milliseconds\n" + lines.joined(separator: "\n")
    }

    /// One metric as HdrHistogram's histogram log: one interval, the whole run.
    func hlog(_ m: Metric) -> String {
        HistogramLog.log(m.overall, maximum: m.overall.maxRecorded, seconds: Double(duration) / 1e9,
                         comments: ["[psync trace stats: \(m.name), nanoseconds, \(runColumns.map { "\($0.0)=\($0.1)" }.joined(separator: " "))]"])
    }
}

/// A CSV field, quoted when it holds a comma, a quote or a line break.
func csvField(_ s: String) -> String {
    guard s.contains(where: { $0 == "," || $0 == "\"" || $0 == "\n" }) else { return s }
    return "\"" + s.replacingQuotes + "\""
}

extension String {
    func padding(_ width: Int) -> String { count >= width ? self + " " : self + String(repeating: " ", count: width - count) }
    var replacingQuotes: String { String(flatMap { $0 == "\"" ? ["\"", "\""] : [$0] }) }
    /// A metric name as a file name (`deliver:waves:data` -> `deliver_waves_data`).
    var replacingColons: String { String(map { $0 == ":" ? "_" : $0 }) }
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
