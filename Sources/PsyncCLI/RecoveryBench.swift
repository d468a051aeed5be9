import ArgumentParser
import Psync
import PsyncSimulator

/// `psync bench recovery`: what recovering from loss costs under each recovery policy, measured
/// side by side in the same run (DESIGN.md: recovery traffic is a figure like latency). For
/// each loss rate and policy it runs the same seeded conversations and prints converged runs,
/// packets per data message, extra packets per lost packet, requests and retransmitted
/// messages per lost packet, and the time to quiescence; then how packets per data message
/// grow with the conversation's length. `--csv` writes every seed's figures as tidy rows (one
/// run a row) for `Notebooks/loss-and-recovery.ipynb`.
struct RecoveryBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "recovery", abstract: "Recovery cost per loss rate and policy, and its growth with conversation length.")

    @Option(help: "Participants (one per host).") var participants = 5
    @Option(help: "Data messages per participant in the loss table.") var messages = 200
    @Option(help: "Seeds per figure (1...N).") var seeds = 4
    @Option(help: "Loss rates (comma-separated).") var losses = "0,0.01,0.05,0.1,0.2,0.3"
    @Option(help: "Policies (comma-separated: paper, gaps).") var policies = "paper,gaps"
    @Option(help: "Messages per participant for the growth table (comma-separated; empty: none).") var growth = "10,30,100,300,1000"
    @Option(name: .customLong("growth-loss"), help: "Loss rate of the growth table.") var growthLoss = 0.1
    @Option(help: "Write every run's figures here as CSV, one row per table, loss, policy, length and seed (header: \(RecoveryBench.csvHeader)).")
    var csv: String?

    static let csvHeader = "table,loss,policy,messages,seed,converged,data_messages,packets,minimum_packets,packets_lost,extra_packets,requests,digests,retransmissions,discards,quiescence_ns"

    func validate() throws {
        guard participants >= 2, messages >= 1, seeds >= 1 else { throw ValidationError("participants >= 2, messages >= 1, seeds >= 1") }
        _ = try lossList(); _ = try policyList(); _ = try growthList()
    }

    func run() throws {
        var rows = [RecoveryBench.csvHeader]
        let policyNames = try policyList()
        print("\(participants) participants x \(messages) data messages, \(seeds) seeds per row; loss-free minimum: one copy of every message and resend per receiver")
        print("loss   policy  converged  packets/data  extra/lost  requests/lost  retransmitted/lost  digests  discards  quiescence")
        for loss in try lossList() {
            for policy in policyNames {
                let c = measure(policy: policy, loss: loss, messages: messages)
                rows += c.rows.map { "loss,\(loss),\(policy.rawValue),\(messages),\($0)" }
                print(pad(format2(loss), 4).padding(toLength: 7), policy.rawValue.padding(toLength: 7),
                      pad("\(c.runs)/\(seeds)", 9), pad(format2(ratio(c.total.packets, c.total.dataMessages)), 13),
                      pad(perLost(c.total.extraPackets, c.total), 11), pad(perLost(c.total.requests, c.total), 14),
                      pad(perLost(c.total.retransmissions, c.total), 19), pad(c.total.digests, 8), pad(c.total.discards, 9),
                      pad(formatMilliseconds(c.total.quiescenceNanoseconds), 13))
            }
        }
        let lengths = try growthList()
        guard !lengths.isEmpty else { return try write(rows) }
        print("\ngrowth at loss \(growthLoss): packets per data message as conversations get longer (ratio to \(lengths[0]) messages)")
        print("messages  policy  converged  packets/data  ratio  extra/lost")
        for policy in policyNames where policy == .gaps {
            var base: Double?
            for m in lengths {
                let c = measure(policy: policy, loss: growthLoss, messages: m)
                rows += c.rows.map { "growth,\(growthLoss),\(policy.rawValue),\(m),\($0)" }
                let perData = ratio(c.total.packets, c.total.dataMessages)
                base = base ?? perData
                print(pad(m, 8), policy.rawValue.padding(toLength: 7), pad("\(c.runs)/\(seeds)", 9), pad(format2(perData), 13),
                      pad(format2(perData / base!) + "x", 6), pad(perLost(c.total.extraPackets, c.total), 11))
            }
        }
        try write(rows)
    }

    func write(_ rows: [String]) throws {
        if let csv { try (rows.joined(separator: "\n") + "\n").write(toFile: csv, atomically: true, encoding: .utf8) }
    }

    /// Runs the seeds of one figure; `runs` counts the converged ones; `rows` are each seed's
    /// figures from `seed` on, as the CSV's columns.
    func measure(policy: RecoveryPolicy, loss: Double, messages m: Int) -> (runs: Int, total: RecoveryCost, rows: [String]) {
        let costs = (1...UInt64(seeds)).map { seed in
            RecoveryCost(Simulator(SimulationConfig(
                seed: seed, participants: participants, workload: Workload(messagesPerParticipant: m),
                network: NetworkModel(link: LinkModel(lossProbability: loss)), host: HostConfig(recovery: policy),
                recordsHistory: false)).run())
        }
        let rows = costs.enumerated().map { i, c in
            [String(i + 1), String(c.converged), String(c.dataMessages), String(c.packets), String(c.minimumPackets), String(c.packetsLost),
             String(c.extraPackets), String(c.requests), String(c.digests), String(c.retransmissions), String(c.discards),
             String(c.quiescenceNanoseconds)].joined(separator: ",")
        }
        return (costs.filter(\.converged).count, costs.total!, rows)
    }

    func ratio(_ a: Int, _ b: Int) -> Double { b == 0 ? 0 : Double(a) / Double(b) }
    func perLost(_ a: Int, _ c: RecoveryCost) -> String { c.packetsLost == 0 ? "-" : format2(ratio(a, c.packetsLost)) }

    func lossList() throws -> [Double] {
        let values = losses.split(separator: ",").map { Double($0) }
        guard !values.isEmpty, values.allSatisfy({ $0.map { (0..<1).contains($0) } ?? false }) else {
            throw ValidationError("--losses takes probabilities in [0, 1), comma-separated")
        }
        return values.map { $0! }
    }
    func policyList() throws -> [RecoveryPolicy] {
        let values = policies.split(separator: ",").map { RecoveryPolicy(rawValue: String($0)) }
        guard !values.isEmpty, values.allSatisfy({ $0 != nil }) else { throw ValidationError("--policies takes paper and/or gaps") }
        return values.map { $0! }
    }
    func growthList() throws -> [Int] {
        guard !growth.isEmpty else { return [] }
        let values = growth.split(separator: ",").map { Int($0) }
        guard values.allSatisfy({ ($0 ?? 0) >= 1 }) else { throw ValidationError("--growth takes positive integers, comma-separated") }
        return values.map { $0! }
    }
}
