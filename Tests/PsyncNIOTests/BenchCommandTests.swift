import Foundation
import Testing

/// `psync bench rtt` end to end with tiny counts: every transport completes, the table has its
/// shape, and no server process is left behind.
@Suite(.serialized) struct BenchCommandTests {
    /// How many running processes match `pattern`.
    func servers(_ pattern: String = "psync bench rtt-serve") -> Int {
        ((try? run(["pgrep", "-f", pattern], executable: "/usr/bin/env"))?.output ?? "").split(separator: "\n").count
    }

    /// Runs `executable` (the `psync` binary by default) to its end; its status and output.
    func run(_ arguments: [String], executable: String = NodeProcess.binary) throws -> (status: Int32, output: String) {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: executable)
        p.arguments = arguments
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        return (p.terminationStatus, text)
    }

    @Test func roundTripBenchmarkRunsEveryTransport() async throws {
        let before = servers()
        let dir = temporaryDirectory()
        // The C floor, built as Tools/paper-tables.sh builds it.
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tools/c/pingpong.c").path
        #expect(try run(["cc", "-O2", "-o", "\(dir)/pingpong", source], executable: "/usr/bin/env").status == 0,
                "cc could not build Tools/c/pingpong.c")
        let (status, text) = try run(["bench", "rtt", "--count", "40", "--rounds", "2", "--warmup", "4", "--csv", "\(dir)/rtt.csv",
                                      "--c-floor", "\(dir)/pingpong"])
        #expect(status == 0, "\(text)")
        #expect(text.hasPrefix("machine: "))
        for transport in ["UDP", "RPC", "Psync", "TCP", "C UDP", "C TCP"] {
            #expect(text.contains("| \(transport) | 40 |"), "\(transport) row missing: \(text)")
        }
        let csv = try String(contentsOfFile: "\(dir)/rtt.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.first == "transport,round,nanoseconds" && csv.count == 1 + 6 * 40)
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(servers() == before, "a server process was left behind")
        #expect(servers("pingpong udp-server|pingpong tcp-server") == 0, "a C server was left behind")
    }

    /// `psync bench auth` with tiny counts: a row per payload size with both figures, and the
    /// simulated conversation with and without authentication (32 more bytes per packet).
    @Test func authenticationBenchmarkPrintsBothFiguresPerSize() throws {
        let (status, text) = try run(["bench", "auth", "--payloads", "32,1024", "--packets", "50", "--repeats", "1", "--messages", "20"])
        #expect(status == 0, "\(text)")
        let lines = text.split(separator: "\n").map { $0.split(separator: " ") }
        let sizes = lines.filter { $0.first == "32" || $0.first == "1024" }
        #expect(sizes.count == 2 && sizes.allSatisfy { $0.count == 6 && $0[5].hasSuffix("x") }, "\(text)")
        let runs = lines.filter { $0.first == "plain" || $0.first == "authenticated" }
        #expect(runs.count == 2, "\(text)")
        if runs.count == 2, let plainPackets = Int(runs[0][2]), let plainBytes = Int(runs[0][3]), let bytes = Int(runs[1][3]) {
            #expect(bytes == plainBytes + 32 * plainPackets, "\(text)")
        }
    }

    /// `psync bench token` with tiny counts: both transports complete for rings of 2 and 3, and no
    /// peer process is left behind.
    @Test func tokenBenchmarkRunsBothTransports() async throws {
        let before = servers("psync bench token-peer")
        let dir = temporaryDirectory()
        let (status, text) = try run(["bench", "token", "--hosts", "2,3", "--laps", "20", "--rounds", "2", "--warmup", "2",
                                      "--csv", "\(dir)/token.csv"])
        #expect(status == 0, "\(text)")
        #expect(text.contains("| 2 | ") && text.contains("| 3 | "), "\(text)")
        let csv = try String(contentsOfFile: "\(dir)/token.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 2 * 2 * 20, "\(csv.count) lines")
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(servers("psync bench token-peer") == before, "a peer process was left behind")
    }
}
