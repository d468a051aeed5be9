/// The UDP shell (DESIGN.md, "thin shells"): one process is one Psync host.
enum PsyncNIO {}
