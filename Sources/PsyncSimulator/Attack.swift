import Psync

/// An adversary outside the conversation, at virtual time `at`, against host `host`: it sees
/// every packet on the network but holds no key (authenticated conversations, `PsyncAuth`).
///
/// - `forge`: a new data message that claims to come from the next participant
///   (`(host + 1) mod n`), with that sender's next sequence number as seen on the network, in the
///   context of the newest message seen, sent from that participant's address. Authenticated, it
///   carries a tag under a key of the adversary's own.
/// - `alter`: the next data packet that reaches `host` has its payload changed in flight (its
///   first byte flipped, or a byte added to an empty one); its tag is kept.
/// - `replay`: the newest data packet seen on the network reaches `host` again, unchanged.
///
/// Without authentication the first two succeed (which is what the paper's trusted network
/// assumes away); with it they are dropped and traced (`unauthenticated`). A replay is a
/// duplicate either way.
public struct Attack: Codable, Sendable, Equatable {
    public enum Kind: String, Codable, Sendable, CaseIterable { case forge, alter, replay }
    public var kind: Kind
    public var host: UInt32
    public var atNanoseconds: UInt64

    public init(_ kind: Kind, host: UInt32, atNanoseconds: UInt64) {
        self.kind = kind
        self.host = host
        self.atNanoseconds = atNanoseconds
    }

    /// Parses `forge:2@100ms`: a forged message reaches host 2 at 100 ms.
    public init(parsing text: String) throws(ArgumentSyntaxError) {
        let parts = text.split(separator: ":", maxSplits: 1, omittingEmptySubsequences: false).map(String.init)
        let kinds = Kind.allCases.map(\.rawValue).joined(separator: ", ")
        guard parts.count == 2 else { throw ArgumentSyntaxError(text, "an attack is KIND:HOST@TIME (forge:2@100ms; kinds \(kinds))") }
        guard let kind = Kind(rawValue: parts[0]) else { throw ArgumentSyntaxError(text, "unknown attack '\(parts[0])' (\(kinds))") }
        let target = try Crash(parsing: parts[1])
        self.init(kind, host: target.host, atNanoseconds: target.atNanoseconds)
    }

    /// The command-line spelling (`--attack`).
    public var argument: String { "\(kind.rawValue):\(host)@\(formatDuration(atNanoseconds))" }
}
