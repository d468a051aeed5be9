import CLZ4

/// Turns trace events into LZ4 frames of JSON Lines in a file. Single-threaded; `LZ4TraceWriter`
/// runs it on the recording thread or on a thread of its own.
///
/// The header is a frame of its own. Other records are batched and each batch becomes one whole
/// frame, ended as soon as it holds `maxFrameBytes` (the frame block size, 256 KiB),
/// `maxFrameRecords` records, or records spanning `maxFrameNanoseconds` of trace time. Every
/// frame holds complete records only and is flushed to the file when written, so a process killed
/// mid-run leaves a file whose complete frames all decode. Frames carry block and content
/// checksums, so damage is detected. The frames depend only on the events, never on timing, so
/// the same events always give the same bytes.
final class LZ4FrameEncoder {
    let options: LZ4TraceWriter.Options
    private var file: BinaryFile?
    private var batch = JSONWriter()
    private var batchRecords = 0
    private var batchStart: UInt64?
    private var compressed: [UInt8] = []
    private var prefs = LZ4F_preferences_t()
    /// The first write error; encoding continues silently and `close` throws it.
    private(set) var failure: TraceError?
    private(set) var statistics = LZ4TraceWriter.Statistics()

    init(path: String, options: LZ4TraceWriter.Options) throws(TraceError) {
        self.options = options
        file = try BinaryFile(path: path, mode: "wb")
        prefs.frameInfo.blockSizeID = LZ4F_max256KB
        prefs.frameInfo.blockMode = LZ4F_blockIndependent
        prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
        prefs.frameInfo.blockChecksumFlag = LZ4F_blockChecksumEnabled
        batch.reserve(options.maxFrameBytes + 4096)
    }

    func encode(_ event: TraceEvent) {
        let before = batch.count
        event.write(to: &batch)
        batch.append(UInt8(ascii: "\n"))
        if batch.count > options.maxFrameBytes && batchRecords > 0 {
            // The new record would overfill the frame: write the frame without it.
            let tail = batch.removeTail(from: before)
            writeFrame()
            batch.append(tail)
        }
        batchRecords += 1
        statistics.records += 1
        let start = batchStart ?? event.time
        batchStart = start
        if case .header = event.kind { return writeFrame() }
        if batchRecords >= options.maxFrameRecords || event.time &- start >= options.maxFrameNanoseconds {
            writeFrame()
        }
    }

    /// Ends the current frame now.
    func writeFrame() {
        guard batch.count > 0, failure == nil, let file else { return }
        let bound = LZ4F_compressFrameBound(batch.count, &prefs)
        if compressed.count < bound { compressed = [UInt8](repeating: 0, count: bound) }
        prefs.frameInfo.contentSize = UInt64(batch.count)
        let n = compressed.withUnsafeMutableBytes { dst in
            batch.withUnsafeBytes { src in
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
        statistics.uncompressedBytes += batch.count
        statistics.compressedBytes += n
        statistics.frames += 1
        batch.removeAll()
        batchRecords = 0
        batchStart = nil
    }

    func close() throws(TraceError) {
        writeFrame()
        guard let f = file else { return }
        file = nil
        if let failure { throw failure }
        try f.close()
    }
}
