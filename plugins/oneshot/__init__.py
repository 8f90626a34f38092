"""Plugins `spos`, `random-ws` and `oneshot`: one-shot search with a
weight-sharing supernet (the phases are `autokeras_nas.core.OneShotStrategy`)."""

from autokeras_nas_plugins.oneshot.strategy import OneShot, RandomWS, Spos

__all__ = ["OneShot", "RandomWS", "Spos"]
