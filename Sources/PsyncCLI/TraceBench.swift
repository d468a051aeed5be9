import ArgumentParser
import Psync
import PsyncSimulator
import PsyncTrace

/// `psync bench trace`: the trace writer's throughput and compression on a typical simulation
/// trace, and what tracing costs a simulation, each against a baseline measured in the same run.
struct TraceBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "trace", abstract: "Trace writer throughput, compression ratio, and cost of tracing a simulation.")

    @Option(help: "Events written for the throughput figure.") var events = 2_000_000
    @Option(help: "Runs per figure; the fastest is reported.") var repeats = 3
    @Option(help: "Where to write the trace files.") var directory = "/tmp"

    /// A typical workload: 8 participants, some loss and reordering, replies.
    var workload: SimulationConfig {
        var c = SimulationConfig(seed: 42, participants: 8)
        c.workload = Workload(messagesPerParticipant: 300, meanIntervalNanoseconds: 5_000_000, replyProbability: 0.2)
        c.network.link = LinkModel(delay: .uniform(lowNanoseconds: 1_000_000, highNanoseconds: 4_000_000),
                                   lossProbability: 0.02, duplicateProbability: 0.01, reorderProbability: 0.05)
        c.recordsHistory = false
        return c
    }

    func run() throws {
        let sample = MemoryTraceSink()
        Simulator(workload, trace: sample).run()
        let recorded = sample.events
        print("typical trace: \(recorded.count) events from a simulation of 8 participants x 300 messages")

        // 1. Serialization alone (baseline), then serialization + LZ4 + file.
        let serialize = best { () -> Int in
            var w = JSONWriter()
            var total = 0
            for i in 0..<events {
                recorded[i % recorded.count].write(to: &w)
                if w.count > 1 << 20 { total += w.count; w.removeAll() }
            }
            return total + w.count
        }
        let path = "\(directory)/psync-bench-writer.jsonl.lz4"
        var ratio = 0.0
        let write = try bestThrowing { () throws(TraceError) -> Int in
            let writer = try LZ4TraceWriter(path: path)
            for i in 0..<events { writer.record(recorded[i % recorded.count]) }
            try writer.close()
            ratio = Double(writer.uncompressedBytes) / Double(writer.compressedBytes)
            return writer.compressedBytes
        }
        print("writer: \(rate(events, serialize)) events/s serializing only (baseline), \(rate(events, write)) events/s to an lz4 file (\(format2(serialize / write))x of baseline)")

        // 2. Compression of the typical trace itself, as the simulator writes it.
        let tracePath = "\(directory)/psync-bench-typical.jsonl.lz4"
        let writer = try LZ4TraceWriter(path: tracePath)
        Simulator(workload, trace: writer).run()
        try writer.close()
        print("compression: \(writer.uncompressedBytes) bytes of JSON Lines -> \(writer.compressedBytes) bytes in \(writer.frames) frames: \(format2(Double(writer.uncompressedBytes) / Double(writer.compressedBytes)))x (writer benchmark file: \(format2(ratio))x)")

        // 3. The same simulation without tracing (baseline) and tracing to an lz4 file.
        let off = best { () -> Int in Simulator(workload).run().network.packetsSent }
        let on = try bestThrowing { () throws(TraceError) -> Int in
            let w = try LZ4TraceWriter(path: tracePath)
            let packets = Simulator(workload, trace: w).run().network.packetsSent
            try w.close()
            return packets
        }
        let discarding = best { () -> Int in Simulator(workload, trace: DiscardingSink()).run().network.packetsSent }
        print("simulation: \(format1(off / 1e6)) ms untraced (baseline), \(format1(on / 1e6)) ms traced to lz4: speed \(format2(off / on))x of untraced")
        print("            (\(format1(discarding / 1e6)) ms building the events and discarding them: \(format2(off / discarding))x)")
    }

    /// Fastest of `repeats` runs, in nanoseconds. The result is kept so the work is not elided.
    func best(_ body: () -> Int) -> Double {
        var fastest = Double.infinity
        var sink = 0
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            sink &+= body()
            fastest = min(fastest, nanoseconds(ContinuousClock.now - start))
        }
        if sink == Int.min { print(sink) }
        return fastest
    }

    func bestThrowing(_ body: () throws(TraceError) -> Int) throws(TraceError) -> Double {
        var fastest = Double.infinity
        for _ in 0..<repeats {
            let start = ContinuousClock.now
            _ = try body()
            fastest = min(fastest, nanoseconds(ContinuousClock.now - start))
        }
        return fastest
    }
}

func nanoseconds(_ d: Duration) -> Double {
    Double(d.components.seconds) * 1e9 + Double(d.components.attoseconds) / 1e9
}

func rate(_ count: Int, _ ns: Double) -> Int { Int(Double(count) / ns * 1e9) }

/// Receives events and keeps nothing: isolates the cost of building them.
final class DiscardingSink: TraceSink {
    func record(_ event: TraceEvent) {}
    func close() throws(TraceError) {}
}
