"""The supernet modes (see `autokeras_nas.oneshot.MixedOp`), apart so that
`choose` and `MixedOp` both read them without importing each other."""

#: The modes whose choices are learned as architecture parameters.
RELAXED_MODES = ("darts", "snas", "gdas", "proxyless")
#: Every supernet mode: one sampled path, all paths, a relaxed mode, or
#: "hyper" (SMASH: the fixed path's kernels generated from the architecture).
MODES = ("single", "all") + RELAXED_MODES + ("hyper",)
