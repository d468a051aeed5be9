/// A small JSON value type with a byte-level writer and parser: traces are JSON Lines, and the
/// offline tools read millions of records, so neither side goes through Foundation. Objects keep
/// their keys in order (as written), which also makes output deterministic.
public enum JSONValue: Sendable, Equatable {
    case null
    case bool(Bool)
    /// Integers are kept exact (trace times, ids and counters are 64-bit unsigned).
    case int(Int64)
    case uint(UInt64)
    case double(Double)
    case string(String)
    case array([JSONValue])
    case object([(String, JSONValue)])

    public static func == (a: JSONValue, b: JSONValue) -> Bool {
        switch (a, b) {
        case (.null, .null): true
        case (.bool(let x), .bool(let y)): x == y
        case (.int(let x), .int(let y)): x == y
        case (.uint(let x), .uint(let y)): x == y
        case (.int(let x), .uint(let y)), (.uint(let y), .int(let x)): x >= 0 && UInt64(x) == y
        case (.double(let x), .double(let y)): x == y
        case (.string(let x), .string(let y)): x == y
        case (.array(let x), .array(let y)): x == y
        case (.object(let x), .object(let y)): x.count == y.count && zip(x, y).allSatisfy { $0.0 == $1.0 && $0.1 == $1.1 }
        default: false
        }
    }

    public subscript(key: String) -> JSONValue? {
        guard case .object(let pairs) = self else { return nil }
        return pairs.first { $0.0 == key }?.1
    }

    public var uint64: UInt64? {
        switch self {
        case .uint(let v): v
        case .int(let v): v >= 0 ? UInt64(v) : nil
        default: nil
        }
    }
    public var int: Int? {
        switch self {
        case .uint(let v): v <= UInt64(Int.max) ? Int(v) : nil
        case .int(let v): Int(v)
        default: nil
        }
    }
    public var string: String? { if case .string(let s) = self { s } else { nil } }
    public var bool: Bool? { if case .bool(let b) = self { b } else { nil } }
    public var array: [JSONValue]? { if case .array(let a) = self { a } else { nil } }
    public var double: Double? {
        switch self {
        case .double(let d): d
        case .int(let i): Double(i)
        case .uint(let u): Double(u)
        default: nil
        }
    }

    /// The value as compact JSON text.
    public var text: String {
        var out = JSONWriter()
        out.value(self)
        return out.text
    }
}

/// Appends JSON to a byte buffer. The trace writer's hot path: it writes through a raw pointer
/// (no array uniqueness or exclusivity checks per byte), and integers and ASCII keys are written
/// without building intermediate strings. Noncopyable, since it owns its memory.
public struct JSONWriter: ~Copyable {
    private var base: UnsafeMutablePointer<UInt8>
    private var capacity: Int
    public private(set) var count = 0

    public init(capacity: Int = 1024) {
        self.capacity = max(16, capacity)
        base = .allocate(capacity: self.capacity)
    }

    deinit { base.deallocate() }

    /// A copy of what was written.
    public var bytes: [UInt8] { Array(UnsafeBufferPointer(start: base, count: count)) }
    public var text: String { String(decoding: UnsafeBufferPointer(start: base, count: count), as: UTF8.self) }

    public func withUnsafeBytes<R>(_ body: (UnsafeRawBufferPointer) -> R) -> R {
        body(UnsafeRawBufferPointer(start: base, count: count))
    }

    public mutating func removeAll() { count = 0 }

    /// Removes and returns the bytes from `offset` on.
    public mutating func removeTail(from offset: Int) -> [UInt8] {
        let tail = Array(UnsafeBufferPointer(start: base + offset, count: count - offset))
        count = offset
        return tail
    }

    public mutating func reserve(_ extra: Int) {
        guard count + extra > capacity else { return }
        let grown = max(capacity * 2, count + extra)
        let next = UnsafeMutablePointer<UInt8>.allocate(capacity: grown)
        next.update(from: base, count: count)
        base.deallocate()
        base = next
        capacity = grown
    }

    @inline(__always)
    public mutating func append(_ byte: UInt8) {
        if count == capacity { reserve(1) }
        base[count] = byte
        count += 1
    }

    public mutating func append(_ bytes: UnsafeRawBufferPointer) {
        reserve(bytes.count)
        if let src = bytes.baseAddress { (base + count).update(from: src.assumingMemoryBound(to: UInt8.self), count: bytes.count) }
        count += bytes.count
    }

    public mutating func append(_ bytes: [UInt8]) {
        bytes.withUnsafeBytes { append($0) }
    }

    public mutating func value(_ v: JSONValue) {
        switch v {
        case .null: ascii("null")
        case .bool(let b): ascii(b ? "true" : "false")
        case .int(let i): if i < 0 { append(UInt8(ascii: "-")); number(i.magnitude) } else { number(UInt64(i)) }
        case .uint(let u): number(u)
        case .double(let d): double(d)
        case .string(let s): string(s)
        case .array(let a):
            append(UInt8(ascii: "["))
            for (i, e) in a.enumerated() {
                if i > 0 { append(UInt8(ascii: ",")) }
                value(e)
            }
            append(UInt8(ascii: "]"))
        case .object(let pairs):
            append(UInt8(ascii: "{"))
            for (i, (k, e)) in pairs.enumerated() {
                if i > 0 { append(UInt8(ascii: ",")) }
                string(k)
                append(UInt8(ascii: ":"))
                value(e)
            }
            append(UInt8(ascii: "}"))
        }
    }

    @inline(__always)
    public mutating func ascii(_ s: StaticString) {
        let n = s.utf8CodeUnitCount
        reserve(n)
        (base + count).update(from: s.utf8Start, count: n)
        count += n
    }

    public mutating func number(_ v: UInt64) {
        reserve(20)
        var digits = 1
        var x = v
        while x >= 10 { x /= 10; digits += 1 }
        x = v
        var i = count + digits - 1
        repeat {
            base[i] = UInt8(ascii: "0") + UInt8(x % 10)
            x /= 10
            i -= 1
        } while x > 0
        count += digits
    }

    /// Doubles as Swift prints them (shortest round-trip form); non-finite values become null.
    public mutating func double(_ d: Double) {
        guard d.isFinite else { ascii("null"); return }
        append(Array("\(d)".utf8))
    }

    public mutating func string(_ s: String) {
        append(UInt8(ascii: "\""))
        var plain = true
        for b in s.utf8 where b < 0x20 || b == UInt8(ascii: "\"") || b == UInt8(ascii: "\\") { plain = false; break }
        if plain {
            var copy = s
            copy.withUTF8 { append(UnsafeRawBufferPointer($0)) }
        } else {
            for b in s.utf8 { escaped(b) }
        }
        append(UInt8(ascii: "\""))
    }

    private mutating func escaped(_ b: UInt8) {
        switch b {
        case UInt8(ascii: "\""): ascii("\\\"")
        case UInt8(ascii: "\\"): ascii("\\\\")
        case 0x0A: ascii("\\n")
        case 0x0D: ascii("\\r")
        case 0x09: ascii("\\t")
        case 0..<0x20:
            ascii("\\u00")
            let hex: StaticString = "0123456789abcdef"
            append(hex.utf8Start[Int(b >> 4)])
            append(hex.utf8Start[Int(b & 15)])
        default: append(b)
        }
    }

    /// `"key":` for a key known to need no escaping.
    public mutating func key(_ k: StaticString) {
        append(UInt8(ascii: "\""))
        ascii(k)
        append(UInt8(ascii: "\""))
        append(UInt8(ascii: ":"))
    }
}

/// Why a line is not JSON.
public struct JSONError: Error, Equatable, CustomStringConvertible {
    public var offset: Int
    public var reason: String
    public var description: String { "\(reason) at column \(offset + 1)" }
}

/// Parses one JSON text from bytes. Depth is bounded, so hostile input cannot exhaust the stack.
public struct JSONParser {
    let bytes: UnsafeBufferPointer<UInt8>
    var i = 0
    var depth = 0
    static let maxDepth = 64

    public static func parse(_ bytes: UnsafeBufferPointer<UInt8>) throws(JSONError) -> JSONValue {
        var p = JSONParser(bytes: bytes)
        p.skipSpace()
        let v = try p.value()
        p.skipSpace()
        guard p.i == bytes.count else { throw JSONError(offset: p.i, reason: "unexpected trailing characters") }
        return v
    }

    public static func parse(_ text: String) throws(JSONError) -> JSONValue {
        var copy = Array(text.utf8)
        let result: Result<JSONValue, JSONError> = copy.withUnsafeMutableBufferPointer { buffer in
            do throws(JSONError) { return .success(try parse(UnsafeBufferPointer(buffer))) } catch { return .failure(error) }
        }
        return try result.get()
    }

    mutating func skipSpace() {
        while i < bytes.count, bytes[i] == 0x20 || bytes[i] == 0x0A || bytes[i] == 0x0D || bytes[i] == 0x09 { i += 1 }
    }

    func fail(_ reason: String) -> JSONError { JSONError(offset: i, reason: reason) }

    mutating func value() throws(JSONError) -> JSONValue {
        guard i < bytes.count else { throw fail("unexpected end of line") }
        switch bytes[i] {
        case UInt8(ascii: "{"): return try object()
        case UInt8(ascii: "["): return try array()
        case UInt8(ascii: "\""): return .string(try string())
        case UInt8(ascii: "t"): try literal("true"); return .bool(true)
        case UInt8(ascii: "f"): try literal("false"); return .bool(false)
        case UInt8(ascii: "n"): try literal("null"); return .null
        default: return try number()
        }
    }

    mutating func literal(_ word: StaticString) throws(JSONError) {
        let n = word.utf8CodeUnitCount
        guard i + n <= bytes.count else { throw fail("unexpected end of line") }
        for k in 0..<n where bytes[i + k] != word.utf8Start[k] { throw fail("invalid literal") }
        i += n
    }

    mutating func object() throws(JSONError) -> JSONValue {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        defer { depth -= 1 }
        i += 1
        var pairs: [(String, JSONValue)] = []
        pairs.reserveCapacity(12)
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "}") { i += 1; return .object(pairs) }
        while true {
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: "\"") else { throw fail("expected a key") }
            let k = try string()
            skipSpace()
            guard i < bytes.count, bytes[i] == UInt8(ascii: ":") else { throw fail("expected ':'") }
            i += 1
            skipSpace()
            pairs.append((k, try value()))
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of line") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard bytes[i] == UInt8(ascii: "}") else { throw fail("expected ',' or '}'") }
            i += 1
            return .object(pairs)
        }
    }

    mutating func array() throws(JSONError) -> JSONValue {
        depth += 1
        guard depth <= Self.maxDepth else { throw fail("nesting deeper than \(Self.maxDepth)") }
        defer { depth -= 1 }
        i += 1
        var items: [JSONValue] = []
        skipSpace()
        if i < bytes.count, bytes[i] == UInt8(ascii: "]") { i += 1; return .array(items) }
        while true {
            skipSpace()
            items.append(try value())
            skipSpace()
            guard i < bytes.count else { throw fail("unexpected end of line") }
            if bytes[i] == UInt8(ascii: ",") { i += 1; continue }
            guard bytes[i] == UInt8(ascii: "]") else { throw fail("expected ',' or ']'") }
            i += 1
            return .array(items)
        }
    }

    mutating func string() throws(JSONError) -> String {
        i += 1
        let start = i
        var simple = true
        while i < bytes.count, bytes[i] != UInt8(ascii: "\"") {
            if bytes[i] == UInt8(ascii: "\\") { simple = false; i += 1 }
            else if bytes[i] < 0x20 { throw fail("control character in string") }
            i += 1
        }
        guard i < bytes.count else { throw fail("unterminated string") }
        defer { i += 1 }
        if simple { return String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self) }
        var out: [UInt8] = []
        var k = start
        while k < i {
            let b = bytes[k]
            guard b == UInt8(ascii: "\\") else { out.append(b); k += 1; continue }
            k += 1
            switch bytes[k] {
            case UInt8(ascii: "n"): out.append(0x0A)
            case UInt8(ascii: "r"): out.append(0x0D)
            case UInt8(ascii: "t"): out.append(0x09)
            case UInt8(ascii: "b"): out.append(0x08)
            case UInt8(ascii: "f"): out.append(0x0C)
            case UInt8(ascii: "u"):
                guard k + 4 < i, let code = UInt32(String(decoding: UnsafeBufferPointer(rebasing: bytes[(k + 1)...(k + 4)]), as: UTF8.self), radix: 16)
                else { throw JSONError(offset: k, reason: "invalid \\u escape") }
                // Surrogate pairs are not produced by our writer; they decode as U+FFFD.
                let scalar = Unicode.Scalar(code) ?? "\u{FFFD}"
                out.append(contentsOf: String(Character(scalar)).utf8)
                k += 4
            default: out.append(bytes[k])
            }
            k += 1
        }
        return String(decoding: out, as: UTF8.self)
    }

    mutating func number() throws(JSONError) -> JSONValue {
        let start = i
        var negative = false
        if bytes[i] == UInt8(ascii: "-") { negative = true; i += 1 }
        var magnitude: UInt64 = 0
        var digits = 0
        var overflow = false
        while i < bytes.count, bytes[i] >= UInt8(ascii: "0"), bytes[i] <= UInt8(ascii: "9") {
            let (m1, o1) = magnitude.multipliedReportingOverflow(by: 10)
            let (m2, o2) = m1.addingReportingOverflow(UInt64(bytes[i] - UInt8(ascii: "0")))
            overflow = overflow || o1 || o2
            magnitude = m2
            digits += 1
            i += 1
        }
        guard digits > 0 else { throw JSONError(offset: start, reason: "invalid value") }
        var isInteger = true
        while i < bytes.count, [UInt8(ascii: "."), UInt8(ascii: "e"), UInt8(ascii: "E"), UInt8(ascii: "+"), UInt8(ascii: "-")].contains(bytes[i])
                || (bytes[i] >= UInt8(ascii: "0") && bytes[i] <= UInt8(ascii: "9")) {
            isInteger = false
            i += 1
        }
        if isInteger && !overflow {
            if !negative { return .uint(magnitude) }
            if magnitude <= UInt64(Int64.max) + 1 { return .int(magnitude == UInt64(Int64.max) + 1 ? Int64.min : -Int64(magnitude)) }
        }
        let text = String(decoding: UnsafeBufferPointer(rebasing: bytes[start..<i]), as: UTF8.self)
        guard let d = Double(text) else { throw JSONError(offset: start, reason: "invalid number") }
        return .double(d)
    }
}
