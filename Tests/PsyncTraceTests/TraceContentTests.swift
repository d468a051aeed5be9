import Foundation
import Testing
import Psync
import PsyncSimulator
import PsyncTrace

/// What a simulated run's trace says, and that it says it the same way every time.
@Suite struct TraceContentTests {
    @Test func sameSeedWritesByteIdenticalTraces() throws {
        let a = temporaryPath("det-a.jsonl.lz4"), b = temporaryPath("det-b.jsonl.lz4")
        try writeSimulationTrace(a, seed: 21, loss: 0.2)
        try writeSimulationTrace(b, seed: 21, loss: 0.2)
        let da = try Data(contentsOf: URL(fileURLWithPath: a)), db = try Data(contentsOf: URL(fileURLWithPath: b))
        #expect(da == db)
        #expect(da.count > 1000)
    }

    /// The trace alone rebuilds the context graph (every send with its predecessors), and each
    /// participant's receive order respects it.
    @Test func traceRebuildsTheGraphAndReceiveOrdersRespectIt() throws {
        let path = temporaryPath("consistency.jsonl.lz4")
        let result = try writeSimulationTrace(path, seed: 5, loss: 0.2)
        let (header, events) = try TraceReader.readAll(path: path)
        var preds: [MessageID: [MessageID]] = [:]
        var history: [ParticipantID: Set<MessageID>] = [:]
        var receives: [ParticipantID: [MessageID]] = [:]
        for e in events {
            switch e.kind {
            case .send(_, let p, let m, let ps, _, _):
                preds[m] = ps
                history[p, default: []].insert(m)
            case .receive(_, let p, let m):
                let known = history[p, default: []]
                #expect(!known.contains(m), "\(p) receives \(m) twice or its own")
                for x in preds[m] ?? [] { #expect(known.contains(x), "\(p) receives \(m) before its predecessor \(x)") }
                #expect(preds[m] != nil, "\(m) received before it was sent")
                history[p, default: []].insert(m)
                receives[p, default: []].append(m)
            default:
                break
            }
        }
        // The rebuilt graph is the one in the final images.
        for image in result.images.compactMap({ $0 }) {
            #expect(image.keys.allSatisfy { preds[$0] != nil })
            for (m, ps) in image { #expect(Set(ps) == Set(preds[m] ?? []), "\(m)") }
        }
        let tracedReceives: Int = receives.values.reduce(0) { $0 + $1.count }
        let actualReceives: Int = result.received.reduce(0) { $0 + $1.count }
        #expect(tracedReceives == actualReceives)
        // The header carries the configuration: the same run can be made again from it.
        let config = try SimulationConfig(traceHeader: header)
        #expect(config == result.config)
        #expect(header.seed == 5 && header.participants.count == 3 && header.clock == "virtual")
    }

    @Test func traceRecordsFaultsAndStability() throws {
        let writer = MemoryTraceSink()
        // A seed whose losses leave data unstable for a while, so that, under the paper's
        // recovery rule, the last-ACK work-around resends.
        let config = SimulationConfig(seed: 1, participants: 3,
                                      network: NetworkModel(link: LinkModel(lossProbability: 0.2)),
                                      faults: FaultSchedule(partitions: [Partition(side: [2], startNanoseconds: 10_000_000, healNanoseconds: 50_000_000)],
                                                            crashes: [Crash(host: 1, atNanoseconds: 2_000_000_000)]),
                                      host: HostConfig(recovery: .paper))
        let result = Simulator(config, trace: writer).run()
        let names = Set(writer.events.map(\.kind.name))
        for kind in ["header", "open", "send", "packet_out", "packet_in", "arrive", "receive", "stable", "drop", "partition", "heal", "crash", "resend", "rr_sent"] {
            #expect(names.contains(kind), "no \(kind) record")
        }
        let lossDrops = writer.events.filter { if case .drop(let d) = $0.kind { d.reason == "loss" } else { false } }.count
        #expect(lossDrops == result.network.lost)
        let sent = writer.events.filter { if case .packetOut = $0.kind { true } else { false } }.count
        #expect(sent == result.network.packetsSent)
        // "stable" is reported once per message and participant, never before the message is in the view.
        var inView: Set<String> = []
        var stable: Set<String> = []
        for e in writer.events {
            switch e.kind {
            case .send(_, let p, let m, _, _, _), .receive(_, let p, let m): inView.insert("\(p) \(m)")
            case .stable(_, let p, let m):
                #expect(inView.contains("\(p) \(m)"))
                #expect(stable.insert("\(p) \(m)").inserted)
            default: break
            }
        }
    }
}
