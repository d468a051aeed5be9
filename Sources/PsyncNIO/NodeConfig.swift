import Psync
import PsyncAuth
import PsyncSimulator
import PsyncTrace

/// Everything one node process needs: who it is, where it and its peers listen, the engine's
/// settings, the faults to inject and where to write its trace.
public struct NodeConfig: Sendable {
    /// The host this process runs (its participants are `p<host>`, `p<host>.1`, ...).
    public var host: HostID
    /// The address the node binds; it must be the node's own entry in `peers` when that lists it.
    public var listen: PeerAddressBook.Endpoint
    /// Every other host's endpoint (the node's own is added from `listen`).
    public var peers: PeerAddressBook
    public var engine: HostConfig
    /// Seeds the engine's timer jitter and the injected faults.
    public var seed: UInt64
    /// Faults injected on outgoing datagrams (`FaultInjector`); none by default.
    public var faults: LinkModel
    /// Write the node's trace here (one trace per process, `Traces/FORMAT.md`).
    public var tracePath: String?
    /// How often the trace's current frame is ended and written, so that a quiet or killed
    /// process leaves a readable trace up to this long before its end.
    public var traceFlushNanoseconds: UInt64
    /// The node's command-line settings, recorded in the trace header.
    public var settings: JSONValue
    /// What the trace header says the run is: its conversation, participants and filter stack
    /// (the trace tools check that the traces of one run agree). A node serving several
    /// conversations leaves them empty.
    public var runConversation: ConversationID?
    public var runParticipants: [ParticipantID] = []
    public var runFilters: [String] = []
    /// Section 5: the host's non-volatile log (`PsyncLog.MessageLog`), appended to as messages
    /// are collected; nil keeps none.
    public var logPath: String?
    /// Socket receive buffer: bursts of a many-participant conversation arrive together.
    public var receiveBufferBytes: Int
    /// Fragment size and buffer bounds of the blast layer.
    public var blast: BlastConfig
    /// Authenticated conversations: every packet sent is sealed with an HMAC-SHA256 tag under
    /// its conversation's key, every packet received must carry a right one (`PsyncAuth`); the
    /// tag covers the packet before the blast layer cuts it. nil: the paper's trusted network.
    public var authentication: PacketAuthenticator?

    public init(host: HostID, listen: PeerAddressBook.Endpoint, peers: PeerAddressBook = PeerAddressBook(),
                engine: HostConfig = HostConfig(), seed: UInt64 = 1, faults: LinkModel = FaultInjector.none.link,
                tracePath: String? = nil, traceFlushNanoseconds: UInt64 = 1_000_000_000, settings: JSONValue = .object([]),
                receiveBufferBytes: Int = 4 << 20, blast: BlastConfig = BlastConfig()) {
        self.host = host
        self.listen = listen
        self.peers = peers
        self.engine = engine
        self.seed = seed
        self.faults = faults
        self.tracePath = tracePath
        self.traceFlushNanoseconds = traceFlushNanoseconds
        self.settings = settings
        self.receiveBufferBytes = receiveBufferBytes
        self.blast = blast
    }

    /// The peers with the node's own endpoint.
    func addressBook() throws(PeerAddressError) -> PeerAddressBook {
        var book = peers
        try book.add(host, at: listen)
        return book
    }
}

/// What a node's shell did, beside what the engine counts (`HostCounters`).
public struct NodeCounters: Sendable, Equatable {
    public var datagramsSent = 0
    public var datagramsReceived = 0
    public var bytesSent = 0
    public var bytesReceived = 0
    /// Outgoing datagrams the fault injection dropped, and extra copies it made.
    public var injectedLosses = 0
    public var injectedDuplicates = 0
    /// Datagrams from an address that is not a listed host: dropped before the engine.
    public var unknownSourceDrops = 0
    /// Datagrams the socket refused to send (the error is traced).
    public var sendErrors = 0
    /// Packets whose authentication tag was missing or wrong: dropped before the engine.
    public var unauthenticatedDrops = 0
}
