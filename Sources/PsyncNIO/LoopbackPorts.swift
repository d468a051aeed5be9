#if canImport(Glibc)
import Glibc
#endif

/// Free loopback UDP ports for runs that must name every host's endpoint before any process
/// binds (benchmarks and tests start their nodes from a peer list): each is bound with port 0,
/// read and released, so another socket could take it before its node binds; the node's bind
/// then fails loudly (nodes do not share ports).
public enum LoopbackPorts {
    public static func free(_ count: Int) throws(PeerAddressError) -> [Int] {
        var sockets: [Int32] = []
        defer { for s in sockets { close(s) } }
        var ports: [Int] = []
        for _ in 0..<count {
            let s = socket(AF_INET, Int32(SOCK_DGRAM.rawValue), 0)
            sockets.append(s)
            var address = sockaddr_in()
            address.sin_family = sa_family_t(AF_INET)
            address.sin_addr.s_addr = inet_addr("127.0.0.1")
            var length = socklen_t(MemoryLayout<sockaddr_in>.size)
            let bound = withUnsafePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { bind(s, $0, length) } }
            guard bound == 0 else { throw PeerAddressError("no free loopback UDP port") }
            _ = withUnsafeMutablePointer(to: &address) { $0.withMemoryRebound(to: sockaddr.self, capacity: 1) { getsockname(s, $0, &length) } }
            ports.append(Int(UInt16(bigEndian: address.sin_port)))
        }
        return ports
    }
}
