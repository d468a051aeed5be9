import Foundation
import PsyncAnalysis
import Testing

/// Hosts at distinct addresses: two network namespaces joined by a veth pair (10.77.0.1 and
/// 10.77.0.2), one `psync node` in each. Needs `ip netns` (root or CAP_NET_ADMIN); where
/// namespaces are not permitted the test says so and records nothing else.
@Suite(.serialized) struct NamespaceTests {
    static let namespaces = ["psync-ns-a-\(getpid())", "psync-ns-b-\(getpid())"]

    @discardableResult
    static func ip(_ arguments: String) -> Bool {
        let p = Process()
        p.executableURL = URL(fileURLWithPath: "/usr/bin/env")
        p.arguments = ["ip"] + arguments.split(separator: " ").map(String.init)
        p.standardOutput = FileHandle.nullDevice
        p.standardError = FileHandle.nullDevice
        guard (try? p.run()) != nil else { return false }
        p.waitUntilExit()
        return p.terminationStatus == 0
    }

    /// Creates the namespaces and the link; false (after cleaning up) if not permitted.
    static func setUp() -> Bool {
        let (a, b) = (namespaces[0], namespaces[1])
        guard ip("netns add \(a)") else { return false }
        let steps = ["netns add \(b)", "link add veth-\(getpid() % 10000)a type veth peer name veth-\(getpid() % 10000)b",
                     "link set veth-\(getpid() % 10000)a netns \(a)", "link set veth-\(getpid() % 10000)b netns \(b)",
                     "-n \(a) addr add 10.77.0.1/24 dev veth-\(getpid() % 10000)a", "-n \(b) addr add 10.77.0.2/24 dev veth-\(getpid() % 10000)b",
                     "-n \(a) link set veth-\(getpid() % 10000)a up", "-n \(b) link set veth-\(getpid() % 10000)b up",
                     "-n \(a) link set lo up", "-n \(b) link set lo up"]
        for step in steps where !ip(step) {
            tearDown()
            return false
        }
        return true
    }

    static func tearDown() {
        for ns in namespaces { ip("netns del \(ns)") }
    }

    @Test func twoHostsInTwoNamespaces() async throws {
        guard Self.setUp() else {
            print("NamespaceTests: skipped: network namespaces are not permitted here (ip netns add failed; needs root or CAP_NET_ADMIN)")
            return
        }
        defer { Self.tearDown() }
        let dir = temporaryDirectory()
        let peers = "0=10.77.0.1:9500,1=10.77.0.2:9500"
        var nodes: [NodeProcess] = []
        for i in [1, 0] {
            let node = try NodeProcess(host: i, arguments: ["--peers", peers, "--workload", "--messages", "200", "--interval", "2ms",
                                                            "--drop", "0.05", "--filter", "waves", "--seed", "\(i + 1)",
                                                            "--linger", "300ms", "--timeout", "60s", "--trace", "\(dir)/h\(i).jsonl.lz4"],
                                       directory: dir, launcher: ["/usr/bin/env", "ip", "netns", "exec", Self.namespaces[i]])
            #expect(await node.waitUntilListening(), "\(node.errors)")
            nodes.append(node)
        }
        for n in nodes {
            let status = await n.wait(seconds: 90)
            #expect(status == 0, "host \(n.host): \(n.errors)")
            #expect(n.output.contains("done: 200 data messages delivered"), "host \(n.host): \(n.output)")
        }
        var checker = TraceChecker()
        let outcome = try TraceStream.read(["\(dir)/h0.jsonl.lz4", "\(dir)/h1.jsonl.lz4"]) { checker.observe($0) }
        #expect(checker.finish(complete: outcome.complete, readError: nil) == .valid, "\(checker.violations.prefix(3))")
    }
}
