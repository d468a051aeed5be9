import Foundation
import Testing

/// `psync bench rtt` end to end with tiny counts: every transport completes, the table has its
/// shape, and no server process is left behind.
@Suite(.serialized) struct BenchCommandTests {
    func servers(_ pattern: String = "psync bench rtt-serve") -> Int {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["pgrep", "-f", pattern]
        let out = Pipe()
        p.standardOutput = out
        try? p.run()
        p.waitUntilExit()
        return String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self).split(separator: "\n").count
    }

    @Test func roundTripBenchmarkRunsEveryTransport() async throws {
        let before = servers()
        let dir = temporaryDirectory()
        // The C floor, built as Tools/paper-tables.sh builds it.
        let source = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent()
            .deletingLastPathComponent().appendingPathComponent("Tools/c/pingpong.c").path
        let cc = Process()
        cc.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        cc.arguments = ["cc", "-O2", "-o", "\(dir)/pingpong", source]
        try cc.run()
        cc.waitUntilExit()
        #expect(cc.terminationStatus == 0, "cc could not build Tools/c/pingpong.c")
        let p = Process()
        p.executableURL = URL(fileURLWithPath: NodeProcess.binary)
        p.arguments = ["bench", "rtt", "--count", "40", "--rounds", "2", "--warmup", "4", "--csv", "\(dir)/rtt.csv",
                       "--c-floor", "\(dir)/pingpong"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
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

    /// `psync bench token` with tiny counts: both transports complete for rings of 2 and 3, and no
    /// peer process is left behind.
    @Test func tokenBenchmarkRunsBothTransports() async throws {
        let before = servers("psync bench token-peer")
        let dir = temporaryDirectory()
        let p = Process()
        p.executableURL = URL(fileURLWithPath: NodeProcess.binary)
        p.arguments = ["bench", "token", "--hosts", "2,3", "--laps", "20", "--rounds", "2", "--warmup", "2", "--csv", "\(dir)/token.csv"]
        let out = Pipe()
        p.standardOutput = out
        try p.run()
        let text = String(decoding: out.fileHandleForReading.readDataToEndOfFile(), as: UTF8.self)
        p.waitUntilExit()
        #expect(p.terminationStatus == 0, "\(text)")
        #expect(text.contains("| 2 | ") && text.contains("| 3 | "), "\(text)")
        let csv = try String(contentsOfFile: "\(dir)/token.csv", encoding: .utf8).split(separator: "\n")
        #expect(csv.count == 1 + 2 * 2 * 20, "\(csv.count) lines")
        try await Task.sleep(nanoseconds: 200_000_000)
        #expect(servers("psync bench token-peer") == before, "a peer process was left behind")
    }
}
