import Psync

/// How the simulated network treats packets, given as data so that a run is described (and
/// reproduced) by its configuration and seed alone.
public struct NetworkModel: Codable, Sendable, Equatable {
    /// The model of every link without an override.
    public var link: LinkModel
    /// Per-link overrides, for asymmetric or lossy single links.
    public var overrides: [LinkOverride]

    public init(link: LinkModel = LinkModel(), overrides: [LinkOverride] = []) {
        self.link = link
        self.overrides = overrides
    }

    func model(from: HostID, to: HostID) -> LinkModel {
        overrides.last { $0.from == from.rawValue && $0.to == to.rawValue }?.model ?? link
    }
}

public struct LinkOverride: Codable, Sendable, Equatable {
    public var from: UInt32
    public var to: UInt32
    public var model: LinkModel
    public init(from: UInt32, to: UInt32, model: LinkModel) {
        self.from = from
        self.to = to
        self.model = model
    }
}

/// One direction of one link.
public struct LinkModel: Codable, Sendable, Equatable {
    public var delay: DelayDistribution
    /// Probability that a packet is lost.
    public var lossProbability: Double
    /// Probability that a packet is delivered twice (the copy with its own delay).
    public var duplicateProbability: Double
    /// Probability that a packet is held back by an extra uniform delay of up to
    /// `reorderDelayMaxNanoseconds`, so that later packets overtake it.
    public var reorderProbability: Double
    public var reorderDelayMaxNanoseconds: UInt64

    public init(delay: DelayDistribution = .uniform(lowNanoseconds: 1_000_000, highNanoseconds: 3_000_000),
                lossProbability: Double = 0, duplicateProbability: Double = 0,
                reorderProbability: Double = 0, reorderDelayMaxNanoseconds: UInt64 = 10_000_000) {
        self.delay = delay
        self.lossProbability = lossProbability
        self.duplicateProbability = duplicateProbability
        self.reorderProbability = reorderProbability
        self.reorderDelayMaxNanoseconds = reorderDelayMaxNanoseconds
    }
}

extension LinkModel {
    /// What the link does to one packet: the delays of the copies that arrive (none: lost),
    /// and how many of them were held back to be overtaken. The simulator and the UDP shell's
    /// fault injection both draw here, in this order, from one seeded generator.
    public func fate(_ rng: inout SplitMix64) -> (delays: [UInt64], reordered: Int) {
        if rng.nextUnit() < lossProbability { return ([], 0) }
        let copies = rng.nextUnit() < duplicateProbability ? 2 : 1
        var reordered = 0
        let delays = (0..<copies).map { _ in
            var delay = self.delay.sample(&rng)
            if rng.nextUnit() < reorderProbability {
                delay += UInt64(rng.nextUnit() * Double(reorderDelayMaxNanoseconds))
                reordered += 1
            }
            return delay
        }
        return (delays, reordered)
    }
}

/// One-way delay of a link.
public enum DelayDistribution: Codable, Sendable, Equatable, CustomStringConvertible {
    case constant(nanoseconds: UInt64)
    case uniform(lowNanoseconds: UInt64, highNanoseconds: UInt64)
    /// `base` plus an exponentially distributed part with the given mean.
    case exponential(baseNanoseconds: UInt64, meanNanoseconds: UInt64)

    public func sample(_ rng: inout SplitMix64) -> UInt64 {
        switch self {
        case .constant(let d):
            return d
        case .uniform(let lo, let hi):
            return hi <= lo ? lo : lo + UInt64(rng.nextUnit() * Double(hi - lo + 1))
        case .exponential(let base, let mean):
            let u = rng.nextUnit()
            return base + UInt64(-Double(mean) * (1 - u).logNatural)
        }
    }

    public var description: String {
        switch self {
        case .constant(let d): "const:\(formatDuration(d))"
        case .uniform(let lo, let hi): "uniform:\(formatDuration(lo))-\(formatDuration(hi))"
        case .exponential(let base, let mean): "exp:\(formatDuration(base))+\(formatDuration(mean))"
        }
    }
}

extension Double {
    /// Natural logarithm without Foundation (the simulator needs only this one function).
    var logNatural: Double {
        precondition(self > 0, "log of a non-positive number")
        // Reduce to m * 2^e with m in [1, 2), then ln(m) by the series of atanh.
        let e = Double(exponent)
        let m = significand
        let t = (m - 1) / (m + 1)
        let t2 = t * t
        var term = t
        var sum = 0.0
        var k = 1.0
        while abs(term) > 1e-17 {
            sum += term / k
            term *= t2
            k += 2
        }
        return 2 * sum + e * 0.693_147_180_559_945_3
    }
}
