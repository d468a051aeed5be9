import Foundation
import Psync
import PsyncAnalysis
import PsyncTrace
import Testing

/// Real runs: `psync node` processes on loopback, started and stopped by the test with bounded
/// time, their per-process traces merged and checked like a simulated run's.
@Suite(.serialized) struct MultiProcessTests {
    /// Reads the merged traces of one run through the checker.
    func check(_ directory: String, hosts: Int) throws -> (TraceChecker.Verdict, TraceChecker, [TraceEvent]) {
        var checker = TraceChecker()
        var events: [TraceEvent] = []
        let outcome = try TraceStream.read((0..<hosts).map { "\(directory)/h\($0).jsonl.lz4" }) { e in
            checker.observe(e)
            events.append(e)
        }
        return (checker.finish(complete: outcome.complete, readError: outcome.error?.description), checker, events)
    }

    /// Waits for every node's workload to end: each exits 0 having delivered `delivering` data
    /// messages of the others. Whether all did.
    func finish(_ nodes: [NodeProcess], seconds: Double, delivering: Int, traces dir: String) async -> Bool {
        var clean = true
        for n in nodes {
            let status = await n.wait(seconds: seconds)
            clean = clean && status == 0
            #expect(status == 0, "\(n.report) (traces in \(dir))")
            #expect(n.output.contains("done: \(delivering) data messages delivered"), "host \(n.host): \(n.output)")
        }
        return clean
    }

    /// The acceptance run: 4 processes, 10,000 data messages, 5% injected loss on every
    /// outgoing datagram, `waves`: every host delivers every message, the merged traces check
    /// clean, and the checker's total-order property holds (all four sequences agree).
    @Test func fourProcessesTenThousandMessagesUnderLoss() async throws {
        let dir = temporaryDirectory()
        let nodes = try await startNodes(4, directory: dir) { i in
            ["--workload", "--messages", "2500", "--interval", "1ms", "--drop", "0.05", "--filter", "waves",
             "--seed", "\(i + 1)", "--linger", "300ms", "--timeout", "100s"]
        }
        let clean = await finish(nodes, seconds: 120, delivering: 7500, traces: dir)
        let (verdict, checker, events) = try check(dir, hosts: 4)
        #expect(verdict == .valid, "\(checker.violations.prefix(5)) (traces in \(dir))")
        let injected = events.filter { if case .drop(let d) = $0.kind { d.reason == "loss" } else { false } }.count
        #expect(injected > 1000, "only \(injected) injected losses traced")
        // Every host's waves deliveries are the same sequence (the checker compares prefixes; the
        // runs are complete, so the sequences must be equal).
        var sequences: [UInt32: [String]] = [:]
        for e in events {
            guard case .other("deliver", let fields) = e.kind, fields.first(where: { $0.0 == "filter" })?.1.string == "waves",
                  let mid = fields.first(where: { $0.0 == "mid" })?.1.string, let host = e.host else { continue }
            sequences[host.rawValue, default: []].append(mid)
        }
        #expect(sequences.count == 4)
        #expect(Set(sequences.values.map { $0 }).count == 1, "the four waves sequences differ (traces in \(dir))")
        // Failures keep their traces for `psync trace check` and `dot`.
        if clean && verdict == .valid { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// Authenticated conversations end to end: three `psync node --key-file` processes sharing
    /// a secret finish a lossy `waves` workload; the merged traces check clean, every packet
    /// carried its 32-byte tag and none was refused.
    @Test func processesSharingAKeyFileCompleteALossyRun() async throws {
        let dir = temporaryDirectory()
        let key = "\(dir)/conversation.key"
        try Data((0..<32).map { UInt8($0 * 7 & 0xFF) }).write(to: URL(fileURLWithPath: key))
        let nodes = try await startNodes(3, directory: dir) { i in
            ["--workload", "--messages", "300", "--interval", "1ms", "--drop", "0.05", "--filter", "waves",
             "--seed", "\(i + 1)", "--linger", "300ms", "--timeout", "60s", "--key-file", key]
        }
        let clean = await finish(nodes, seconds: 90, delivering: 600, traces: dir)
        let (verdict, checker, events) = try check(dir, hosts: 3)
        #expect(verdict == .valid, "\(checker.violations.prefix(5)) (traces in \(dir))")
        let refused = events.filter { if case .drop(let d) = $0.kind { d.reason == "unauthenticated" } else { false } }
        #expect(refused.isEmpty, "\(refused.prefix(3))")
        // Every packet's bytes, as traced, include the tag: the smallest AN (a waves
        // acknowledgement, 22 bytes unauthenticated) is 32 bytes longer.
        let sizes = events.compactMap { e -> Int? in if case .packetOut(let p) = e.kind, p.type == "AN" { p.bytes } else { nil } }
        #expect(sizes.min() ?? 0 >= 22 + 32, "smallest AN: \(sizes.min() ?? 0) bytes")
        if clean && verdict == .valid { try? FileManager.default.removeItem(atPath: dir) }
    }

    /// `kill -9` of one process mid-run: the others finish; under `membership` each removes it,
    /// at the same position of the total order.
    @Test func killedProcessIsRemovedAtTheSamePositionEverywhere() async throws {
        let dir = temporaryDirectory()
        let nodes = try await startNodes(4, directory: dir) { i in
            ["--workload", "--messages", "1000", "--interval", "2ms", "--drop", "0.02", "--filter", "waves,membership",
             "--seed", "\(i + 1)", "--linger", "300ms", "--timeout", "60s"]
        }
        try await Task.sleep(nanoseconds: 400_000_000)
        #expect(nodes[3].process.isRunning, "host 3 ended before it could be killed: \(nodes[3].report)")
        nodes[3].killHard()
        for n in nodes.prefix(3) {
            let status = await n.wait(seconds: 90)
            #expect(status == 0, "\(n.report) (traces in \(dir))")
        }
        _ = await nodes[3].wait(seconds: 5)
        var removals: [UInt32: [UInt64]] = [:]
        let outcome = try TraceStream.read((0..<4).map { "\(dir)/h\($0).jsonl.lz4" }) { e in
            guard case .other("remove", let fields) = e.kind, fields.first(where: { $0.0 == "target" })?.1.string == "p3",
                  let position = fields.first(where: { $0.0 == "position" })?.1.uint64, let host = e.host else { return }
            removals[host.rawValue, default: []].append(position)
        }
        #expect(outcome.notes.contains { $0.contains("h3") || $0.contains("host 3") }, "the merge notes the killed host: \(outcome.notes)")
        #expect(removals.keys.sorted() == [0, 1, 2], "removals: \(removals) (traces in \(dir))")
        #expect(Set(removals.values.compactMap(\.first)).count == 1, "removed at different positions: \(removals)")
        // The killed process's lost trace tail is learned from the others' arrive records.
        let (verdict, checker, _) = try check(dir, hosts: 4)
        #expect(verdict == .valid, "\(checker.violations.prefix(5)) (traces in \(dir))")
    }

    /// Interactive nodes: lines on the opener's standard input reach the other's output in
    /// order; SIGTERM and SIGINT end both cleanly: exit 0, and traces that end with an `end`
    /// record and check clean.
    @Test func linesOnStandardInputAreDeliveredAndSignalsEndTheRunCleanly() async throws {
        let dir = temporaryDirectory()
        let ports = try freePorts(2)
        let peers = "0=127.0.0.1:\(ports[0]),1=127.0.0.1:\(ports[1])"
        let receiver = try NodeProcess(host: 1, arguments: ["--peers", peers, "--trace", "\(dir)/h1.jsonl.lz4"], directory: dir)
        #expect(await receiver.waitUntilListening())
        let sender = try NodeProcess(host: 0, arguments: ["--peers", peers, "--trace", "\(dir)/h0.jsonl.lz4"], directory: dir, input: true)
        #expect(await sender.waitUntilListening())
        let lines = (1...20).map { "line \($0)" }
        sender.input!.fileHandleForWriting.write(Data((lines.joined(separator: "\n") + "\n").utf8))
        let deadline = Date().addingTimeInterval(20)
        while receiver.output.split(separator: "\n").count < lines.count && Date() < deadline {
            try await Task.sleep(nanoseconds: 20_000_000)
        }
        let printed = receiver.output.split(separator: "\n").map { String($0.split(separator: " ", maxSplits: 2)[2]) }
        #expect(printed == lines, "\(receiver.output)")
        sender.signal(SIGTERM)
        receiver.signal(SIGINT)
        #expect(await sender.wait(seconds: 10) == 0, "\(sender.errors)")
        #expect(await receiver.wait(seconds: 10) == 0, "\(receiver.errors)")
        var ends: [String] = []
        let outcome = try TraceStream.read(["\(dir)/h0.jsonl.lz4", "\(dir)/h1.jsonl.lz4"]) { e in
            if case .end(let reason) = e.kind { ends.append(reason) }
        }
        #expect(outcome.complete && outcome.notes.isEmpty, "\(outcome.notes)")
        #expect(ends.sorted() == ["signal SIGINT", "signal SIGTERM"])
        let (verdict, checker, _) = try check(dir, hosts: 2)
        #expect(verdict == .valid, "\(checker.violations.prefix(3))")
    }

    /// Section 5 over UDP: `kill -9` of one of three processes mid-run; a new process for the
    /// same host, started with `--restart` and the old one's `--log`, rejoins by re-execution
    /// (its old messages suppressed, same ids) and every process finishes with every message.
    /// Buffers are freed once every host holds them: the others serve what the new process
    /// asks for from their logs.
    @Test func aKilledProcessRestartedWithItsLogRejoinsAndCatchesUp() async throws {
        let dir = temporaryDirectory()
        let ports = try freePorts(3)
        let peers = (0..<3).map { "\($0)=127.0.0.1:\(ports[$0])" }.joined(separator: ",")
        func arguments(_ i: Int, trace: String) -> [String] {
            ["--peers", peers, "--trace", "\(dir)/\(trace).jsonl.lz4", "--log", "\(dir)/log\(i)", "--workload", "--ring", "--no-acks",
             "--messages", "600", "--drop", "0.02", "--seed", "\(i + 1)", "--linger", "500ms", "--timeout", "60s"]
        }
        var nodes: [NodeProcess] = []
        for i in (0..<3).reversed() {
            let node = try NodeProcess(host: i, arguments: arguments(i, trace: "h\(i)"), directory: dir)
            guard await node.waitUntilListening() else { throw NodeStartError(host: i, stderr: node.errors) }
            nodes.insert(node, at: 0)
        }
        try await Task.sleep(nanoseconds: 300_000_000)
        #expect(nodes[2].process.isRunning, "host 2 ended before it could be killed: \(nodes[2].report)")
        nodes[2].killHard()
        _ = await nodes[2].wait(seconds: 5)
        let again = dir + "/restarted"       // its own output files
        try FileManager.default.createDirectory(atPath: again, withIntermediateDirectories: true)
        let reborn = try NodeProcess(host: 2, arguments: arguments(2, trace: "h2-restarted") + ["--restart"], directory: again)
        for n in [nodes[0], nodes[1], reborn] {
            #expect(await n.wait(seconds: 90) == 0, "\(n.report) (traces in \(dir))")
            #expect(n.output.contains("done: 1200 data messages delivered"), "host \(n.host): \(n.output)")
        }
        var restarts = 0, suppressed = 0
        _ = try TraceStream.read(["\(dir)/h2-restarted.jsonl.lz4"]) { e in
            if case .other("restart", _) = e.kind { restarts += 1 }
            if case .other("resend_suppressed", _) = e.kind { suppressed += 1 }
        }
        #expect(restarts == 1 && suppressed > 0, "restart records \(restarts), suppressed sends \(suppressed)")
    }
}
