import ArgumentParser
import Psync
import PsyncAnalysis
import PsyncSimulator
import PsyncTrace
#if canImport(Glibc)
import Glibc
#endif

/// `psync bench tools`: events per second of the offline tools on a trace of at least
/// `--events` records, and their peak memory on that trace and on one twice as long (measured
/// in child processes), which shows whether memory depends on the trace's length.
struct ToolsBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "tools", abstract: "Throughput and peak memory of trace stats, check and dot.")

    @Option(help: "Records in the benchmark trace (at least).") var events = 1_000_000
    @Option(help: "Where to write the traces.") var directory = "/tmp"

    /// A simulation of 8 participants sized to produce about `records` trace records.
    func trace(records: Int, path: String) throws -> Int {
        var config = SimulationConfig(seed: 11, participants: 8, filters: ["waves"])
        // About 1,900 records per message of each participant (2026-11-28; the constant was
        // 20,000 while recovery flooded under loss, and traces held far fewer messages).
        config.workload = Workload(messagesPerParticipant: max(10, records / 1_900), meanIntervalNanoseconds: 5_000_000, replyProbability: 0.1)
        config.network.link = LinkModel(delay: .uniform(lowNanoseconds: 1_000_000, highNanoseconds: 4_000_000), lossProbability: 0.02)
        config.recordsHistory = false
        let writer = try LZ4TraceWriter(path: path)
        Simulator(config, trace: writer).run()
        try writer.close()
        return writer.recordsWritten
    }

    func run() throws {
        let small = "\(directory)/psync-bench-tools-1x.jsonl.lz4", large = "\(directory)/psync-bench-tools-2x.jsonl.lz4"
        let n1 = try trace(records: events, path: small)
        let n2 = try trace(records: events * 2, path: large)
        print("traces: \(n1) records (\(small)), \(n2) records (\(large))")
        var readOnly = 0
        let baseline = try time { _ = try TraceStream.read(small) { _ in readOnly += 1 } }
        print("read and decode only (baseline): \(rate(n1, baseline)) records/s")
        var stats = TraceStatistics()
        let s = try time { _ = try TraceStream.read(small) { stats.observe($0) } }
        var checker = TraceChecker()
        let c = try time { _ = try TraceStream.read(small) { checker.observe($0) } }
        var dot = DotExporter()
        let d = try time {
            _ = try TraceStream.read(small) { dot.observe($0) }
            _ = dot.dot()
        }
        for (name, ns) in [("stats", s), ("check", c), ("dot", d)] {
            print("\(name.padding(toLength: 6)) \(rate(n1, ns)) records/s (\(format2(baseline / ns))x of reading alone)")
        }
        guard let me = CommandLine.arguments.first.map({ $0.hasPrefix("/") ? $0 : currentDirectory() + "/" + $0 }) else { return }
        for tool in [["trace", "stats", "--format", "csv"], ["trace", "check"], ["trace", "dot", "-o", "/dev/null"]] {
            let m1 = peakMemory(me, tool + [small]), m2 = peakMemory(me, tool + [large])
            print("\(tool[1].padding(toLength: 6)) peak memory: \(m1 / 1024) MiB at \(n1) records, \(m2 / 1024) MiB at \(n2) records (\(format2(Double(m2) / Double(max(m1, 1))))x)")
        }
    }

    func time(_ body: () throws -> Void) throws -> Double {
        let start = ContinuousClock.now
        try body()
        return nanoseconds(ContinuousClock.now - start)
    }

    /// Runs this program with `arguments` in a child process under GNU time (`/usr/bin/time`,
    /// Debian package `time`), which reports the child's own peak resident set, in KiB. (A
    /// spawned child's rusage would count the parent's memory it shared before exec.)
    func peakMemory(_ executable: String, _ arguments: [String]) -> Int {
        let report = "\(directory)/psync-bench-tools-rss.txt"
        var pid: pid_t = 0
        var actions = posix_spawn_file_actions_t()
        posix_spawn_file_actions_init(&actions)
        posix_spawn_file_actions_addopen(&actions, 1, "/dev/null", O_WRONLY, 0)
        defer { posix_spawn_file_actions_destroy(&actions) }
        let argv = (["/usr/bin/time", "-f", "%M", "-o", report, executable] + arguments).map { strdup($0) } + [nil]
        defer { for a in argv { free(a) } }
        guard posix_spawn(&pid, "/usr/bin/time", &actions, nil, argv, environ) == 0 else { return 0 }
        var status: Int32 = 0
        guard waitpid(pid, &status, 0) == pid, let f = fopen(report, "r") else { return 0 }
        defer { fclose(f) }
        var kib = 0
        _ = withUnsafeMutablePointer(to: &kib) { p in vfscanf_wrapper(f, p) }
        return kib
    }
}

/// Reads one integer from `f` (C's fscanf is variadic, which Swift cannot call).
func vfscanf_wrapper(_ f: UnsafeMutablePointer<FILE>, _ out: UnsafeMutablePointer<Int>) -> Int32 {
    var line = [CChar](repeating: 0, count: 64)
    guard fgets(&line, 64, f) != nil else { return 0 }
    let text = String(decoding: line.prefix { $0 != 0 }.map { UInt8(bitPattern: $0) }, as: UTF8.self)
    out.pointee = Int(text.trimmingCharacters()) ?? 0
    return 1
}

extension String {
    func trimmingCharacters() -> String { String(drop { $0 == " " }.prefix { $0 != "\n" && $0 != " " }) }
}

extension String {
    func padding(toLength n: Int) -> String { count >= n ? self : self + String(repeating: " ", count: n - count) }
}

func currentDirectory() -> String {
    var buffer = [CChar](repeating: 0, count: 4096)
    return getcwd(&buffer, buffer.count).map { String(cString: $0) } ?? "."
}
