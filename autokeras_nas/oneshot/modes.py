"""The supernet modes (see `autokeras_nas.oneshot.MixedOp`), apart so that
`choose` and `MixedOp` both read them without importing each other."""

#: The modes whose choices are learned as architecture parameters.
RELAXED_MODES = ("darts", "snas", "gdas", "proxyless")
#: Every supernet mode: one sampled path, all paths, or a relaxed mode.
MODES = ("single", "all") + RELAXED_MODES
