// libFuzzer target for the Psync wire codec. Built by Tools/fuzz.sh, which compiles it in one
// module together with Sources/Psync/*.swift (so there is no `import Psync` here).
//
// Property: decoding never traps, and any input that decodes is the one and only encoding of
// its packet: re-encoding reproduces the input byte for byte. With tight limits the decoder may
// only reject more, never accept something different.

private let tightLimits = WireCodec.Limits(maxParticipants: 4, maxPayloadBytes: 8)

@_cdecl("LLVMFuzzerTestOneInput")
public func fuzz(_ data: UnsafePointer<UInt8>, _ size: Int) -> CInt {
    let bytes = Array(UnsafeBufferPointer(start: data, count: size))

    let packet: Packet
    do {
        packet = try WireCodec.decode(bytes)
    } catch {
        // Rejected with a WireError (the only error type decode can throw). With tighter limits
        // it must be rejected too.
        if (try? WireCodec.decode(bytes, limits: tightLimits)) != nil {
            fatalError("accepted with tight limits but rejected with default limits (\(error)): \(bytes)")
        }
        return 0
    }

    let again = WireCodec.encode(packet)
    if again != bytes {
        fatalError("decoded packet \(packet) re-encodes differently:\n input \(bytes)\n output \(again)")
    }
    if let tight = try? WireCodec.decode(bytes, limits: tightLimits), tight != packet {
        fatalError("tight limits decode a different packet: \(tight) vs \(packet)")
    }
    return 0
}
