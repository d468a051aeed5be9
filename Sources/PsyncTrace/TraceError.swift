/// Why a trace cannot be written or read (further). Reading errors name the byte offset in the
/// compressed file where the problem starts; records before it were all delivered.
public enum TraceError: Error, Equatable, CustomStringConvertible {
    case io(String)
    /// The file does not start with an LZ4 frame, or its first record is not a trace header.
    case notATrace(String)
    /// The file ends inside a frame: what came before was read; the last frame is incomplete.
    case truncated(offset: Int, records: Int)
    /// The compressed data is damaged (bad frame, checksum mismatch).
    case corrupt(offset: Int, records: Int, detail: String)
    /// A line is not a valid record.
    case badRecord(line: Int, detail: String)
    case closed

    public var description: String {
        switch self {
        case .io(let what): what
        case .notATrace(let why): "not a Psync trace: \(why)"
        case .truncated(let offset, let n): "trace truncated at byte \(offset) (inside an unfinished frame); \(n) complete records read before it"
        case .corrupt(let offset, let n, let detail): "trace corrupt at byte \(offset): \(detail); \(n) complete records read before it"
        case .badRecord(let line, let detail): "record \(line) is invalid: \(detail)"
        case .closed: "the trace is already closed"
        }
    }
}
