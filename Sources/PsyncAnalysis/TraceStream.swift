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
        public var complete: Bool { error == nil }
    }

    /// Calls `body` with the header record and then every event. A file that is not a trace
    /// throws; damage later in the file ends the stream and is returned in the outcome.
    public static func read(_ path: String, _ body: (TraceEvent) -> Void) throws(TraceError) -> Outcome {
        let reader = try TraceReader(path: path)
        body(TraceEvent(time: 0, host: nil, .header(reader.header)))
        var records = 1
        do {
            try reader.forEach { e in
                records += 1
                body(e)
            }
        } catch {
            return Outcome(header: reader.header, records: records, error: error, errorPath: path)
        }
        return Outcome(header: reader.header, records: records, error: nil)
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
