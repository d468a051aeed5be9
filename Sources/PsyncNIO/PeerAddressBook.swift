import Psync

/// Where each host of a real run listens: host ids to `address:port` (DESIGN.md "Addressing").
///
/// Section 3 divides a pid into a host part and a local part; a real run maps the host part to a
/// UDP endpoint. A datagram is attributed to the host whose endpoint it came from, so a packet
/// from an address the book does not list is not a participant host's and is dropped (traced)
/// before the engine sees it.
public struct PeerAddressBook: Sendable, Equatable {
    public struct Endpoint: Hashable, Sendable, CustomStringConvertible {
        public var address: String
        public var port: Int
        public init(address: String, port: Int) {
            self.address = address
            self.port = port
        }
        public var description: String { address.contains(":") ? "[\(address)]:\(port)" : "\(address):\(port)" }

        /// Parses `127.0.0.1:9000`, `[::1]:9000`.
        public init?(parsing text: String) {
            let address: Substring, port: Substring
            if text.hasPrefix("["), let close = text.firstIndex(of: "]") {
                address = text[text.index(after: text.startIndex)..<close]
                let rest = text[text.index(after: close)...]
                guard rest.hasPrefix(":") else { return nil }
                port = rest.dropFirst()
            } else {
                let parts = text.split(separator: ":", omittingEmptySubsequences: false)
                guard parts.count == 2 else { return nil }
                (address, port) = (parts[0], parts[1])
            }
            guard !address.isEmpty, let p = Int(port), (0...65535).contains(p) else { return nil }
            self.init(address: String(address), port: p)
        }
    }

    public private(set) var endpoints: [HostID: Endpoint] = [:]
    private var hosts: [Endpoint: HostID] = [:]

    public init() {}

    /// Adds `host` at `endpoint`. Two hosts at one endpoint would make sources ambiguous.
    public mutating func add(_ host: HostID, at endpoint: Endpoint) throws(PeerAddressError) {
        if let other = hosts[endpoint], other != host { throw PeerAddressError("\(endpoint) is given to both \(other) and \(host)") }
        if let old = endpoints[host], old != endpoint { throw PeerAddressError("\(host) is given two endpoints, \(old) and \(endpoint)") }
        endpoints[host] = endpoint
        hosts[endpoint] = host
    }

    public func endpoint(of host: HostID) -> Endpoint? { endpoints[host] }
    public var hostIDs: [HostID] { endpoints.keys.sorted() }

    /// Parses a peer list: entries `HOST=ADDRESS:PORT` separated by commas, spaces or new lines;
    /// `#` starts a comment (so a small config file of one entry per line reads the same).
    public init(parsing text: String) throws(PeerAddressError) {
        for line in text.split(whereSeparator: \.isNewline) {
            let content = line.split(separator: "#", maxSplits: 1, omittingEmptySubsequences: false).first ?? ""
            for entry in content.split(whereSeparator: { $0 == "," || $0 == " " || $0 == "\t" }) {
                let pair = entry.split(separator: "=", maxSplits: 1)
                guard pair.count == 2, let h = UInt32(pair[0].hasPrefix("h") ? pair[0].dropFirst() : pair[0]),
                      let endpoint = Endpoint(parsing: String(pair[1]))
                else { throw PeerAddressError("'\(entry)' is not HOST=ADDRESS:PORT (example: 1=127.0.0.1:9001)") }
                try add(HostID(h), at: endpoint)
            }
        }
    }
}

public struct PeerAddressError: Error, Sendable, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}
