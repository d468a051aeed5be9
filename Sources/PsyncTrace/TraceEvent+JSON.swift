import Psync

/// The JSON Lines encoding of trace events (one object per line; `Traces/FORMAT.md`). Writing
/// goes straight to bytes, since the writer must keep up with the engine; reading goes through
/// `JSONValue` and accepts unknown kinds and fields, so the schema can grow without a version bump.
extension TraceEvent {
    /// Appends the event as one JSON object (without the newline).
    public func write(to w: inout JSONWriter) {
        if case .header(let h) = kind { return h.write(to: &w) }
        w.ascii("{\"t\":")
        w.number(time)
        w.ascii(",\"kind\":")
        if case .other(let name, _) = kind { w.string(name) } else { w.ascii("\""); w.ascii(kind.staticName); w.ascii("\"") }
        if let host {
            w.ascii(",\"host\":")
            w.number(UInt64(host.rawValue))
        }
        switch kind {
        case .header:
            break
        case .open(let c, let p, let ps, let active):
            w.cid(c); w.participant("p", p); w.participants("participants", ps); w.flag("active", active)
        case .send(let c, let p, let m, let preds, let bytes, let content):
            w.cid(c); w.participant("p", p); w.mid("mid", m); w.mids("preds", preds); w.count("bytes", bytes)
            if let content { w.ascii(",\"content\":"); w.string(content) }
        case .packetOut(let r):
            w.packet(r, peerKey: "to")
        case .packetIn(let r):
            w.packet(r, peerKey: "from")
        case .arrive(let c, let m, let preds):
            w.cid(c); w.mid("mid", m); w.mids("preds", preds)
        case .hold(let c, let m, let missing):
            w.cid(c); w.mid("mid", m); w.mids("missing", missing)
        case .release(let c, let m), .resend(let c, let m):
            w.cid(c); w.mid("mid", m)
        case .retransmitRequest(let c, let m, let leaves, let to, let broadcast):
            w.cid(c)
            if let m { w.mid("mid", m) }
            w.mids("leaves", leaves); w.hosts("to", to); w.flag("broadcast", broadcast)
        case .frontierRequest(let c, let frontier, let wanted, let held, let reply, let to, let reason):
            w.cid(c); w.mids("frontier", frontier); w.mids("wanted", wanted); w.mids("held", held); w.flag("reply", reply)
            w.hosts("to", to)
            w.ascii(",\"reason\":"); w.string(reason)
        case .retransmitAnswer(let c, let requester, let ms, let cut):
            w.cid(c); w.host("requester", requester); w.mids("mids", ms)
            if cut { w.flag("cut", true) }
        case .digestsStopped(let c, let hosts):
            w.cid(c); w.hosts("unanswered", hosts)
        case .resendSuccessors(let c, let m, let successors, let to):
            w.cid(c); w.mid("mid", m); w.mids("successors", successors); w.host("to", to)
        case .receive(let c, let p, let m), .stable(let c, let p, let m):
            w.cid(c); w.participant("p", p); w.mid("mid", m)
        case .maskOut(let c, let p, let target), .maskIn(let c, let p, let target):
            w.cid(c); w.participant("p", p); w.participant("target", target)
        case .drop(let d):
            w.ascii(",\"reason\":"); w.string(d.reason)
            if let c = d.conversation { w.cid(c) }
            if let m = d.message { w.mid("mid", m) }
            if let f = d.from { w.host("from", f) }
            if let t = d.to { w.host("to", t) }
            if !d.detail.isEmpty { w.ascii(",\"detail\":"); w.string(d.detail) }
        case .crash:
            break
        case .partition(let side, let heal):
            w.hosts("side", side); w.ascii(",\"heal\":"); w.number(heal)
        case .heal(let side):
            w.hosts("side", side)
        case .end(let reason):
            w.ascii(",\"reason\":"); w.string(reason)
        case .other(_, let fields):
            for (k, v) in fields where k != "t" && k != "kind" && k != "host" {
                w.append(UInt8(ascii: ","))
                w.string(k)
                w.append(UInt8(ascii: ":"))
                w.value(v)
            }
        }
        w.append(UInt8(ascii: "}"))
    }

    /// The event as one line of JSON (without the newline).
    public var jsonLine: String {
        var w = JSONWriter()
        write(to: &w)
        return w.text
    }

    /// Decodes a record. Unknown kinds become `.other`; a known kind with a missing or
    /// ill-typed field is an error.
    public init(json: JSONValue) throws(TraceFormatError) {
        guard case .object(let fields) = json else { throw TraceFormatError("a record must be a JSON object") }
        let r = FieldReader(fields: fields)
        let name = try r.string("kind")
        if name == "header" {
            self.init(time: 0, host: nil, .header(try TraceHeader(r)))
            return
        }
        r.rewind()
        let time = try r.uint("t")
        let host = try r.optionalHost("host")
        let kind: Kind
        switch Self.knownKinds[name] {
        case .open: kind = .open(try r.cid(), try r.participant("p"), participants: try r.participants("participants"), active: try r.bool("active"))
        case .send:
            kind = .send(try r.cid(), try r.participant("p"), try r.mid("mid"), predecessors: try r.mids("preds"),
                         payloadBytes: try r.int("bytes"),
                         content: try r.optional("content") { v throws(TraceFormatError) in try r.stringValue(v, "content") })
        case .packetOut: kind = .packetOut(try r.packet(peerKey: "to"))
        case .packetIn: kind = .packetIn(try r.packet(peerKey: "from"))
        case .arrive: kind = .arrive(try r.cid(), try r.mid("mid"), predecessors: try r.mids("preds"))
        case .hold: kind = .hold(try r.cid(), try r.mid("mid"), missing: try r.mids("missing"))
        case .release: kind = .release(try r.cid(), try r.mid("mid"))
        case .rrSent:
            kind = .retransmitRequest(try r.cid(), try r.optionalMid("mid"), leaves: try r.mids("leaves"),
                                      to: try r.hosts("to"), broadcast: try r.bool("broadcast"))
        case .frSent:
            kind = .frontierRequest(try r.cid(), frontier: try r.mids("frontier"), wanted: try r.mids("wanted"),
                                    held: try r.mids("held"), reply: try r.bool("reply"), to: try r.hosts("to"),
                                    reason: try r.string("reason"))
        case .rrAnswered:
            kind = .retransmitAnswer(try r.cid(), requester: try r.host("requester"), messages: try r.mids("mids"),
                                     cut: try r.optional("cut") { v throws(TraceFormatError) in try r.boolValue(v, "cut") } ?? false)
        case .digestsStopped: kind = .digestsStopped(try r.cid(), unanswered: try r.hosts("unanswered"))
        case .resend: kind = .resend(try r.cid(), try r.mid("mid"))
        case .resendSuccessors:
            kind = .resendSuccessors(try r.cid(), try r.mid("mid"), successors: try r.mids("successors"), to: try r.host("to"))
        case .receive: kind = .receive(try r.cid(), try r.participant("p"), try r.mid("mid"))
        case .stable: kind = .stable(try r.cid(), try r.participant("p"), try r.mid("mid"))
        case .maskOut: kind = .maskOut(try r.cid(), try r.participant("p"), target: try r.participant("target"))
        case .maskIn: kind = .maskIn(try r.cid(), try r.participant("p"), target: try r.participant("target"))
        case .drop:
            kind = .drop(DropRecord(
                reason: try r.string("reason"), conversation: try r.optional("cid") { v throws(TraceFormatError) in ConversationID(try r.uintValue(v, "cid")) },
                message: try r.optionalMid("mid"), from: try r.optionalHost("from"), to: try r.optionalHost("to"),
                detail: try r.optional("detail") { v throws(TraceFormatError) in try r.stringValue(v, "detail") } ?? ""))
        case .crash: kind = .crash
        case .partition: kind = .partition(side: try r.hosts("side"), healAt: try r.uint("heal"))
        case .heal: kind = .heal(side: try r.hosts("side"))
        case .end: kind = .end(reason: try r.string("reason"))
        case nil: kind = .other(name: name, fields: fields.filter { $0.0 != "t" && $0.0 != "kind" && $0.0 != "host" })
        }
        self.init(time: time, host: host, kind)
    }
}

extension TraceHeader {
    func write(to w: inout JSONWriter) {
        w.ascii("{\"kind\":\"header\",\"schema\":"); w.string(schema)
        w.ascii(",\"toolkit\":"); w.string(toolkit)
        w.ascii(",\"clock\":"); w.string(clock)
        if let seed { w.ascii(",\"seed\":"); w.number(seed) }
        w.participants("participants", participants)
        if let conversation { w.cid(conversation) }
        w.ascii(",\"filters\":"); w.value(.array(filters.map { .string($0) }))
        w.ascii(",\"run\":"); w.value(run)
        w.append(UInt8(ascii: "}"))
    }

    init(_ r: FieldReader) throws(TraceFormatError) {
        let schema = try r.string("schema")
        guard schema.hasPrefix("psync-trace/") else { throw TraceFormatError("unknown schema '\(schema)'") }
        self.init(schema: schema, toolkit: try r.string("toolkit"), clock: try r.string("clock"),
                  seed: try r.optional("seed") { v throws(TraceFormatError) in try r.uintValue(v, "seed") },
                  participants: try r.participants("participants"),
                  conversation: try r.optional("cid") { v throws(TraceFormatError) in ConversationID(try r.uintValue(v, "cid")) },
                  filters: try r.array("filters").map { v throws(TraceFormatError) in try r.stringValue(v, "filters") },
                  run: r.lookup("run") ?? .null)
    }
}

extension TraceEvent {
    /// The kinds this version decodes, looked up by one hash rather than a chain of string
    /// comparisons (readers decode millions of records).
    enum KnownKind {
        case open, send, packetOut, packetIn, arrive, hold, release, rrSent, frSent, rrAnswered, digestsStopped
        case resend, resendSuccessors, receive, stable, maskOut, maskIn, drop, crash, partition, heal, end
    }

    static let knownKinds: [String: KnownKind] = [
        "open": .open, "send": .send, "packet_out": .packetOut, "packet_in": .packetIn, "arrive": .arrive,
        "hold": .hold, "release": .release, "rr_sent": .rrSent, "fr_sent": .frSent, "rr_answered": .rrAnswered,
        "digests_stopped": .digestsStopped, "resend": .resend,
        "resend_successors": .resendSuccessors, "receive": .receive, "stable": .stable, "mask_out": .maskOut,
        "mask_in": .maskIn, "drop": .drop, "crash": .crash, "partition": .partition, "heal": .heal,
        "end": .end,
    ]
}

/// Why a record does not decode as a trace event.
public struct TraceFormatError: Error, Equatable, CustomStringConvertible {
    public var description: String
    public init(_ description: String) { self.description = description }
}

/// Typed access to a record's fields, with errors that name the field.
///
/// Lookups start where the previous one ended: records list their fields in the order decoders
/// ask for them, so nearly every lookup is one comparison of equal keys (the fast path of
/// String equality) instead of a scan through unequal ones.
final class FieldReader {
    let fields: [(String, JSONValue)]
    private var cursor = 0

    init(fields: [(String, JSONValue)]) { self.fields = fields }

    /// Lookups start again from the first field.
    func rewind() { cursor = 0 }

    func lookup(_ key: String) -> JSONValue? {
        let n = fields.count
        for k in 0..<n {
            let i = (cursor + k) % n
            if fields[i].0 == key {
                cursor = i + 1
                return fields[i].1
            }
        }
        return nil
    }

    func field(_ key: String) throws(TraceFormatError) -> JSONValue {
        guard let v = lookup(key) else { throw TraceFormatError("missing field '\(key)'") }
        return v
    }
    func optional<T>(_ key: String, _ decode: (JSONValue) throws(TraceFormatError) -> T) throws(TraceFormatError) -> T? {
        guard let v = lookup(key), v != .null else { return nil }
        return try decode(v)
    }
    func uintValue(_ v: JSONValue, _ key: String) throws(TraceFormatError) -> UInt64 {
        guard let u = v.uint64 else { throw TraceFormatError("field '\(key)' must be a non-negative integer") }
        return u
    }
    func stringValue(_ v: JSONValue, _ key: String) throws(TraceFormatError) -> String {
        guard let s = v.string else { throw TraceFormatError("field '\(key)' must be a string") }
        return s
    }
    func string(_ key: String) throws(TraceFormatError) -> String { try stringValue(try field(key), key) }
    func uint(_ key: String) throws(TraceFormatError) -> UInt64 { try uintValue(try field(key), key) }
    func int(_ key: String) throws(TraceFormatError) -> Int {
        let u = try uint(key)
        guard u <= UInt64(Int.max) else { throw TraceFormatError("field '\(key)' is too large") }
        return Int(u)
    }
    func boolValue(_ v: JSONValue, _ key: String) throws(TraceFormatError) -> Bool {
        guard let b = v.bool else { throw TraceFormatError("field '\(key)' must be true or false") }
        return b
    }
    func bool(_ key: String) throws(TraceFormatError) -> Bool { try boolValue(try field(key), key) }
    func array(_ key: String) throws(TraceFormatError) -> [JSONValue] {
        guard let a = try field(key).array else { throw TraceFormatError("field '\(key)' must be an array") }
        return a
    }
    func cid() throws(TraceFormatError) -> ConversationID { ConversationID(try uint("cid")) }
    func hostValue(_ v: JSONValue, _ key: String) throws(TraceFormatError) -> HostID {
        let u = try uintValue(v, key)
        guard u <= UInt64(UInt32.max) else { throw TraceFormatError("field '\(key)' is not a host id") }
        return HostID(UInt32(u))
    }
    func host(_ key: String) throws(TraceFormatError) -> HostID { try hostValue(try field(key), key) }
    func optionalHost(_ key: String) throws(TraceFormatError) -> HostID? {
        try optional(key) { v throws(TraceFormatError) in try hostValue(v, key) }
    }
    func hosts(_ key: String) throws(TraceFormatError) -> [HostID] {
        try array(key).map { v throws(TraceFormatError) in try hostValue(v, key) }
    }
    func midValue(_ v: JSONValue, _ key: String) throws(TraceFormatError) -> MessageID {
        guard let m = MessageID(label: try stringValue(v, key)) else { throw TraceFormatError("field '\(key)' is not a message id") }
        return m
    }
    func mid(_ key: String) throws(TraceFormatError) -> MessageID { try midValue(try field(key), key) }
    func optionalMid(_ key: String) throws(TraceFormatError) -> MessageID? {
        try optional(key) { v throws(TraceFormatError) in try midValue(v, key) }
    }
    func mids(_ key: String) throws(TraceFormatError) -> [MessageID] {
        try array(key).map { v throws(TraceFormatError) in try midValue(v, key) }
    }
    func participantValue(_ v: JSONValue, _ key: String) throws(TraceFormatError) -> ParticipantID {
        guard let p = ParticipantID(label: try stringValue(v, key)) else { throw TraceFormatError("field '\(key)' is not a participant") }
        return p
    }
    func participant(_ key: String) throws(TraceFormatError) -> ParticipantID { try participantValue(try field(key), key) }
    func participants(_ key: String) throws(TraceFormatError) -> [ParticipantID] {
        try array(key).map { v throws(TraceFormatError) in try participantValue(v, key) }
    }
    func packet(peerKey: String) throws(TraceFormatError) -> PacketRecord {
        PacketRecord(type: try string("type"), conversation: try cid(), message: try optionalMid("mid"),
                     peer: try host(peerKey), bytes: try int("bytes"), resent: try optional("resent") { v throws(TraceFormatError) in v.bool ?? false } ?? false)
    }
}

extension JSONWriter {
    mutating func cid(_ c: ConversationID) { ascii(",\"cid\":"); number(c.rawValue) }
    mutating func flag(_ key: StaticString, _ b: Bool) { append(UInt8(ascii: ",")); self.key(key); ascii(b ? "true" : "false") }
    mutating func count(_ key: StaticString, _ n: Int) { append(UInt8(ascii: ",")); self.key(key); number(UInt64(max(0, n))) }
    mutating func host(_ key: StaticString, _ h: HostID) { append(UInt8(ascii: ",")); self.key(key); number(UInt64(h.rawValue)) }
    mutating func hosts(_ key: StaticString, _ hs: [HostID]) {
        append(UInt8(ascii: ",")); self.key(key)
        append(UInt8(ascii: "["))
        for (i, h) in hs.enumerated() { if i > 0 { append(UInt8(ascii: ",")) }; number(UInt64(h.rawValue)) }
        append(UInt8(ascii: "]"))
    }
    /// A message id as its paper-style label, written without building a String.
    mutating func midLabel(_ m: MessageID) {
        append(UInt8(ascii: "\""))
        if m.sender < 26 {
            append(UInt8(ascii: "a") + UInt8(m.sender))
        } else {
            append(UInt8(ascii: "p")); number(UInt64(m.sender)); append(UInt8(ascii: ":"))
        }
        number(UInt64(m.sequence))
        append(UInt8(ascii: "\""))
    }
    mutating func mid(_ key: StaticString, _ m: MessageID) { append(UInt8(ascii: ",")); self.key(key); midLabel(m) }
    mutating func mids(_ key: StaticString, _ ms: [MessageID]) {
        append(UInt8(ascii: ",")); self.key(key)
        append(UInt8(ascii: "["))
        for (i, m) in ms.enumerated() { if i > 0 { append(UInt8(ascii: ",")) }; midLabel(m) }
        append(UInt8(ascii: "]"))
    }
    mutating func participantLabel(_ p: ParticipantID) {
        append(UInt8(ascii: "\""))
        append(UInt8(ascii: "p"))
        number(UInt64(p.host.rawValue))
        if p.local != 0 { append(UInt8(ascii: ".")); number(UInt64(p.local)) }
        append(UInt8(ascii: "\""))
    }
    mutating func participant(_ key: StaticString, _ p: ParticipantID) { append(UInt8(ascii: ",")); self.key(key); participantLabel(p) }
    mutating func participants(_ key: StaticString, _ ps: [ParticipantID]) {
        append(UInt8(ascii: ",")); self.key(key)
        append(UInt8(ascii: "["))
        for (i, p) in ps.enumerated() { if i > 0 { append(UInt8(ascii: ",")) }; participantLabel(p) }
        append(UInt8(ascii: "]"))
    }
    mutating func packet(_ r: PacketRecord, peerKey: StaticString) {
        ascii(",\"type\":"); string(r.type)
        cid(r.conversation)
        if let m = r.message { mid("mid", m) }
        append(UInt8(ascii: ",")); key(peerKey); number(UInt64(r.peer.rawValue))
        count("bytes", r.bytes)
        if r.resent { flag("resent", true) }
    }
}
