import Foundation
import Testing

/// The README quotes the code; this keeps the quotes true. Every ```swift block of
/// Examples/README.md, and every one of the repository's README.md that mentions `Sequencer`,
/// must appear verbatim in this package's sources, tests or Package.swift.
@Suite struct ReadmeTests {
    /// Examples/ (this file is Examples/Tests/SequencerPolicyTests/ReadmeTests.swift).
    static let package = URL(fileURLWithPath: #filePath).deletingLastPathComponent().deletingLastPathComponent().deletingLastPathComponent()

    /// The ```swift blocks of a Markdown file, without their fences.
    static func swiftBlocks(_ file: URL) throws -> [String] {
        var blocks: [String] = [], current: [Substring]?
        for line in try String(contentsOf: file, encoding: .utf8).split(separator: "\n", omittingEmptySubsequences: false) {
            if let lines = current {
                if line.trimmingCharacters(in: .whitespaces) == "```" {
                    blocks.append(lines.joined(separator: "\n"))
                    current = nil
                } else {
                    current = lines + [line]
                }
            } else if line.trimmingCharacters(in: .whitespaces) == "```swift" {
                current = []
            }
        }
        return blocks
    }

    /// The text of every Swift file of the package (Sources, Tests, Package.swift).
    static func packageSources() throws -> [(path: String, text: String)] {
        var files = [package.appendingPathComponent("Package.swift")]
        for folder in ["Sources", "Tests"] {
            guard let enumerator = FileManager.default.enumerator(at: package.appendingPathComponent(folder), includingPropertiesForKeys: nil) else { continue }
            for case let url as URL in enumerator where url.pathExtension == "swift" { files.append(url) }
        }
        return try files.map { ($0.path, try String(contentsOf: $0, encoding: .utf8)) }
    }

    static func expectQuoted(_ blocks: [String], from readme: String) throws {
        let sources = try packageSources()
        #expect(sources.count >= 8, "found only \(sources.map(\.path))")
        for block in blocks {
            let quote = block.hasSuffix("\n") ? String(block.dropLast()) : block
            #expect(sources.contains { $0.text.contains(quote) }, "\(readme): this block is not in Examples/Sources, Tests or Package.swift:\n\(quote)")
        }
    }

    @Test func examplesReadmeQuotesTheCode() throws {
        let blocks = try Self.swiftBlocks(Self.package.appendingPathComponent("README.md"))
        #expect(blocks.count >= 5)
        try Self.expectQuoted(blocks, from: "Examples/README.md")
    }

    @Test func rootReadmeQuotesTheSequencerAsItIs() throws {
        let blocks = try Self.swiftBlocks(Self.package.deletingLastPathComponent().appendingPathComponent("README.md"))
        try Self.expectQuoted(blocks.filter { $0.contains("Sequencer") }, from: "README.md")
    }
}
