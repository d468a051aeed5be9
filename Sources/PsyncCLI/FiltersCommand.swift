import ArgumentParser
import PsyncFilters

/// `psync filters`: the ordering filters `--filter` accepts.
struct FiltersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filters", abstract: "List the ordering filters (policies) --filter accepts.")

    func run() {
        let width = FilterRegistry.catalog.map(\.name.count).max() ?? 0
        let indent = String(repeating: " ", count: width + 2)
        var promised: [FilterGuarantee] = []
        for (name, summary) in FilterRegistry.catalog {
            print(name + String(repeating: " ", count: width - name.count + 2) + summary)
            guard let guarantees = try? FilterRegistry.make(name).guarantees else { continue }
            let named = guarantees.sorted { $0.statement < $1.statement }
            print(indent + "promises: " + named.map { String($0.statement.prefix { $0 != ":" }) }.joined(separator: ", "))
            for g in named where !promised.contains(g) { promised.append(g) }
        }
        print("\nStack them bottom first, e.g. --filter waves,membership.\n\nThe promises, as the checkers hold filters to them:")
        for g in promised.sorted(by: { $0.statement < $1.statement }) { print("- " + g.statement) }
    }
}
