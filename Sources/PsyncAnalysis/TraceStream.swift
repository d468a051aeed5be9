import PsyncTrace

/// Streams a trace file through an analysis, in constant memory for the reading itself.
public enum TraceStream {
    /// What reading a file came to: its header, how many records, and the error that ended it
    /// early (nil when the whole file was read).
    public struct Outcome: Sendable {
        public var header: TraceHeader
        public var records: Int
        public var error: TraceError?
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
            return Outcome(header: reader.header, records: records, error: error)
        }
        return Outcome(header: reader.header, records: records, error: nil)
    }
}
