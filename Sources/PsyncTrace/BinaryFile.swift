#if canImport(Glibc)
import Glibc
#elseif canImport(Darwin)
import Darwin
#endif

/// A minimal buffered file handle over C stdio: all the trace library needs (read, write,
/// flush), without Foundation.
final class BinaryFile {
    private var handle: UnsafeMutablePointer<FILE>?
    let path: String

    init(path: String, mode: String) throws(TraceError) {
        self.path = path
        guard let h = fopen(path, mode) else {
            throw .io("cannot open \(path): \(String(cString: strerror(errno)))")
        }
        handle = h
    }

    deinit { if let handle { fclose(handle) } }

    /// Writes the first `count` bytes of `bytes`.
    func write(_ bytes: [UInt8], count: Int) throws(TraceError) {
        guard let handle else { throw .closed }
        let written = bytes.withUnsafeBytes { fwrite($0.baseAddress, 1, count, handle) }
        guard written == count else { throw .io("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    func flush() throws(TraceError) {
        guard let handle else { throw .closed }
        guard fflush(handle) == 0 else { throw .io("cannot write \(path): \(String(cString: strerror(errno)))") }
    }

    /// Fills `buffer` from the file; returns how many bytes were read (0 at the end of the file).
    func read(into buffer: inout [UInt8]) throws(TraceError) -> Int {
        guard let handle else { throw .closed }
        let capacity = buffer.count
        let n = buffer.withUnsafeMutableBytes { fread($0.baseAddress, 1, capacity, handle) }
        if n < capacity && ferror(handle) != 0 { throw .io("cannot read \(path): \(String(cString: strerror(errno)))") }
        return n
    }

    func close() throws(TraceError) {
        guard let h = handle else { return }
        handle = nil
        guard fclose(h) == 0 else { throw .io("cannot close \(path): \(String(cString: strerror(errno)))") }
    }
}
