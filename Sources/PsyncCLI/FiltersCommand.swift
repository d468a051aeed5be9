import ArgumentParser
import PsyncFilters

/// `psync filters`: the ordering filters `--filter` accepts.
struct FiltersCommand: ParsableCommand {
    static let configuration = CommandConfiguration(
        commandName: "filters", abstract: "List the ordering filters (policies) --filter accepts.")

    func run() {
        let width = FilterRegistry.catalog.map(\.name.count).max() ?? 0
        for (name, summary) in FilterRegistry.catalog {
            print(name + String(repeating: " ", count: width - name.count + 2) + summary)
        }
        print("\nStack them bottom first, e.g. --filter waves,membership.")
    }
}
