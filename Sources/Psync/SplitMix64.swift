/// A seeded pseudo-random generator (SplitMix64, Steele, Lea and Flood 2014): tiny, fast, and
/// the same sequence on every platform, so one seed reproduces a whole simulation byte for byte.
/// The engine draws numbers only from generators seeded at `Host` creation (timer jitter);
/// shells and workloads take a generator explicitly.
public struct SplitMix64: RandomNumberGenerator, Sendable {
    private var state: UInt64
    public init(seed: UInt64) { state = seed }

    public mutating func next() -> UInt64 {
        state &+= 0x9E37_79B9_7F4A_7C15
        var z = state
        z = (z ^ (z >> 30)) &* 0xBF58_476D_1CE4_E5B9
        z = (z ^ (z >> 27)) &* 0x94D0_49BB_1331_11EB
        return z ^ (z >> 31)
    }

    /// A uniform double in [0, 1) from the top 53 bits.
    public mutating func nextUnit() -> Double { Double(next() >> 11) * 0x1.0p-53 }

    /// An independent generator for a sub-stream (a host, a link), so that adding a consumer
    /// does not shift every other consumer's numbers.
    public mutating func split() -> SplitMix64 { SplitMix64(seed: next()) }
}
