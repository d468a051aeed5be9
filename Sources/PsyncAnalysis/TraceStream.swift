import PsyncTrace

/// Streams a trace file, or the merge of one real run's per-process traces, through an
/// analysis, in constant memory for the reading itself.
public enum TraceStream {
    /// What reading came to: the header, how many records, and the error that ended a file
    /// early (nil when every record written was read).
    public struct Outcome: Sendable {
        public var header: TraceHeader
        /// Records passed to the analysis, the header included.
        public var records: Int
        public var error: TraceError?
        /// The file `error` is about.
        public var errorPath: String?
        /// What merging noticed that is not an error (`TraceMerge.notes`); empty for one file.
        public var notes: [String] = []
        /// Why a trace read without error still does not show a whole run: it has no `end`
        /// record (the process was killed), or its simulation was stopped before quiescence.
        public var unfinished: String?
        /// Whether the trace shows a whole run: every record written was read, up to `end`.
        public var complete: Bool { error == nil && unfinished == nil }
        /// A model checker's counterexample (`EndReason.counterexample`): whole, but it stops
        /// where a property broke, so what holds only at quiescence cannot be asked of it.
        public var isCounterexample = false
        /// What stops the trace from showing a whole run, for a message: damage, or the end.
        public var incompleteness: String? {
            if let error { return "\(errorPath ?? "-"): \(error)" }
            return unfinished
        }
    }

    /// Why a trace that ends with `last` (read to its end, without error) is not a whole run:
    /// a single trace must end with `end`, and a simulation's (virtual clock) must say it ran to
    /// quiescence; a real run's processes end `done` or on a signal, and so does the merged
    /// stream `psync trace cat` writes of them. (Merged per-process traces are the merge's
    /// business: a process without `end` is merged as a crashed host.)
    static func unfinished(_ header: TraceHeader, last: TraceEvent.Kind?) -> String? {
        guard case .end(let reason)? = last else {
            return "the trace has no end record: the run was cut short (killed?)"
        }
        if header.clock == "virtual", reason != EndReason.quiescent.rawValue, reason != EndReason.counterexample.rawValue {
            return "the simulation ended '\(reason)' before quiescence"
        }
        return nil
    }

    /// Calls `body` with the header record and then every event. A file that is not a trace
    /// throws; damage later in the file ends the stream and is returned in the outcome.
    public static func read(_ path: String, _ body: (TraceEvent) -> Void) throws(TraceError) -> Outcome {
        let reader = try TraceReader(path: path)
        body(TraceEvent(time: 0, host: nil, .header(reader.header)))
        var records = 1
        var last: TraceEvent.Kind?
        do {
            try reader.forEach { e in
                records += 1
                last = e.kind
                body(e)
            }
        } catch {
            return Outcome(header: reader.header, records: records, error: error, errorPath: path)
        }
        var outcome = Outcome(header: reader.header, records: records, error: nil, unfinished: unfinished(reader.header, last: last))
        if case .end(EndReason.counterexample.rawValue)? = last { outcome.isCounterexample = true }
        return outcome
    }

    /// One file as `read(_: String, _:)` reads it; several as one stream (`TraceMerge`): the
    /// per-process traces of one real run.
    public static func read(_ paths: [String], _ body: (TraceEvent) -> Void) throws(TraceMerge.Failure) -> Outcome {
        if paths.count == 1 {
            do { return try read(paths[0], body) } catch { throw .unreadable(path: paths[0], error) }
        }
        let merge = try TraceMerge(paths: paths)
        body(TraceEvent(time: 0, host: nil, .header(merge.header)))
        var records = 1
        while let e = merge.next() {
            records += 1
            body(e)
        }
        return Outcome(header: merge.header, records: records, error: merge.damage?.error, errorPath: merge.damage?.path, notes: merge.notes)
    }
}
