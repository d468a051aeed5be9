import ArgumentParser
import Psync

/// `psync bench engine`: the cost of send plus receive per message (Section 6.2 says both are
/// O(participants), independent of the graph's size). Hosts exchange packets in process, with
/// no network and no codec, round-robin: each message is sent by the next participant and
/// received by all others before the next send. Small conversations are repeated so that every
/// measurement covers about `--work` messages; the best of `--repeats` runs is kept.
struct EngineBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "engine", abstract: "Cost per message of send + receive vs. conversation size.")

    @Option(help: "Participant counts (comma-separated).") var participants = "2,4,8"
    @Option(help: "Conversation sizes in messages (comma-separated).") var sizes = "1000,10000,100000,1000000"
    @Option(help: "Messages measured per figure (small conversations are repeated).") var work = 1_000_000
    @Option(help: "Runs per figure; the fastest is reported.") var repeats = 3
    @Option(help: "Payload bytes per message.") var payload = 16

    func run() throws {
        let counts = try positiveIntegers(participants, "--participants")
        let sizeList = try positiveIntegers(sizes, "--sizes")
        print("participants  messages  ns/message  receptions/s  ratio to \(sizeList[0])")
        for n in counts {
            var baseline: Double?
            for size in sizeList {
                let conversations = max(1, work / size)
                var best = Double.infinity
                for _ in 0..<repeats {
                    let elapsed = ContinuousClock().measure {
                        for c in 0..<conversations { runConversation(participants: n, messages: size, seed: UInt64(c)) }
                    }
                    let ns = nanoseconds(elapsed)
                    best = min(best, ns / Double(conversations * size))
                }
                baseline = baseline ?? best
                let receptions = 1e9 / best * Double(n - 1)
                print(pad(n, 12), pad(size, 9), pad(String(format1(best)), 11), pad(Int(receptions), 13),
                      pad(String(format2(best / baseline!)) + "x", 12))
            }
        }
    }

    func runConversation(participants n: Int, messages: Int, seed: UInt64) {
        var config = HostConfig()
        config.reportsEvents = false
        let pids = (0..<n).map { ParticipantID(host: HostID(UInt32($0))) }
        let hosts = pids.map { Host(id: $0.host, config: config) }
        let cid = ConversationID(seed)
        let now = Instant.zero
        try! hosts[0].activeOpen(pids, as: pids[0], conversation: cid)
        let body = [UInt8](repeating: 7, count: payload)
        var effects: [HostEffect] = []
        var replies: [HostEffect] = []
        for i in 0..<messages {
            let s = i % n
            if i == 0 || i >= n || s == 0 {
                try! hosts[s].send(body, in: cid, as: pids[s], now: now)
            } else {
                _ = hosts[s].passiveOpen(pids[s], now: now)
                try! hosts[s].send(body, in: cid, as: pids[s], now: now)
            }
            effects.removeAll(keepingCapacity: true)
            hosts[s].drainEffects(into: &effects)
            for case .transmit(let packet, let destinations) in effects {
                for d in destinations {
                    let h = hosts[Int(d.rawValue)]
                    replies.removeAll(keepingCapacity: true)
                    h.handle(.packet(packet, from: hosts[s].id), now: now, into: &replies)
                    if i == 0 { _ = h.passiveOpen(pids[Int(d.rawValue)], now: now) }
                    while try! h.receive(cid, as: pids[Int(d.rawValue)]) != nil {}
                }
            }
        }
    }
}

/// A benchmark option's comma-separated positive integers.
func positiveIntegers(_ text: String, _ name: String) throws -> [Int] {
    let values = text.split(separator: ",").map { Int($0) }
    guard !values.isEmpty, values.allSatisfy({ ($0 ?? 0) >= 1 }) else { throw ValidationError("\(name) takes positive integers, comma-separated") }
    return values.map { $0! }
}

func pad(_ value: some CustomStringConvertible, _ width: Int) -> String {
    let s = value.description
    return String(repeating: " ", count: max(0, width - s.count)) + s
}
func format1(_ x: Double) -> String { let r = (x * 10).rounded() / 10; return "\(r)" }
func format2(_ x: Double) -> String { let r = (x * 100).rounded() / 100; return "\(r)" }
