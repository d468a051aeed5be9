import Foundation
import Testing
import Psync
import PsyncSimulator
import PsyncTrace

/// Trace files as other programs and damaged disks see them.
@Suite struct TraceFileTests {
    /// `lz4 -dc` (the reference command) decodes a toolkit trace to the same JSON Lines.
    @Test func lz4CommandDecodesTheSameLines() throws {
        let path = temporaryPath("interop.jsonl.lz4")
        try writeSimulationTrace(path, framesOf: 100)
        let (header, events) = try TraceReader.readAll(path: path)
        let ours = [TraceEvent(time: 0, host: nil, .header(header)).jsonLine] + events.map(\.jsonLine)
        let (out, status, _) = try run("lz4", ["-dc", path])
        #expect(status == 0)
        #expect(lines(out) == ours)
        #expect(ours.count > 500)
    }

    /// Python's lz4 package reads every record with `lz4.frame.open`; `lz4.frame.decompress`
    /// reads only the first frame (the trap Traces/FORMAT.md warns about).
    @Test func pythonReadsEveryRecord() throws {
        let path = temporaryPath("python.jsonl.lz4")
        try writeSimulationTrace(path, framesOf: 100)
        let (_, events) = try TraceReader.readAll(path: path)
        let script = """
            import json, sys, lz4.frame
            with lz4.frame.open(sys.argv[1], mode="rt") as f:
                records = [json.loads(line) for line in f]
            assert records[0]["kind"] == "header" and records[0]["schema"] == "psync-trace/1"
            assert all("t" in r and "kind" in r for r in records[1:])
            first = lz4.frame.decompress(open(sys.argv[1], "rb").read()).decode().splitlines()
            print(len(records), len(first))
            """
        let (out, status, err) = try run("python3", ["-c", script, path])
        #expect(status == 0, "\(err)")
        let counts = String(decoding: out, as: UTF8.self).split(separator: " ").compactMap { Int($0.trimmingCharacters(in: .whitespacesAndNewlines)) }
        #expect(counts == [events.count + 1, 1], "all records with open(); only the first frame (the header's own) with decompress()")
    }

    /// A file cut at any byte: the reader returns every record of the complete frames (and of
    /// complete blocks of the unfinished one), then reports the truncation at the unfinished
    /// frame's offset; `lz4 -dc` recovers at least as much.
    @Test func truncatedFilesLoseOnlyTheUnfinishedFrame() throws {
        let path = temporaryPath("whole.jsonl.lz4")
        try writeSimulationTrace(path, framesOf: 40)
        let bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let all = try TraceReader.readAll(path: path).1
        let ends = try frameEnds(path)
        let headerFrameBytes = ends[0]
        // Records in the complete frames before each frame end (a copy cut there reads cleanly).
        var recordsBefore: [Int: Int] = [:]
        for end in ends {
            let copy = temporaryPath("end.jsonl.lz4")
            try bytes.prefix(end).write(to: URL(fileURLWithPath: copy))
            recordsBefore[end] = try TraceReader.readAll(path: copy).1.count
        }
        #expect(ends.count > 5 && ends.last == bytes.count)
        var cuts = Array(stride(from: 5, to: bytes.count, by: max(1, bytes.count / 150)))
        cuts.append(bytes.count - 1)
        var truncationsSeen = 0
        for cut in cuts {
            let truncated = temporaryPath("cut.jsonl.lz4")
            try bytes.prefix(cut).write(to: URL(fileURLWithPath: truncated))
            var read: [TraceEvent] = []
            var failure: TraceError?
            do {
                let reader = try TraceReader(path: truncated)
                try reader.forEach { read.append($0) }
            } catch {
                failure = error
            }
            switch failure {
            case .truncated(let offset, let records)?:
                truncationsSeen += 1
                #expect(offset < cut && records == read.count + 1)
                #expect(read == Array(all.prefix(read.count)), "cut at \(cut): a prefix of the records")
                let lastEnd = ends.last { $0 <= cut }!
                let nextEnd = ends.first { $0 > cut }!
                // Every record of the complete frames; possibly also those of complete (checksummed)
                // blocks of the unfinished frame, as `lz4 -dc` prints them too.
                #expect(read.count >= recordsBefore[lastEnd]! && read.count <= recordsBefore[nextEnd]!, "cut at \(cut)")
                #expect(offset == lastEnd, "the error names where the unfinished frame starts")
                let (out, _, _) = try run("lz4", ["-dc", truncated])
                #expect(lines(out).count >= read.count + 1, "lz4 -dc recovers at least the complete frames")
            case .notATrace?:
                #expect(cut < headerFrameBytes, "only a cut inside the header's frame loses the header")
            case nil:
                Issue.record("cut at \(cut) of \(bytes.count) read cleanly")
            case let other?:
                Issue.record("cut at \(cut): unexpected \(other)")
            }
        }
        #expect(truncationsSeen > 100)
    }

    @Test func corruptFilesReportTheOffsetAfterTheGoodRecords() throws {
        let path = temporaryPath("corrupt-src.jsonl.lz4")
        try writeSimulationTrace(path, framesOf: 40)
        var bytes = try Data(contentsOf: URL(fileURLWithPath: path))
        let all = try TraceReader.readAll(path: path).1
        bytes[bytes.count / 2] ^= 0x5A
        let damaged = temporaryPath("corrupt.jsonl.lz4")
        try bytes.write(to: URL(fileURLWithPath: damaged))
        var read: [TraceEvent] = []
        do {
            let reader = try TraceReader(path: damaged)
            try reader.forEach { read.append($0) }
            Issue.record("damage went unnoticed")
        } catch {
            guard case .corrupt(let offset, _, _) = error else { Issue.record("unexpected \(error)"); return }
            #expect(offset <= bytes.count / 2)
            #expect(read == Array(all.prefix(read.count)))
            #expect(read.count > all.count / 3)
        }
    }

    @Test func filesThatAreNotTracesAreRejected() throws {
        let text = temporaryPath("plain.txt")
        try Data("hello\n".utf8).write(to: URL(fileURLWithPath: text))
        let empty = temporaryPath("empty")
        try Data().write(to: URL(fileURLWithPath: empty))
        let lz4Text = temporaryPath("text.lz4")
        _ = try run("lz4", ["-f", "-q", text, lz4Text])
        for path in [text, empty, lz4Text] {
            #expect(throws: TraceError.self) { try TraceReader(path: path) }
            do { _ = try TraceReader(path: path) } catch {
                guard case .notATrace = error else { Issue.record("\(path): \(error)"); continue }
            }
        }
        #expect(throws: TraceError.io("cannot open /nonexistent/x: No such file or directory")) { try TraceReader(path: "/nonexistent/x") }
    }

    /// Frames end by record count, by size and by trace time (the header has its own frame).
    @Test(arguments: [(10, 1 << 20, UInt64(1) << 40, 3), (1_000_000, 4096, UInt64(1) << 40, 11), (1_000_000, 1 << 20, UInt64(1_000_000_000), 3)])
    func framesEnd(records: Int, bytes: Int, nanoseconds: UInt64, expectedFrames: Int) throws {
        let path = temporaryPath("frames-\(records)-\(bytes).jsonl.lz4")
        var options = LZ4TraceWriter.Options()
        options.maxFrameRecords = records
        options.maxFrameBytes = bytes
        options.maxFrameNanoseconds = nanoseconds
        let writer = try LZ4TraceWriter(path: path, options: options)
        writer.record(TraceEvent(time: 0, host: nil, .header(TraceRoundTripTests.header)))
        let count = nanoseconds < 1 << 40 ? 11 : (records < 100 ? 25 : 1000)
        for i in 0..<count { writer.record(TraceEvent(time: UInt64(i) * 400_000_000, host: HostID(0), .crash)) }
        try writer.close()
        #expect(writer.frames == expectedFrames + 1)
        let (out, _, _) = try run("lz4", ["-dc", path])
        #expect(lines(out).count == count + 1)
    }
}

/// The end offsets of a trace's frames, walked independently of liblz4 from the frame layout:
/// magic, descriptor (flags, block size, 8-byte content size if flagged, header checksum), then
/// blocks of 4-byte size + data (+ 4-byte block checksum), a zero end mark, and a 4-byte content
/// checksum if flagged.
func frameEnds(_ path: String) throws -> [Int] {
    let bytes = [UInt8](try Data(contentsOf: URL(fileURLWithPath: path)))
    var ends: [Int] = []
    var i = 0
    while i < bytes.count {
        let flags = bytes[i + 4]
        i += 4 + 2 + ((flags & 0x08) != 0 ? 8 : 0) + 1
        while true {
            let size = Int(bytes[i]) | Int(bytes[i + 1]) << 8 | Int(bytes[i + 2]) << 16 | Int(bytes[i + 3] & 0x7F) << 24
            i += 4
            if size == 0 { break }
            i += size + ((flags & 0x10) != 0 ? 4 : 0)
        }
        i += (flags & 0x04) != 0 ? 4 : 0
        ends.append(i)
    }
    return ends
}
