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
        // Compared line by line without leading whitespace: a README may quote a nested block
        // (a registration inside a function) at the margin.
        func lines(_ text: String) -> [String] {
            text.split(separator: "\n", omittingEmptySubsequences: false).map { String($0.drop { $0 == " " }) }
        }
        let sourceLines = sources.map { lines($0.text) }
        for block in blocks {
            let quote = lines(block.hasSuffix("\n") ? String(block.dropLast()) : block)
            let found = sourceLines.contains { file in
                file.count >= quote.count && (0...(file.count - quote.count)).contains { Array(file[$0..<$0 + quote.count]) == quote }
            }
            #expect(found, "\(readme): this block is not in Examples/Sources, Tests or Package.swift:\n\(quote.joined(separator: "\n"))")
        }
    }

    @Test func examplesReadmeQuotesTheCode() throws {
        let blocks = try Self.swiftBlocks(Self.package.appendingPathComponent("README.md"))
        #expect(blocks.count >= 5)
        try Self.expectQuoted(blocks, from: "Examples/README.md")
    }

    @Test func rootReadmeQuotesTheSequencerAsItIs() throws {
        let blocks = try Self.swiftBlocks(Self.package.deletingLastPathComponent().appendingPathComponent("README.md"))
            .filter { $0.contains("Sequencer") || $0.contains("path: \"..\"") }
        #expect(blocks.count >= 3, "the root README's walk-through quotes the dependency, the registration and main.swift")
        try Self.expectQuoted(blocks, from: "README.md")
    }
}
