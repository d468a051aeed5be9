import PsyncCLI
import SequencerPolicy

// The toolkit's command tree under our own name, with our filters registered:
// `mylab simulate --filter sequencer`, `mylab trace replay FILE --verify`, `mylab filters`, ...
SequencerPolicy.register()
await PsyncCLI.main(commandName: "mylab")
