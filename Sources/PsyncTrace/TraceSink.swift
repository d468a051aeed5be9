/// Where trace events go. A shell holds an optional sink; with none, it builds no events at all
/// (and the engine is configured not to report them), so tracing off costs nothing.
public protocol TraceSink: AnyObject {
    func record(_ event: TraceEvent)
    /// Writes out anything buffered. Called on normal exit; later records are an error.
    func close() throws(TraceError)
}

/// Keeps every event in memory: for tests and for tools that analyze a run in process.
public final class MemoryTraceSink: TraceSink {
    public private(set) var events: [TraceEvent] = []
    public init() {}
    public func record(_ event: TraceEvent) { events.append(event) }
    public func close() throws(TraceError) {}
}

/// Prints each event as a line of JSON as it happens: for watching a run, or piping to `jq`.
public final class TextTraceSink: TraceSink {
    let write: (String) -> Void
    /// `write` receives each line, without its newline (default: standard output).
    public init(write: @escaping (String) -> Void = { print($0) }) { self.write = write }
    public func record(_ event: TraceEvent) { write(event.jsonLine) }
    public func close() throws(TraceError) {}
}
