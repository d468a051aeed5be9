// libFuzzer target over trace files: the reader (LZ4 frames, JSON Lines, record validation) and
// every analysis `psync trace` runs over what it reads (check, stats, dot, Perfetto and ShiViz
// export, the stepper, counterfactual replay). Built and run by Tools/fuzz.sh.
//
// The input's first byte chooses what the rest is: even, the bytes of a trace file as they are
// (the frame decoder and its checksums are fuzzed); odd, the decompressed text, which this
// target wraps in one LZ4 frame (the JSON parser, the record decoder and the analyses are
// fuzzed, past the checksums that would reject almost every mutated frame).
//
// Property: nothing traps, hangs or grows without bound (libFuzzer's -timeout and
// -rss_limit_mb). `psync trace replay --verify` is left out: it runs the simulation a header
// describes, whose length is the configuration's (bounded by `SimulationConfig.problems`, not
// by the input's size).
import Foundation
import LZ4Frame
import Psync
import PsyncAnalysis
import PsyncTrace

private let path = FileManager.default.temporaryDirectory.appendingPathComponent("fuzz-trace-\(getpid()).jsonl.lz4").path

/// The text wrapped in one LZ4 frame, as a trace file holds it.
private func frame(_ text: UnsafeRawBufferPointer) -> [UInt8] {
    var prefs = LZ4F_preferences_t()
    prefs.frameInfo.contentChecksumFlag = LZ4F_contentChecksumEnabled
    var out = [UInt8](repeating: 0, count: LZ4F_compressFrameBound(text.count, &prefs))
    let n = out.withUnsafeMutableBytes { LZ4F_compressFrame($0.baseAddress, $0.count, text.baseAddress, text.count, &prefs) }
    guard LZ4F_isError(n) == 0 else { fatalError("lz4 cannot frame \(text.count) bytes") }
    return Array(out.prefix(n))
}

/// Every analysis over one read of the file, as the `trace` subcommands run them.
private func analyse() {
    var checker = TraceChecker()
    var stats = TraceStatistics()
    var dot = DotExporter()
    var earlier = DotExporter(at: 2_000_000)
    var perfetto = PerfettoExport()
    var shiviz = ShivizExport()
    var stepper = TraceStepper()
    guard let outcome = try? TraceStream.read(path, { e in
        checker.observe(e)
        stats.observe(e)
        dot.observe(e)
        earlier.observe(e)
        _ = perfetto.observe(e)
        _ = shiviz.observe(e)
        _ = stepper.step(e)
    }) else { return }
    _ = checker.finish(complete: outcome.complete, readError: outcome.incompleteness)
    for format in TraceStatistics.Format.allCases { _ = stats.report(format) }
    for layout in DotExporter.Layout.allCases {
        let options = DotExporter.Options(view: ParticipantID(label: "p1"), range: 3...9, title: "fuzz", dataOnly: true, layout: layout)
        if dot.problem(with: options) == nil { _ = dot.dot(options) }
        if earlier.problem(with: options) == nil { _ = earlier.dot(options) }
        _ = dot.dot(.init(layout: layout))
    }
    _ = perfetto.finish()
    for stack in [["causal"], ["waves", "membership"], ["depth-first"], ["quorum"]] {
        _ = try? CounterfactualReplay.statistics(path, filters: stack)
    }
}

/// One input (libFuzzer's `LLVMFuzzerTestOneInput`, handed to its driver by main.swift).
func fuzzOne(_ data: UnsafePointer<UInt8>?, _ size: Int) -> CInt {
    guard let data else { return 0 }
    guard size >= 1 else { return 0 }
    let rest = UnsafeRawBufferPointer(start: data + 1, count: size - 1)
    let bytes = data[0] % 2 == 0 ? Array(rest) : frame(rest)
    guard FileManager.default.createFile(atPath: path, contents: Data(bytes)) else { fatalError("cannot write \(path)") }
    analyse()
    return 0
}
