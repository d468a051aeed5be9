import ArgumentParser
import Foundation
import Psync
import PsyncSimulator

/// `psync bench memory`: Section 3.3 measured. One long simulated conversation, run twice in
/// child processes (resident memory is a per-process figure): with reclamation (buffers freed
/// once held everywhere, graph nodes beyond the threshold Θ reclaimed) and without (every
/// payload and node kept). Each child prints its resident set every `--sample` messages; the
/// table puts them side by side, then the peaks, the growth per message, and whether the
/// reclaiming run stayed flat after warm-up.
///
/// The simulation keeps no per-message bookkeeping (`recordsHistory` off), so what grows is the
/// engine's; it is checked in constant memory at the end: the images hold the same messages
/// (per-sender frontiers) and every participant received every message of the others.
struct MemoryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "memory", abstract: "Resident memory of a long conversation, with and without Section 3.3's reclamation.")

    @OptionGroup var options: MemoryRunOptions
    @Option(help: "Peak resident set the reclaiming run must stay under, MB.") var targetMegabytes = 64.0

    func run() throws {
        let binary = URL(fileURLWithPath: CommandLine.arguments[0]).path
        print("psync bench memory: \(options.messages) messages among \(options.participants) participants, loss \(options.loss), payload \(options.payload) bytes, Θ = \(options.retain)")
        let reclaiming = try child(binary, keep: false)
        let keeping = try child(binary, keep: true)
        print("")
        print("| messages sent | with reclamation, RSS MB | without, RSS MB |")
        print("| ---: | ---: | ---: |")
        for (a, b) in zip(reclaiming.samples, keeping.samples) {
            print("| \(a.messages) | \(mb(a.rssKB)) | \(mb(b.rssKB)) |")
        }
        print("| peak (VmHWM, building the run's result included) | \(mb(reclaiming.peakKB)) | \(mb(keeping.peakKB)) |")
        print("")
        for (name, r) in [("with reclamation", reclaiming), ("without", keeping)] {
            print("\(name): \(r.summary)")
        }
        let growth = keeping.growthBytesPerMessage
        print(String(format: "without reclamation: %.0f bytes of resident memory per message (%.0f per message per participant's image)",
                     growth, growth / Double(options.participants)))
        let flat = reclaiming.flatAfterWarmUpKB
        print(String(format: "with reclamation: peak %@ MB (target < %.0f MB: %@); after warm-up (first 20%%) RSS moves by %@ MB (%@)",
                     mb(reclaiming.peakKB), targetMegabytes, Double(reclaiming.peakKB) / 1024 < targetMegabytes ? "met" : "NOT met",
                     mb(flat), Double(flat) < Double(reclaiming.peakKB) * 0.1 ? "flat" : "NOT flat"))
        if let a = reclaiming.samples.last, let b = keeping.samples.last {
            print(String(format: "at %d messages, without / with: %.1fx the resident memory", a.messages, Double(b.rssKB) / Double(max(a.rssKB, 1))))
        }
        guard reclaiming.checked && keeping.checked else { throw ExitCode(1) }
    }

    func mb(_ kb: Int) -> String { String(format: "%.1f", Double(kb) / 1024) }

    /// Runs one variant in a child process and reads its samples.
    func child(_ binary: String, keep: Bool) throws -> MemoryRunReport {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: binary)
        p.arguments = ["bench", "memory-run"] + options.arguments + (keep ? ["--keep"] : [])
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        guard p.terminationStatus == 0, let report = MemoryRunReport(parsing: text) else {
            throw ValidationError("the \(keep ? "keeping" : "reclaiming") run failed (status \(p.terminationStatus)):\n\(text)")
        }
        return report
    }
}

/// The conversation `psync bench memory` measures.
struct MemoryRunOptions: ParsableArguments {
    @Option(help: "Messages in the conversation (all participants together).") var messages = 1_000_000
    @Option(help: "Participants, one per host.") var participants = 4
    @Option(help: "Probability that a packet is lost.") var loss = 0.01
    @Option(help: "Payload bytes per message.") var payload = 64
    @Option(help: "Section 3.3's threshold Θ of the reclaiming run.") var retain = 10_000
    @Option(help: "Print the resident set every this many messages.") var sample = 100_000
    @Option(help: "Seed of the run.") var seed: UInt64 = 1

    func validate() throws {
        guard participants >= 2, messages >= participants, sample >= 1, retain >= 1, payload >= 2 else {
            throw ValidationError("need 2+ participants, a message per participant, and positive --sample, --retain, --payload")
        }
    }

    var arguments: [String] {
        ["--messages", "\(messages)", "--participants", "\(participants)", "--loss", "\(loss)", "--payload", "\(payload)",
         "--retain", "\(retain)", "--sample", "\(sample)", "--seed", "\(seed)"]
    }
}

/// `psync bench memory-run`: one variant of `psync bench memory`, in its own process.
struct MemoryRun: ParsableCommand {
    static let configuration = CommandConfiguration(commandName: "memory-run", abstract: "One run of 'psync bench memory'.",
                                                    shouldDisplay: false)
    @OptionGroup var options: MemoryRunOptions
    @Flag(help: "Keep every payload and node (the baseline).") var keep = false

    func run() throws {
        var host = HostConfig()
        host.reportsEvents = false
        host.reclaimsPayloads = !keep
        host.retainedNodes = keep ? nil : options.retain
        let config = SimulationConfig(
            seed: options.seed, participants: options.participants,
            workload: Workload(messagesPerParticipant: options.messages / options.participants, meanIntervalNanoseconds: 1_000_000,
                               payloadBytes: options.payload),
            network: NetworkModel(link: LinkModel(lossProbability: options.loss)), host: host, recordsHistory: false)
        let simulator = Simulator(config)
        var next = options.sample
        simulator.onProgress = { progress in
            while progress.dataSent >= next {
                print("sample \(next) \(ResidentMemory.currentKB)")
                next += options.sample
            }
        }
        let start = Date()
        let result = simulator.run()
        let seconds = Date().timeIntervalSince(start)
        // Constant-memory checks: same messages everywhere, every participant received them all.
        let cid = config.conversation
        let allReceived = simulator.hosts.indices.allSatisfy { i in
            (try? simulator.hosts[i].viewFrontier(cid, as: config.participantIDs[i])) == simulator.hosts[i].frontier(cid)
        }
        let live = result.memory.compactMap { $0?.liveNodes }.max() ?? 0
        let payloadBytes = result.memory.compactMap { $0?.payloadBytes }.max() ?? 0
        print("peak \(ResidentMemory.peakKB) seconds \(String(format: "%.1f", seconds)) sent \(result.dataSent) converged \(result.converged) received \(allReceived) live \(live) payloadBytes \(payloadBytes) lost \(result.network.lost)")
    }
}

/// What one `memory-run` printed.
struct MemoryRunReport {
    var samples: [(messages: Int, rssKB: Int)] = []
    var peakKB = 0
    var fields: [String: String] = [:]

    init?(parsing text: String) {
        for line in text.split(separator: "\n") {
            let words = line.split(separator: " ").map(String.init)
            if words.first == "sample", words.count == 3, let m = Int(words[1]), let kb = Int(words[2]) {
                samples.append((m, kb))
            } else if words.first == "peak", words.count >= 2, let kb = Int(words[1]) {
                peakKB = kb
                for k in stride(from: 2, to: words.count - 1, by: 2) { fields[words[k]] = words[k + 1] }
            }
        }
        guard peakKB > 0, !samples.isEmpty else { return nil }
    }

    var checked: Bool { fields["converged"] == "true" && fields["received"] == "true" }

    var summary: String {
        "\(fields["sent"] ?? "?") messages in \(fields["seconds"] ?? "?") s, \(fields["lost"] ?? "?") packets lost; converged \(fields["converged"] ?? "?"), every participant received everything \(fields["received"] ?? "?"); at the end \(fields["live"] ?? "?") live graph nodes and \(fields["payloadBytes"] ?? "?") payload bytes per image"
    }

    /// Resident growth per message between the first and the last sample.
    var growthBytesPerMessage: Double {
        guard let first = samples.first, let last = samples.last, last.messages > first.messages else { return 0 }
        return Double(last.rssKB - first.rssKB) * 1024 / Double(last.messages - first.messages)
    }

    /// How far the resident set moves after the first fifth of the run (the warm-up).
    var flatAfterWarmUpKB: Int {
        let after = samples.dropFirst(max(1, samples.count / 5)).map(\.rssKB)
        guard let low = after.min(), let high = after.max() else { return 0 }
        return high - low
    }
}

/// The process's resident set, from /proc (Linux).
enum ResidentMemory {
    static var currentKB: Int { field("VmRSS:") }
    static var peakKB: Int { field("VmHWM:") }

    static func field(_ name: String) -> Int {
        guard let status = try? String(contentsOfFile: "/proc/self/status", encoding: .utf8),
              let line = status.split(separator: "\n").first(where: { $0.hasPrefix(name) }) else { return 0 }
        return Int(line.split(separator: " ").dropFirst().first ?? "") ?? 0
    }
}
