import ArgumentParser
import PsyncFilters

/// `--filter NAME[,NAME...]`, a filter stack bottom first, as `simulate`, `node`, `trace replay`
/// and `trace compare` take it.
enum FilterStackArgument {
    /// Shell completion of `--filter`: every registered name, after the names already typed
    /// (`waves,m` completes to `waves,membership`). The shell asks the tool itself, so a
    /// program's own registered filters complete too.
    static let completion = CompletionKind.custom { _, _, word in
        let typed = word.lastIndex(of: ",").map { String(word[...$0]) } ?? ""
        return FilterRegistry.catalog.map { typed + $0.name }
    }

    /// The names in `text` (none without the option).
    static func names(_ text: String?) -> [String] {
        text.map(FilterRegistry.stackNames) ?? []
    }

    /// Checks every name against `FilterRegistry`. A name it does not know is an error that
    /// says which names it knows, with exit status 2 (as for a trace a tool cannot read):
    /// a program that registers its own filters runs this command tree under its own name.
    /// With the conversation's size, the stack must also be one that can work
    /// (`FilterStack.problem(of:participants:)`: no filter twice, a quorum it can reach, a total
    /// order under membership).
    static func check(_ names: [String], command: String, participants: Int? = nil) throws {
        let stack: [OrderingFilter]
        do {
            stack = try FilterRegistry.makeStack(names)
        } catch {
            printError("\(PsyncCLI.commandName) \(command): \(error)")
            throw ExitCode(2)
        }
        guard Set(names).count == names.count else { throw ValidationError("--filter names a filter twice") }
        if let participants, let why = FilterStack.problem(of: stack, participants: participants) {
            throw ValidationError("--filter \(names.joined(separator: ",")): \(why)")
        }
    }
}
