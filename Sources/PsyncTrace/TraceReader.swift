import CLZ4
#if canImport(Glibc)
import Glibc
#endif

/// Reads a trace file as a stream of typed events, in constant memory whatever the file's size.
///
/// On damage it delivers every complete record it could decode and then throws an error naming
/// the byte offset where the damaged frame starts: `.truncated` when the file ends inside a frame
/// (a killed writer), `.corrupt` when a frame fails to decode or its checksum. Blocks carry their
/// own checksums, so records of an unfinished frame's complete blocks are delivered too (as
/// `lz4 -dc` prints them), never records of a damaged block. A file that is not a trace gets
/// `.notATrace` from the initializer.
public final class TraceReader {
    public let path: String
    public private(set) var header: TraceHeader
    /// Records returned so far, the header included.
    public private(set) var recordsRead = 0

    private let file: BinaryFile
    private var dctx: OpaquePointer?
    private var input: [UInt8]
    private var inputStart = 0
    private var inputEnd = 0
    /// Compressed bytes consumed by the decoder, and where the current frame began.
    private var consumed = 0
    private var frameStart = 0
    /// Whether the decoder is in the middle of a frame.
    private var inFrame = false
    private var atEndOfFile = false
    private var output: [UInt8]
    private var lines: [UInt8] = []
    private var lineStart = 0
    private var finished = false
    /// The time of the last record returned: a trace's records never go back in time.
    private var lastTime: UInt64 = 0

    /// The latest time a record may carry: 2^62 ns (146 years) leaves room for the timers that
    /// analyses add to record times (a replay's filters), which would otherwise wrap.
    public static let latestTime: UInt64 = 1 << 62

    public init(path: String, chunkBytes: Int = 64 * 1024) throws(TraceError) {
        self.path = path
        file = try BinaryFile(path: path, mode: "rb")
        input = [UInt8](repeating: 0, count: chunkBytes)
        output = [UInt8](repeating: 0, count: 256 * 1024)
        var ctx: OpaquePointer?
        let code = LZ4F_createDecompressionContext(&ctx, UInt32(LZ4F_VERSION))
        guard LZ4F_isError(code) == 0 else { throw .io("lz4: \(String(cString: LZ4F_getErrorName(code)))") }
        dctx = ctx
        header = .init(schema: "", clock: "", seed: nil, participants: [], conversation: nil)
        let first: TraceEvent?
        do {
            first = try nextEvent()
        } catch {
            switch error {
            case .corrupt(_, _, let detail): throw .notATrace(detail)
            case .truncated: throw .notATrace("the file ends before the first record")
            case .badRecord(_, let detail): throw .notATrace("the first line is not a trace header (\(detail))")
            default: throw error
            }
        }
        guard let first, case .header(let h) = first.kind else {
            throw .notATrace(first == nil ? "the file is empty" : "the first record is not a header")
        }
        header = h
    }

    deinit { LZ4F_freeDecompressionContext(dctx) }

    /// The next event after the header, or nil at the clean end of the file.
    public func next() throws(TraceError) -> TraceEvent? { try nextEvent() }

    /// Calls `body` for every remaining event.
    public func forEach(_ body: (TraceEvent) throws(TraceError) -> Void) throws(TraceError) {
        while let e = try next() { try body(e) }
    }

    /// Reads the whole file: the header's events, or the first error. For small traces.
    public static func readAll(path: String) throws(TraceError) -> (TraceHeader, [TraceEvent]) {
        let reader = try TraceReader(path: path)
        var events: [TraceEvent] = []
        try reader.forEach { events.append($0) }
        return (reader.header, events)
    }

    private func nextEvent() throws(TraceError) -> TraceEvent? {
        while true {
            if let line = nextLine() {
                recordsRead += 1
                let parsed: Result<TraceEvent, TraceError> = line.withUnsafeBufferPointer { buffer in
                    do throws(JSONError) {
                        let value = try JSONParser.parse(buffer)
                        do throws(TraceFormatError) {
                            return .success(try TraceEvent(json: value))
                        } catch {
                            return .failure(.badRecord(line: recordsRead, detail: error.description))
                        }
                    } catch {
                        return .failure(.badRecord(line: recordsRead, detail: error.description))
                    }
                }
                let event = try parsed.get()
                try checkTime(of: event)
                return event
            }
            if finished { return nil }
            try decodeMore()
        }
    }

    /// Records are written as they happen: along a simulation's trace, time never decreases; one
    /// that does was edited or damaged, and every latency and replay computed from it would be
    /// wrong. No trace time may pass `latestTime`.
    private func checkTime(of event: TraceEvent) throws(TraceError) {
        // A simulation's one virtual clock never goes back. A process's records may be a few
        // microseconds out of order (its threads stamp events before recording them), so for
        // a real run only the bound is checked (the analyses never subtract a later time from
        // an earlier one: see `TraceStatistics.latency`).
        guard event.time >= lastTime || header.clock != "virtual" else {
            throw .badRecord(line: recordsRead, detail: "time goes backwards: t=\(event.time) after t=\(lastTime)")
        }
        guard event.time <= Self.latestTime else {
            throw .badRecord(line: recordsRead, detail: "t=\(event.time) is beyond the latest trace time, 2^62 ns")
        }
        lastTime = max(lastTime, event.time)
    }

    /// The next complete line of decoded text, without its newline.
    private func nextLine() -> ArraySlice<UInt8>? {
        let start = lineStart
        let newline: Int? = lines.withUnsafeBufferPointer { buffer in
            guard start < buffer.count, let base = buffer.baseAddress,
                  let hit = memchr(base + start, Int32(UInt8(ascii: "\n")), buffer.count - start) else { return nil }
            return base.distance(to: hit.assumingMemoryBound(to: UInt8.self))
        }
        guard let nl = newline else {
            if lineStart > 0 {
                lines.removeSubrange(0..<lineStart)
                lineStart = 0
            }
            return nil
        }
        lineStart = nl + 1
        return lines[start..<nl]
    }

    /// Feeds the decoder until it produces output, or the file ends.
    private func decodeMore() throws(TraceError) {
        while true {
            if inputStart == inputEnd && !atEndOfFile {
                let n = try file.read(into: &input)
                inputStart = 0
                inputEnd = n
                if n == 0 { atEndOfFile = true }
            }
            if inputStart == inputEnd && atEndOfFile {
                finished = true
                let complete = recordsRead
                if inFrame { throw .truncated(offset: frameStart, records: complete) }
                if lineStart < lines.count {
                    throw .corrupt(offset: consumed, records: complete, detail: "the last frame ends inside a record")
                }
                return
            }
            if consumed == 0 && inputEnd - inputStart >= 4 {
                let magic = UInt32(input[inputStart]) | UInt32(input[inputStart + 1]) << 8 | UInt32(input[inputStart + 2]) << 16 | UInt32(input[inputStart + 3]) << 24
                guard magic == 0x184D_2204 else {
                    finished = true
                    throw .notATrace("no LZ4 frame at the start of the file")
                }
            }
            var srcSize = inputEnd - inputStart
            var dstSize = output.count
            let code = input.withUnsafeBytes { src in
                output.withUnsafeMutableBytes { dst in
                    LZ4F_decompress(dctx, dst.baseAddress, &dstSize, src.baseAddress! + inputStart, &srcSize, nil)
                }
            }
            guard LZ4F_isError(code) == 0 else {
                finished = true
                throw .corrupt(offset: frameStart, records: recordsRead, detail: String(cString: LZ4F_getErrorName(code)))
            }
            inputStart += srcSize
            consumed += srcSize
            inFrame = code != 0
            if dstSize > 0 { lines.append(contentsOf: output[0..<dstSize]) }
            if !inFrame {
                // The writer ends every frame with a complete record.
                guard lineStart == lines.count || lines.last == UInt8(ascii: "\n") else {
                    finished = true
                    throw .corrupt(offset: frameStart, records: recordsRead, detail: "a frame ends inside a record")
                }
                frameStart = consumed
            }
            if dstSize > 0 { return }
        }
    }
}
