import ArgumentParser
import Psync
import PsyncAuth
import PsyncSimulator

/// `psync bench auth`: what authenticated conversations cost. Per packet: encoding plus
/// decoding (what every packet costs the shells already, the baseline) against the same with
/// sealing and opening (HMAC-SHA256 over the packet, twice: once to tag, once to check), for
/// data packets of several payload sizes. Per run: one simulated conversation with and without
/// `--authenticate`, wall time and bytes on the network. Best of `--repeats`, same run.
struct AuthBench: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "auth", abstract: "Cost of authenticated conversations (HMAC-SHA256 per packet) against plain ones.")

    @Option(help: "Payload sizes in bytes (comma-separated).") var payloads = "32,1024,8192"
    @Option(help: "Packets per measurement.") var packets = 200_000
    @Option(help: "Runs per figure; the fastest is reported.") var repeats = 3
    @Option(help: "Data messages per participant of the simulated conversation (3 participants).") var messages = 1_000

    func run() throws {
        guard packets >= 1, repeats >= 1, messages >= 1 else { throw ValidationError("--packets, --repeats and --messages must be positive") }
        let sizes = try positiveIntegers(payloads, "--payloads")
        print("payload  bytes  plain ns/packet  authenticated ns/packet  added ns  ratio")
        for size in sizes {
            let an = AddNode(conversation: ConversationID(1), message: MessageID(sender: 1, sequence: 2),
                             sender: ParticipantID(host: HostID(1)), predecessors: [.root], payload: Array(repeating: 7, count: size))
            let plain = best { plainRoundTrip(.addNode(an)) }
            var authenticator = try PacketAuthenticator(secret: Array(repeating: 1, count: 32))
            let sealed = best { roundTrip(.addNode(an), authenticator: &authenticator) }
            print(pad(size, 7), pad(WireCodec.encode(.addNode(an)).count, 6), pad(format1(plain), 16),
                  pad(format1(sealed), 24), pad(format1(sealed - plain), 9), pad(format2(sealed / plain) + "x", 6))
        }
        print("")
        print("simulated conversation, 3 participants x \(messages) messages:")
        print("              wall ms  packets  bytes on the network")
        for authenticated in [false, true] {
            let config = SimulationConfig(participants: 3, workload: Workload(messagesPerParticipant: messages),
                                          recordsHistory: false, authenticated: authenticated)
            var result: SimulationResult?
            let ms = (0..<repeats).map { _ in
                nanoseconds(ContinuousClock().measure { result = Simulator(config).run() }) / 1e6
            }.min()!
            print(authenticated ? "authenticated" : "plain        ", pad(format1(ms), 7), pad(result!.network.packetsSent, 8),
                  pad(result!.network.bytesSent, 21))
        }
    }

    /// Nanoseconds per packet, the fastest of `repeats` runs of `packets` packets.
    func best(_ body: () -> Void) -> Double {
        (0..<repeats).map { _ in
            nanoseconds(ContinuousClock().measure { for _ in 0..<packets { body() } }) / Double(packets)
        }.min()!
    }

    func roundTrip(_ packet: Packet, authenticator: inout PacketAuthenticator) {
        let sealed = authenticator.seal(WireCodec.encode(packet), conversation: packet.conversation)
        guard case .success(let bytes) = authenticator.open(sealed) else { fatalError("a sealed packet must open") }
        precondition((try? WireCodec.decode(bytes)) == packet)
    }

    func plainRoundTrip(_ packet: Packet) {
        precondition((try? WireCodec.decode(WireCodec.encode(packet))) == packet)
    }
}
