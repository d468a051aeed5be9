import CZlib
import Histogram

/// HdrHistogram's histogram log (`.hlog`, log format 1.3): what HdrHistogram's own tools
/// (HistogramLogProcessor, HistogramLogAnalyzer) and the Python `hdrh` package read, with every
/// bucket of the histogram, not a summary.
///
/// A log line holds a histogram in HdrHistogram's V2 compressed encoding, base64: a header
/// (cookie, lengths, the histogram's range and precision) and its counts array as ZigZag LEB128
/// varints, runs of empty buckets as one negative number, all deflated with zlib. The counts
/// array is indexed as every HdrHistogram implementation indexes it (Java's
/// `countsArrayIndex`), so a reader rebuilds the same buckets from the same three parameters.
public enum HistogramLog {
    /// One log holding `histogram` as a single interval of `seconds` from 0, its maximum in
    /// milliseconds (values are nanoseconds), after `comments` (each line gets its `#`).
    public static func log(_ histogram: Histogram<UInt64>, maximum: UInt64, seconds: Double, comments: [String]) -> String {
        var lines = ["#[Histogram log format version 1.3]"] + comments.map { "#" + $0 }
        lines.append("\"StartTimestamp\",\"Interval_Length\",\"Interval_Max\",\"Interval_Compressed_Histogram\"")
        lines.append("0.000,\(formatFixed(seconds, 3)),\(formatFixed(Double(maximum) / 1e6, 3)),\(base64(compressed(histogram)))")
        return lines.joined(separator: "\n") + "\n"
    }

    /// The V2 compressed encoding: cookie, length of what follows, then the zlib-deflated V2
    /// encoding.
    static func compressed(_ h: Histogram<UInt64>) -> [UInt8] {
        let plain = encoded(h)
        var size = compressBound(uLong(plain.count))
        var deflated = [UInt8](repeating: 0, count: Int(size))
        let status = compress2(&deflated, &size, plain, uLong(plain.count), Z_DEFAULT_COMPRESSION)
        precondition(status == Z_OK, "zlib compress2 failed (\(status)) on a buffer of compressBound's size")
        var out: [UInt8] = []
        append32(0x1c84_9314, to: &out)
        append32(UInt32(size), to: &out)
        return out + deflated.prefix(Int(size))
    }

    /// The V2 encoding: cookie, payload length, normalizing index offset (0), significant
    /// digits, lowest and highest trackable values, integer-to-double ratio (1.0), then the
    /// counts up to the highest non-empty bucket.
    static func encoded(_ h: Histogram<UInt64>) -> [UInt8] {
        let layout = Layout(h)
        var counts: [UInt64] = []
        for v in h.recordedValues() {
            let i = layout.index(v.value)
            if counts.count <= i { counts += repeatElement(0, count: i + 1 - counts.count) }
            counts[i] += UInt64(v.count)
        }
        var payload: [UInt8] = []
        var i = 0
        while i < counts.count {
            var zeros = 0
            while i + zeros < counts.count, counts[i + zeros] == 0 { zeros += 1 }
            if zeros > 1 {
                appendZigZag(-Int64(zeros), to: &payload)
                i += zeros
            } else {
                appendZigZag(Int64(counts[i]), to: &payload)
                i += 1
            }
        }
        var out: [UInt8] = []
        append32(0x1c84_9313, to: &out)
        append32(UInt32(payload.count), to: &out)
        append32(0, to: &out)
        append32(UInt32(h.numberOfSignificantValueDigits.rawValue), to: &out)
        append64(h.lowestDiscernibleValue, to: &out)
        append64(h.highestTrackableValue, to: &out)
        append64((1.0 as Double).bitPattern, to: &out)
        return out + payload
    }

    /// Where a value's count lives in HdrHistogram's counts array: a bucket per power of two
    /// above the sub-bucket range, each split into half a sub-bucket count of linear steps.
    struct Layout {
        let unitMagnitude: Int, subBucketHalfCountMagnitude: Int, subBucketHalfCount: Int
        let subBucketMask: UInt64, leadingZeroCountBase: Int

        init(_ h: Histogram<UInt64>) {
            var largest: UInt64 = 2
            for _ in 0..<h.numberOfSignificantValueDigits.rawValue { largest *= 10 }
            let subBucketCountMagnitude = 64 - (largest - 1).leadingZeroBitCount
            subBucketHalfCountMagnitude = Swift.max(subBucketCountMagnitude, 1) - 1
            subBucketHalfCount = 1 << subBucketHalfCountMagnitude
            unitMagnitude = 63 - h.lowestDiscernibleValue.leadingZeroBitCount
            subBucketMask = (UInt64(1) << (subBucketHalfCountMagnitude + 1) - 1) << unitMagnitude
            leadingZeroCountBase = 64 - unitMagnitude - subBucketHalfCountMagnitude - 1
        }

        func index(_ value: UInt64) -> Int {
            let bucket = leadingZeroCountBase - (value | subBucketMask).leadingZeroBitCount
            let subBucket = Int(value >> UInt64(bucket + unitMagnitude))
            return ((bucket + 1) << subBucketHalfCountMagnitude) + (subBucket - subBucketHalfCount)
        }
    }

    static func append32(_ v: UInt32, to out: inout [UInt8]) {
        for shift in stride(from: 24, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt32(shift))) }
    }

    static func append64(_ v: UInt64, to out: inout [UInt8]) {
        for shift in stride(from: 56, through: 0, by: -8) { out.append(UInt8(truncatingIfNeeded: v >> UInt64(shift))) }
    }

    /// ZigZag then LEB128, as HdrHistogram's `ZigZagEncoding.putLong` (whose ninth byte takes
    /// all eight bits; counts and runs here never need more than eight).
    static func appendZigZag(_ v: Int64, to out: inout [UInt8]) {
        var u = UInt64(bitPattern: (v << 1) ^ (v >> 63))
        while u >= 0x80 {
            out.append(UInt8(u & 0x7f) | 0x80)
            u >>= 7
        }
        out.append(UInt8(u))
    }

    static func base64(_ bytes: [UInt8]) -> String {
        let alphabet = Array("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/")
        var out = ""
        var i = 0
        while i < bytes.count {
            let n = Swift.min(3, bytes.count - i)
            var word = UInt32(bytes[i]) << 16
            if n > 1 { word |= UInt32(bytes[i + 1]) << 8 }
            if n > 2 { word |= UInt32(bytes[i + 2]) }
            for k in 0..<4 { out.append(k <= n ? alphabet[Int(word >> UInt32(18 - 6 * k)) & 63] : "=") }
            i += 3
        }
        return out
    }
}
