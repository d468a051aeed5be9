import Foundation
import Psync
import PsyncFilters
import PsyncSimulator
import Testing
@testable import PsyncNIO

/// Several nodes in one test process, each on its own event loop and socket: the shell and the
/// async API, without process management.
@Suite struct InProcessNodeTests {
    @Test func threeNodesExchangeMessagesInContextOrder() async throws {
        let configs = try loopbackConfigs(3)
        var nodes: [PsyncNode] = []
        for c in configs { nodes.append(try await PsyncNode.start(c)) }
        let pids = (0..<3).map { ParticipantID(host: HostID(UInt32($0))) }
        let cid = ConversationID(7)
        let opener = try await nodes[0].open(pids, as: pids[0], conversation: cid)
        let hello = try await opener.send(Array("hello".utf8))
        #expect(hello == .root)
        let others = [try await nodes[1].waitForConversation(as: pids[1]), try await nodes[2].waitForConversation(as: pids[2])]
        var first: [Delivery] = []
        for c in others {
            var iterator = c.messages.makeAsyncIterator()
            first.append(try #require(await iterator.next()))
            _ = try await c.send(Array("ack from \(c.participant)".utf8))
        }
        #expect(first.map(\.payload) == [Array("hello".utf8), Array("hello".utf8)])
        // The root is stable at the opener once both acknowledgements arrived.
        var stable = false
        for _ in 0..<200 where !stable {
            stable = try await opener.stable(.root)
            if !stable { try await Task.sleep(nanoseconds: 5_000_000) }
        }
        #expect(stable)
        let leaves = try await opener.leaves()
        #expect(!leaves.isEmpty && !leaves.contains(.root))
        // Every host's image holds the three messages (the root and both acknowledgements).
        for n in nodes {
            var count = 0
            for _ in 0..<200 where count < 3 {
                count = try await n.withHost { $0.image(cid)?.count ?? 0 }
                if count < 3 { try await Task.sleep(nanoseconds: 5_000_000) }
            }
            #expect(count == 3, "\(n.host) holds \(count) messages")
        }
        for n in nodes { try await n.shutdown() }
    }

    /// The stack given by name, or as instances the application builds (the same classes a
    /// researcher's own filter would be).
    @Test(arguments: ["by name", "by instance"])
    func workloadUnderInjectedLossFinishesEverywhere(stack: String) async throws {
        let filters: FilterChoice = stack == "by name" ? .names(["waves"]) : .make { [WavesFilter(), QuorumFilter(quorum: 2)] }
        let workload = Workload(messagesPerParticipant: 100, meanIntervalNanoseconds: 1_000_000, settleTimeoutNanoseconds: 100_000_000)
        let outcomes = try await runOnNodes(4, workload, filters: filters, seed: 0, loss: 0.05)
        for i in 0..<4 {
            let data = outcomes[i].deliveries.filter { Workload.isData($0.payload) }
            #expect(data.count == 300, "participant \(i) got \(data.count) data messages from the others")
        }
    }

    /// Section 6.2: messages larger than a datagram go through the blast layer; under loss only
    /// missing fragments are sent again, and every message arrives whole.
    @Test(arguments: [0.1, 0.3])
    func mebibyteMessagesArriveWholeUnderLoss(loss: Double) async throws {
        let configs = try loopbackConfigs(2, faults: { _ in LinkModel(delay: .constant(nanoseconds: 0), lossProbability: loss) })
        let a = try await PsyncNode.start(configs[0]), b = try await PsyncNode.start(configs[1])
        let pids = [ParticipantID(host: HostID(0)), ParticipantID(host: HostID(1))]
        // The receiver waits in passive_open first: a conversation pending there would keep only
        // its first message (Section 3.3) and pull the rest on opening, which is not tested here.
        async let opened = b.waitForConversation(as: pids[1], timeoutNanoseconds: 10_000_000_000)
        try await Task.sleep(nanoseconds: 50_000_000)
        let sender = try await a.open(pids, as: pids[0], conversation: ConversationID(3))
        var rng = SplitMix64(seed: 9)
        let payloads = (0..<4).map { _ in (0..<(1 << 20)).map { _ in UInt8(truncatingIfNeeded: rng.next()) } }
        for p in payloads { _ = try await sender.send(p) }
        let receiver = try await opened
        var received: [[UInt8]] = []
        for await d in receiver.messages {
            received.append(d.payload)
            if received.count == payloads.count { break }
        }
        #expect(received == payloads)
        let (sent, engine) = try await a.counters()
        // 4 MiB in 8 KiB fragments is 512 datagrams, and loss makes more. The blast layer resends
        // only missing fragments (`BlastTests` counts them exactly); here, with the tests of other
        // suites loading the machine, the engine's own recovery may also resend a whole message to
        // a slow receiver (40 ms timeout: 128 more fragments each), so the bound only rules out
        // storms: at most twice the fragments of every whole message the engine sent, plus loss.
        let wholeMessages = 4 + engine.retransmittedMessages + engine.resends
        #expect(sent.datagramsSent < Int(2 * Double(wholeMessages * 128) * (1 + loss)) + 64,
                "\(sent.datagramsSent) datagrams sent for \(wholeMessages) whole messages")
        try await a.shutdown()
        try await b.shutdown()
    }

    /// The same workload, seed and filter in the simulator and over UDP: every participant's
    /// application gets the same set of data messages (by payload: participant i's k-th data
    /// message is the same bytes in both). Their total orders are not the same: which messages a
    /// participant had seen when it sent depends on timing, so the graphs, and the waves cut from
    /// them, differ between any two runs, simulated or real (within one run every participant's
    /// order is the same, `MultiProcessTests`). The ring workload below takes timing out.
    @Test func simulatorAndUDPDeliverTheSameSets() async throws {
        let workload = Workload(messagesPerParticipant: 60, meanIntervalNanoseconds: 2_000_000, settleTimeoutNanoseconds: 100_000_000)
        let sim = Simulator(SimulationConfig(seed: 11, participants: 4, workload: workload, filters: ["waves"])).run()
        let simulated: [Set<[UInt8]>] = (0..<4).map { i in
            Set(sim.filterDeliveries[0][i].compactMap { d -> [UInt8]? in
                guard case .application(let p) = d.content, Workload.isData(p), d.message.senderIndex != i else { return nil }
                return p
            })
        }
        let real = try await runOnNodes(4, workload, filters: .names(["waves"]), seed: 11, loss: 0.02)
            .map { Set($0.deliveries.map(\.payload).filter(Workload.isData)) }
        for i in 0..<4 {
            #expect(simulated[i].count == 180)
            #expect(real[i] == simulated[i], "participant \(i): \(real[i].count) real, \(simulated[i].count) simulated")
        }
    }

    /// A token-passing workload: the data messages form one causal chain whatever the timing,
    /// so waves deliver them in the same order in the simulator and over UDP, under loss.
    @Test func ringWorkloadGivesTheSameTotalOrderInTheSimulatorAndOverUDP() async throws {
        let workload = Workload(messagesPerParticipant: 25, settleTimeoutNanoseconds: 100_000_000, pattern: .ring)
        let sim = Simulator(SimulationConfig(seed: 5, participants: 4, workload: workload,
                                             network: NetworkModel(link: LinkModel(lossProbability: 0.05)), filters: ["waves"])).run()
        let simulated: [[[UInt8]]] = (0..<4).map { i in
            sim.filterDeliveries[0][i].compactMap { d -> [UInt8]? in
                guard case .application(let p) = d.content, Workload.isData(p), d.message.senderIndex != i else { return nil }
                return p
            }
        }
        let real = try await runOnNodes(4, workload, filters: .names(["waves"]), seed: 5, loss: 0.05)
            .map { $0.deliveries.map(\.payload).filter(Workload.isData) }
        for i in 0..<4 {
            #expect(simulated[i].count == 75)
            #expect(real[i] == simulated[i], "participant \(i): the waves orders differ")
        }
    }
}

/// Section 3.3 over UDP: with a buffer limit, `send` waits (asynchronously) while the host's
/// share is full and completes once the peer holds what was sent; a burst far beyond the limit
/// goes through whole, in order, under loss.
@Suite struct FlowControlOverUDPTests {
    @Test func aBurstBeyondTheBufferLimitWaitsAndArrivesWhole() async throws {
        var configs = try loopbackConfigs(2, faults: { _ in LinkModel(delay: .constant(nanoseconds: 0), lossProbability: 0.05) })
        for i in configs.indices { configs[i].engine.bufferLimit = 8 }    // a share of 4 per host
        let a = try await PsyncNode.start(configs[0]), b = try await PsyncNode.start(configs[1])
        let pids = [ParticipantID(host: HostID(0)), ParticipantID(host: HostID(1))]
        async let opened = b.waitForConversation(as: pids[1], timeoutNanoseconds: 10_000_000_000)
        try await Task.sleep(nanoseconds: 50_000_000)
        let sender = try await a.open(pids, as: pids[0], conversation: ConversationID(9))
        _ = try await sender.send([0])                 // the SC: b's passive open completes
        let receiver = try await opened
        let burst = 60
        let reader = Task {
            var got: [[UInt8]] = []
            for await d in receiver.messages {
                got.append(d.payload)
                if got.count == burst { break }
            }
            return got
        }
        for k in 1..<burst { _ = try await sender.send([UInt8(k)]) }
        let got = await reader.value
        #expect(got == (0..<burst).map { [UInt8($0)] })
        let blocked = try await a.withHost { $0.counters.sendsBlocked }
        #expect(blocked > 0, "the burst never reached the limit")
        try await a.shutdown()
        try await b.shutdown()
    }
}
