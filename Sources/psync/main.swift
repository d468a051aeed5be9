import PsyncCLI

// The `psync` tool: the command tree of `PsyncCLI` under its own name.
await PsyncCLI.main()
