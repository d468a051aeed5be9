import CLZ4

/// Writes a trace file: LZ4 frames (the standard frame format, readable by `lz4 -dc`) whose
/// content is JSON Lines. The producer records the header first (`TraceReader` insists).
///
/// The header is a frame of its own. Other records are batched and each batch becomes one
/// whole frame, ended as soon as it holds
/// `maxFrameBytes` (the frame block size, 256 KiB), `maxFrameRecords` records, or records
/// spanning `maxFrameNanoseconds` of trace time. Every frame holds complete records only and is
/// flushed to the file when written, so a process killed mid-run leaves a file whose complete
/// frames all decode. Frames carry block and content checksums, so damage is detected.
public final class LZ4TraceWriter: TraceSink {
    public struct Options: Sendable {
        public var maxFrameBytes = 256 * 1024
        public var maxFrameRecords = 16_384
        public var maxFrameNanoseconds: UInt64 = 1_000_000_000
        public init() {}
    }

    public let options: Options
    private var file: BinaryFile?
    private var batch = JSONWriter()
    private var batchRecords = 0
    private var batchStart: UInt64?
    private var compressed: [UInt8] = []
    private var prefs = LZ4F_preferences_t()
    /// The first write error; recording continues silently and `close` throws it.
    private var failure: TraceError?
    public private(set) var recordsWritten = 0
    public private(set) var uncompressedBytes = 0
    public private(set) var compressedBytes = 0
    public private(set) var frames = 0

    public init(path: String, options: Options = Options()) throws(TraceError) {
        self.options = options
        file = try BinaryFile(path: path, mode: "wb")
        prefs.frameInfo.blockSizeID = LZ4F_max256KB
        prefs.frameInfo.blockMode = LZ4F_blockIndependent
        prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled
        batch.bytes.reserveCapacity(options.maxFrameBytes + 4096)
    }

    public func record(_ event: TraceEvent) {
        let before = batch.bytes.count
        event.write(to: &batch)
        batch.bytes.append(UInt8(ascii: "\n"))
        if batch.bytes.count > options.maxFrameBytes && batchRecords > 0 {
            // The new record would overfill the frame: write the frame without it.
            let tail = Array(batch.bytes[before...])
            batch.bytes.removeSubrange(before...)
            writeFrame()
            batch.bytes.append(contentsOf: tail)
        }
        batchRecords += 1
        recordsWritten += 1
        let start = batchStart ?? event.time
        batchStart = start
        // The header gets a frame of its own, so that a run killed early still names itself.
        if case .header = event.kind { return writeFrame() }
        if batchRecords >= options.maxFrameRecords || event.time &- start >= options.maxFrameNanoseconds {
            writeFrame()
        }
    }

    /// Writes the pending records as a frame now. Real-time shells call this from a timer so
    /// that a quiet run still ends a frame every second.
    public func flush() throws(TraceError) {
        writeFrame()
        if let failure { throw failure }
    }

    public func close() throws(TraceError) {
        guard let f = file else { return }
        writeFrame()
        file = nil
        if let failure { throw failure }
        try f.close()
    }

    private func writeFrame() {
        guard !batch.bytes.isEmpty, failure == nil, let file else { return }
        let bound = LZ4F_compressFrameBound(batch.bytes.count, &prefs)
        if compressed.count < bound { compressed = [UInt8](repeating: 0, count: bound) }
        prefs.frameInfo.contentSize = UInt64(batch.bytes.count)
        let n = compressed.withUnsafeMutableBytes { dst in
            batch.bytes.withUnsafeBytes { src in
                LZ4F_compressFrame(dst.baseAddress, dst.count, src.baseAddress, src.count, &prefs)
            }
        }
        do throws(TraceError) {
            guard LZ4F_isError(n) == 0 else { throw .io("lz4 compression failed: \(String(cString: LZ4F_getErrorName(n)))") }
            try file.write(compressed, count: n)
            try file.flush()
        } catch {
            failure = error
        }
        uncompressedBytes += batch.bytes.count
        compressedBytes += n
        frames += 1
        batch.bytes.removeAll(keepingCapacity: true)
        batchRecords = 0
        batchStart = nil
    }
}
