import Foundation
import NIOCore
import NIOPosix
import Psync
import PsyncSimulator
@testable import PsyncNIO

/// Free loopback UDP ports: bound with port 0, read, released (the system does not hand the
/// same port out again at once).
func freePorts(_ count: Int) throws -> [Int] {
    var sockets: [Int32] = []
    defer { for s in sockets { close(s) } }
    return try (0..<count).map { _ in
        let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
        sockets.append(s)
        var address = sockaddr_in()
        address.sin_family = sa_family_t(AF_INET)
        address.sin_addr.s_addr = inet_addr("127.0.0.1")
        address.sin_port = 0
        var length = socklen_t(MemoryLayout<sockaddr_in>.size)
        let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, length) } }
        guard bound == 0 else { throw PeerAddressError("bind failed") }
        _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) } }
        return Int(UInt16(bigEndian: address.sin_port))
    }
}

/// Configurations of `n` nodes on loopback (hosts 0..<n), each listing the others.
func loopbackConfigs(_ n: Int, faults: (Int) -> LinkModel = { _ in FaultInjector.none.link },
                     tracePaths: [String?]? = nil) throws -> [NodeConfig] {
    let ports = try freePorts(n)
    var book = PeerAddressBook()
    for i in 0..<n { try book.add(HostID(UInt32(i)), at: .init(address: "127.0.0.1", port: ports[i])) }
    var configs: [NodeConfig] = []
    for i in 0..<n {
        let h = HostID(UInt32(i))
        let trace: String? = tracePaths.flatMap { $0[i] }
        configs.append(NodeConfig(host: h, listen: book.endpoint(of: h)!, peers: book, seed: UInt64(i + 1),
                                  faults: faults(i), tracePath: trace))
    }
    return configs
}

func temporaryDirectory() -> String {
    let path = NSTemporaryDirectory() + "psync-nio-\(UUID().uuidString)"
    try? FileManager.default.createDirectory(atPath: path, withIntermediateDirectories: true)
    return path
}
