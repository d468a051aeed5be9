import PsyncFilters

/// The example's policies, by name.
public enum SequencerPolicy {
    /// Makes the filters known to everything in the toolkit that takes a filter name: the
    /// simulator (`SimulationConfig.filters`), `mylab simulate --filter sequencer`, trace replay
    /// and counterfactual replay. Call it once before any of them runs; calling again is harmless.
    public static func register() {
        FilterRegistry.register("sequencer", summary: "fixed-sequencer total order: participant 0 orders every message (Examples)") {
            SequencerFilter()
        }
        FilterRegistry.register("eager-sequencer", summary: "broken on purpose: a sequencer that delivers its own messages at once (Examples)") {
            EagerSequencerFilter()
        }
    }
}
