import Psync

/// A 128-bit digest of a state, for the model checker's set of visited states (`Explorer`).
///
/// The engine's hosts and the filters are classes with value-typed state, and outside filters
/// implement nothing for the checker: the digest walks any value by reflection (`Mirror`), the
/// private stored properties of classes included, so a new filter is fingerprinted without a
/// line of its own. It is stable (no per-process seed: the same state gives the same digest in
/// every run, so exploration counts are reproducible), and sets and dictionaries are digested
/// whatever their iteration order (equal sets are equal states). A class instance met again
/// (the filter stack's host, the host's own) is digested by the order it was first met in, so
/// cycles end. Closures carry nothing a mirror can see and are left out.
///
/// Two different states share a digest with probability about 2^-128 per pair; the checker
/// would then take the second for the first and not explore it.
public struct StateFingerprint: Hashable, Sendable, CustomStringConvertible {
    public var high: UInt64
    public var low: UInt64

    public var description: String { String(high, radix: 16) + String(low, radix: 16) }

    /// The digest of `values`, in order.
    public static func of(_ values: Any...) -> StateFingerprint {
        var digest = Digest()
        for value in values { digest.walk(value) }
        return digest.fingerprint
    }

    /// Incremental digesting: `combine` raw words, `walk` whole values.
    public struct Digest {
        var a: UInt64 = 0x9E37_79B9_7F4A_7C15
        var b: UInt64 = 0xC2B2_AE3D_27D4_EB4F
        private var seen: [ObjectIdentifier: UInt64] = [:]
        /// Stored properties left out wherever they occur, by name: statistics and records of
        /// the past that do not decide what happens next (counters, times of past events).
        private let skipping: Set<String>

        public init(skipping: Set<String> = []) { self.skipping = skipping }

        public var fingerprint: StateFingerprint { StateFingerprint(high: Self.mix(a ^ 0xFF51_AFD7_ED55_8CCD), low: Self.mix(b)) }

        /// SplitMix64's first output from seed x: every input bit moves every output bit.
        static func mix(_ x: UInt64) -> UInt64 {
            var generator = SplitMix64(seed: x)
            return generator.next()
        }

        public mutating func combine(_ x: UInt64) {
            a = Self.mix(a ^ x)
            b = Self.mix(b &+ x &* 0x2545_F491_4F6C_DD1D)
        }

        public mutating func combine(bytes: [UInt8]) {
            combine(UInt64(bytes.count))
            var word: UInt64 = 0, n = 0
            for byte in bytes {
                word = word << 8 | UInt64(byte)
                n += 1
                if n == 8 { combine(word); word = 0; n = 0 }
            }
            if n > 0 { combine(word) }
        }

        /// Combines unordered parts (a set's elements, a dictionary's entries): each is
        /// digested alone, and the digests are added, which does not depend on their order.
        mutating func combineUnordered<S: Sequence>(_ parts: S, count: Int) {
            var sumA: UInt64 = 0, sumB: UInt64 = 0
            for part in parts {
                var d = Digest(skipping: skipping)
                d.seen = seen
                d.walk(part)
                sumA = sumA &+ d.a
                sumB = sumB &+ d.b
            }
            combine(UInt64(count))
            combine(sumA)
            combine(sumB)
        }

        public mutating func walk(_ value: Any) {
            switch value {
            case let x as Int: return combine(UInt64(bitPattern: Int64(x)))
            case let x as UInt64: return combine(x)
            case let x as UInt32: return combine(UInt64(x))
            case let x as UInt16: return combine(UInt64(x))
            case let x as UInt8: return combine(UInt64(x))
            case let x as Int32: return combine(UInt64(bitPattern: Int64(x)))
            case let x as Bool: return combine(x ? 1 : 2)
            case let x as Double: return combine(x.bitPattern)
            case let x as String: return combine(bytes: Array(x.utf8))
            case let x as [UInt8]: return combine(bytes: x)
            default: break
            }
            let mirror = Mirror(reflecting: value)
            switch mirror.displayStyle {
            case .class?:
                let id = ObjectIdentifier(value as AnyObject)
                if let order = seen[id] { return combine(order) }
                seen[id] = UInt64(seen.count + 1)
                var m: Mirror? = mirror
                while let current = m {
                    walkChildren(current)
                    m = current.superclassMirror
                }
            case .set?, .dictionary?:
                combineUnordered(mirror.children.lazy.map(\.value), count: Int(mirror.children.count))
            case .enum?:
                // A case is told by its label when it carries values, by its name otherwise.
                if let child = mirror.children.first {
                    combine(bytes: Array((child.label ?? "").utf8))
                    walk(child.value)
                } else {
                    combine(bytes: Array(String(describing: value).utf8))
                }
            case .optional?:
                if let child = mirror.children.first {
                    combine(1)
                    walk(child.value)
                } else {
                    combine(0)
                }
            default:
                combine(UInt64(mirror.children.count))
                walkChildren(mirror)
            }
        }

        private mutating func walkChildren(_ mirror: Mirror) {
            for child in mirror.children {
                if let label = child.label, skipping.contains(label) { continue }
                walk(child.value)
            }
        }
    }
}
