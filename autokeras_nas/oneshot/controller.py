"""ENAS's controller (Pham et al. 2018): an LSTM that samples architectures
of a supernet and learns, by REINFORCE, to sample the ones that score well.

The controller steps through the supernet's choices in a fixed order (the
model's order of its `MixedOp`s). At each step its LSTM cell reads the
embedding of the candidate it chose at the step before (a learned start
vector at the first step), and a per-choice softmax over that choice's
candidates gives the next candidate, so a choice's distribution depends on
the choices made before it. `update` raises the log-probability of the
architectures that scored above a moving-average baseline and lowers that
of the others, with an entropy bonus that keeps it exploring.

Its whole state (weights, Adam's slots, baseline, step count and sampling
generator) saves to one file, atomically, and loads into a controller of
the same choices, so a trial that trains one resumes it exactly.

Imports Keras and TensorFlow (the gradients), like the rest of this package.
"""

from __future__ import annotations

import io
import json
import math
import os
from typing import Any, Mapping, Sequence

import keras
import numpy as np
import tensorflow as tf
from keras import ops

from autokeras_nas.core.rng import make_rng, rng_state, set_rng_state

#: Hidden size of the LSTM: the controller steps through a handful of
#: choices, and 32 units learn their joint distribution quickly on a CPU.
DEFAULT_HIDDEN_SIZE = 32
#: Adam's learning rate: a CPU-sized search gives the controller a few
#: hundred updates (tens per epoch), far fewer than the paper's, so each
#: step is larger than the paper's 3.5e-4.
DEFAULT_LEARNING_RATE = 5e-3
#: Weight of the entropy bonus, 30 times the paper's 1e-4: with one
#: single-minibatch reward per update the advantages are mostly noise, and
#: Adam's steps do not shrink with them, so with 1e-4 the choices that do
#: not matter drift to one candidate within a few hundred updates (toy
#: reward, 5 candidates: over 0.9 after 400 updates), which starves the
#: supernet's other paths; 3e-3 keeps them spread while a candidate worth
#: a few points of accuracy still wins.
DEFAULT_ENTROPY_WEIGHT = 3e-3
#: Decay of the moving-average baseline: it averages about the last 20
#: rewards, so it follows the accuracy of a supernet that is still learning.
DEFAULT_BASELINE_DECAY = 0.95
#: Logits are squashed to `c * tanh(logits)` (as in the paper's code), so no
#: candidate's probability falls below about exp(-2c) of another's: 2.5
#: leaves a sure choice at ~97% among 5 candidates and never at 100%.
DEFAULT_TANH_CONSTANT = 2.5
#: Weights start uniform in [-0.1, 0.1] (the paper's range): the first
#: policy is close to uniform, so the supernet's paths train alike at first.
INIT_RANGE = 0.1
#: Version of the saved state's layout.
STATE_VERSION = 1

Architecture = dict[str, str]


class Controller:
    """An LSTM policy over the candidates of a supernet's choices.

    Args:
        choices: Choice name -> its candidate names (at least one choice,
            each with distinct candidates), in the order the controller
            steps through them (`autokeras_nas.oneshot.choice_names(model)`).
        hidden_size: Units of the LSTM cell and size of the candidate
            embeddings; default `DEFAULT_HIDDEN_SIZE`.
        learning_rate: Adam's learning rate; default `DEFAULT_LEARNING_RATE`.
        entropy_weight: Weight of the entropy bonus (>= 0); default
            `DEFAULT_ENTROPY_WEIGHT`.
        baseline_decay: Decay of the reward baseline, in [0, 1); default
            `DEFAULT_BASELINE_DECAY`.
        tanh_constant: Logits squashed to `c * tanh(logits)`; None leaves
            them as they are; default `DEFAULT_TANH_CONSTANT`.
        seed: Seed of the initial weights and of the sampling generator.

    Raises:
        ValueError: An empty or malformed `choices`, or a bad setting.
    """

    def __init__(
        self,
        choices: Mapping[str, Sequence[str]],
        *,
        hidden_size: int = DEFAULT_HIDDEN_SIZE,
        learning_rate: float = DEFAULT_LEARNING_RATE,
        entropy_weight: float = DEFAULT_ENTROPY_WEIGHT,
        baseline_decay: float = DEFAULT_BASELINE_DECAY,
        tanh_constant: float | None = DEFAULT_TANH_CONSTANT,
        seed: int = 0,
    ) -> None:
        self._choices = _checked_choices(choices)
        _check_settings(hidden_size, learning_rate, entropy_weight, baseline_decay,
                        tanh_constant)
        self.hidden_size = hidden_size
        self.learning_rate = float(learning_rate)
        self.entropy_weight = float(entropy_weight)
        self.baseline_decay = float(baseline_decay)
        self.tanh_constant = None if tanh_constant is None else float(tanh_constant)
        self.seed = int(seed)
        #: Sampling generator (its state is saved with the controller).
        self.rng = make_rng(self.seed)
        #: The moving-average reward baseline; None before the first update.
        self.baseline: float | None = None
        #: Updates made so far.
        self.steps = 0
        self._build()

    # -- structure ---------------------------------------------------------------
    @property
    def choices(self) -> dict[str, list[str]]:
        """Choice name -> candidate names, in the controller's order."""
        return {name: list(c) for name, c in self._choices.items()}

    @property
    def variables(self) -> list[Any]:
        """The controller's trainable variables, in a fixed order."""
        return (list(self._cell.trainable_variables) + [self._start] + self._embeddings
                + self._kernels + self._biases)

    def _build(self) -> None:
        h = self.hidden_size
        # Named, so the controller takes no auto-name number from the models' layers.
        self._cell = keras.layers.LSTMCell(h, name="enas_controller_lstm")
        self._cell.build((None, h))
        self._start = keras.Variable(np.zeros((1, h), "float32"), name="start")
        self._embeddings, self._kernels, self._biases = [], [], []
        for i, candidates in enumerate(self._choices.values()):
            k = len(candidates)
            if i + 1 < len(self._choices):  # the last choice feeds no later step
                self._embeddings.append(keras.Variable(np.zeros((k, h), "float32"),
                                                       name=f"emb{i}"))
            self._kernels.append(keras.Variable(np.zeros((h, k), "float32"), name=f"kernel{i}"))
            self._biases.append(keras.Variable(np.zeros((k,), "float32"), name=f"bias{i}"))
        init = np.random.default_rng(self.seed)
        for variable in self.variables:
            variable.assign(init.uniform(-INIT_RANGE, INIT_RANGE, tuple(variable.shape))
                            .astype("float32"))
        self._optimizer = keras.optimizers.Adam(self.learning_rate, name="enas_controller_adam")
        self._optimizer.build(self.variables)
        self._compile()

    # -- the policy --------------------------------------------------------------
    def _steps(self, n: Any, actions: Any = None,
               uniforms: Any = None) -> tuple[Any, Any, Any, list]:
        """The policy over `n` architectures (traced in the compiled
        functions): the given `actions` (n, choices), or, when None, actions
        drawn by inverting each step's distribution at `uniforms` (n,
        choices) in [0, 1).

        Returns:
            (the actions, sum of their log-probabilities (n,), sum of the
            entropies (n,), each step's probabilities (n, candidates)).
        """
        zeros = ops.zeros((n, self.hidden_size))
        state = [zeros, zeros]
        x = ops.tile(self._start, (n, 1))
        log_prob, entropy, taken, probs = 0.0, 0.0, [], []
        for t in range(len(self._choices)):
            out, state = self._cell(x, state)
            logits = ops.matmul(out, self._kernels[t]) + self._biases[t]
            if self.tanh_constant is not None:
                logits = self.tanh_constant * ops.tanh(logits)
            logp = ops.log_softmax(logits, axis=-1)
            p = ops.exp(logp)
            if actions is None:
                below = ops.cumsum(p, axis=1) <= uniforms[:, t:t + 1] * ops.sum(p, 1, True)
                a = ops.minimum(ops.sum(ops.cast(below, "int32"), axis=1), p.shape[1] - 1)
            else:
                a = actions[:, t]
            log_prob = log_prob + ops.take_along_axis(logp, a[:, None], axis=1)[:, 0]
            entropy = entropy - ops.sum(p * logp, axis=1)
            if t < len(self._embeddings):
                x = ops.take(self._embeddings[t], a, axis=0)
            taken.append(a)
            probs.append(p)
        return ops.stack(taken, axis=1), log_prob, entropy, probs

    def _compile(self) -> None:
        steps = len(self._choices)
        ints = tf.TensorSpec((None, steps), tf.int32)
        floats = tf.TensorSpec((None,), tf.float32)

        def draw(uniforms: Any) -> tuple[Any, list]:
            actions, _, _, probs = self._steps(tf.shape(uniforms)[0], uniforms=uniforms)
            return actions, probs

        def score(actions: Any) -> tuple[Any, Any]:
            _, log_prob, entropy, _ = self._steps(tf.shape(actions)[0], actions)
            return log_prob, entropy

        def train(actions: Any, advantage: Any) -> tuple[Any, Any]:
            variables = self.variables
            with tf.GradientTape() as tape:
                log_prob, entropy = score(actions)
                loss = (-ops.mean(advantage * log_prob)
                        - self.entropy_weight * ops.mean(entropy))
            self._optimizer.apply_gradients(zip(tape.gradient(loss, variables), variables))
            return loss, ops.mean(entropy)

        self._draw = tf.function(draw, input_signature=[tf.TensorSpec((None, steps), tf.float32)])
        self._score = tf.function(score, input_signature=[ints])
        self._train = tf.function(train, input_signature=[ints, floats])

    def _sampled(self, n: int, rng: np.random.Generator | None) -> tuple[np.ndarray, list]:
        uniforms = (self.rng if rng is None else rng).random((n, len(self._choices)))
        actions, probs = self._draw(tf.constant(uniforms, tf.float32))
        return actions.numpy(), [p.numpy() for p in probs]

    def sample(self, n: int, rng: np.random.Generator | None = None) -> list[Architecture]:
        """`n` architectures drawn from the policy (repeats possible).

        Args:
            n: How many (>= 1).
            rng: The generator to draw with; default the controller's own
                (`rng`, whose state is saved).
        """
        _check_count("n", n)
        return self._decode(self._sampled(n, rng)[0])

    def log_probs(self, archs: Sequence[Mapping[str, str]]) -> np.ndarray:
        """The log-probability of each architecture under the policy."""
        log_prob, _ = self._score(tf.constant(self._encode(archs), tf.int32))
        return np.asarray(log_prob.numpy(), dtype="float64")

    def most_probable(self, n: int, *, samples: int = 200,
                      rng: np.random.Generator | None = None) -> list[Architecture]:
        """The `n` most probable distinct architectures among `samples`
        drawn from the policy (fewer if fewer distinct ones were drawn),
        the most probable first; ties keep the order of their first draw.

        Args:
            n: How many (>= 1).
            samples: Architectures drawn (>= n); default 200, enough to find
                the likely ones of a trained policy in one batched pass.
            rng: As for `sample`.
        """
        _check_count("n", n)
        _check_count("samples", samples)
        if samples < n:
            raise ValueError(f"samples ({samples}) must be at least n ({n})")
        distinct: dict[tuple[str, ...], Architecture] = {}
        for arch in self.sample(samples, rng):
            distinct.setdefault(tuple(arch[name] for name in self._choices), arch)
        found = list(distinct.values())
        scores = self.log_probs(found)
        order = sorted(range(len(found)), key=lambda i: (-scores[i], i))
        return [found[i] for i in order[:n]]

    def probabilities(self, *, samples: int = 200,
                      rng: np.random.Generator | None = None) -> dict[str, dict[str, float]]:
        """Each choice's marginal candidate probabilities: a choice's softmax
        depends on the candidates chosen before it, so it is averaged over
        `samples` architectures drawn from the policy (an unbiased estimate
        of the marginal; the first choice's is exact).

        Args:
            samples: Architectures drawn (>= 1); default 200.
            rng: As for `sample`.
        """
        _check_count("samples", samples)
        _, probs = self._sampled(samples, rng)
        return {name: {c: round(float(v), 6) for c, v in zip(candidates, p.mean(axis=0))}
                for (name, candidates), p in zip(self._choices.items(), probs)}

    # -- learning ----------------------------------------------------------------
    def update(self, archs: Sequence[Mapping[str, str]],
               rewards: Sequence[float]) -> dict[str, float]:
        """One REINFORCE step on architectures and their rewards.

        The loss is `-mean((reward - baseline) * log p(arch)) - w *
        mean(entropy)`; the baseline is the moving average of the rewards
        before this step (the first step's rewards set it, so the first
        update only follows the entropy bonus), then moves towards their
        mean with `baseline_decay`.

        Returns:
            The step's `loss`, mean `advantage`, mean `entropy` and the new
            `baseline`.

        Raises:
            ValueError: Mismatched lengths, an unknown choice or candidate, or
                a reward that is not finite.
        """
        actions = self._encode(archs)
        rewards = np.asarray(rewards, dtype="float64").reshape(-1)
        if len(rewards) != len(actions):
            raise ValueError(f"{len(actions)} architectures but {len(rewards)} rewards")
        if not np.all(np.isfinite(rewards)):
            raise ValueError(f"rewards must be finite, got {rewards.tolist()}")
        if self.baseline is None:
            self.baseline = float(rewards.mean())
        advantage = rewards - self.baseline
        loss, entropy = self._train(tf.constant(actions, tf.int32),
                                    tf.constant(advantage, tf.float32))
        self.baseline = (self.baseline_decay * self.baseline
                         + (1.0 - self.baseline_decay) * float(rewards.mean()))
        self.steps += 1
        return {"loss": float(loss), "advantage": float(advantage.mean()),
                "entropy": float(entropy), "baseline": self.baseline}

    # -- state -------------------------------------------------------------------
    def _meta(self) -> dict[str, Any]:
        return {
            "version": STATE_VERSION, "choices": self.choices, "hidden_size": self.hidden_size,
            "learning_rate": self.learning_rate, "entropy_weight": self.entropy_weight,
            "baseline_decay": self.baseline_decay, "tanh_constant": self.tanh_constant,
            "seed": self.seed, "baseline": self.baseline, "steps": self.steps,
            "rng": rng_state(self.rng),
        }

    def save(self, path: str) -> None:
        """Writes the whole state to `path` (an .npz file), atomically: a
        reader sees the old file or the new one, never a partial one."""
        arrays = {f"var{i}": ops.convert_to_numpy(v) for i, v in enumerate(self.variables)}
        arrays.update({f"opt{i}": ops.convert_to_numpy(v)
                       for i, v in enumerate(self._optimizer.variables)})
        arrays["meta"] = np.array(json.dumps(self._meta()))
        buffer = io.BytesIO()
        np.savez(buffer, **arrays)
        directory = os.path.dirname(os.path.abspath(path))
        os.makedirs(directory, exist_ok=True)
        tmp = f"{path}.tmp-{os.getpid()}"
        try:
            with open(tmp, "wb") as f:
                f.write(buffer.getvalue())
                f.flush()
                os.fsync(f.fileno())
            os.replace(tmp, path)
        finally:
            if os.path.exists(tmp):
                os.remove(tmp)

    def load(self, path: str) -> None:
        """Restores a state written by `save` (weights, optimizer slots,
        baseline, step count, sampling generator).

        Raises:
            ValueError: The file holds another controller (other choices or
                hidden size) or is not a controller's state.
        """
        try:
            with np.load(path, allow_pickle=False) as data:
                arrays = {k: data[k] for k in data.files}
            meta = json.loads(str(arrays.pop("meta")))
        except (OSError, ValueError, KeyError) as e:
            raise ValueError(f"{path} is not a controller's state: {e}") from None
        if meta.get("version") != STATE_VERSION:
            raise ValueError(f"{path}: unknown controller state version {meta.get('version')!r}")
        if meta["choices"] != self.choices or meta["hidden_size"] != self.hidden_size:
            raise ValueError(f"{path} holds a controller of other choices or hidden size "
                             f"({meta['hidden_size']} units, choices {sorted(meta['choices'])})")
        _assign(self.variables, arrays, "var", path)
        _assign(self._optimizer.variables, arrays, "opt", path)
        self.baseline = meta["baseline"]
        self.steps = int(meta["steps"])
        set_rng_state(self.rng, meta["rng"])

    # -- encoding ----------------------------------------------------------------
    def _encode(self, archs: Sequence[Mapping[str, str]]) -> np.ndarray:
        if not archs:
            raise ValueError("no architectures given")
        rows = []
        for arch in archs:
            missing = [name for name in self._choices if name not in arch]
            if missing:
                raise ValueError(f"architecture {dict(arch)} lacks the choices {missing}")
            row = []
            for name, candidates in self._choices.items():
                if arch[name] not in candidates:
                    raise ValueError(f"{arch[name]!r} is not a candidate of {name!r} "
                                     f"({candidates})")
                row.append(candidates.index(arch[name]))
            rows.append(row)
        return np.asarray(rows, dtype="int32")

    def _decode(self, actions: np.ndarray) -> list[Architecture]:
        names = list(self._choices)
        return [{name: self._choices[name][int(a)] for name, a in zip(names, row)}
                for row in actions]


def _assign(variables: Sequence[Any], arrays: Mapping[str, np.ndarray], prefix: str,
            path: str) -> None:
    stored = sorted((k for k in arrays if k.startswith(prefix)), key=lambda k: int(k[3:]))
    if len(stored) != len(variables):
        raise ValueError(f"{path}: {len(stored)} {prefix} arrays for {len(variables)} variables")
    for variable, key in zip(variables, stored):
        value = arrays[key]
        if tuple(value.shape) != tuple(variable.shape):
            raise ValueError(f"{path}: {key} has shape {value.shape}, expected "
                             f"{tuple(variable.shape)}")
        variable.assign(value)


def _checked_choices(choices: Mapping[str, Sequence[str]]) -> dict[str, tuple[str, ...]]:
    if not isinstance(choices, Mapping) or not choices:
        raise ValueError(f"choices must be a non-empty mapping of choice name -> candidate "
                         f"names, got {choices!r}")
    checked = {}
    for name, candidates in choices.items():
        if not isinstance(name, str) or isinstance(candidates, str):
            raise ValueError(f"choice {name!r}: candidates must be a list of names")
        candidates = tuple(candidates)
        if not candidates or len(set(candidates)) != len(candidates) or not all(
                isinstance(c, str) for c in candidates):
            raise ValueError(f"choice {name!r}: candidates must be distinct names, got "
                             f"{list(candidates)}")
        checked[name] = candidates
    return checked


def _check_settings(hidden_size: Any, learning_rate: Any, entropy_weight: Any,
                    baseline_decay: Any, tanh_constant: Any) -> None:
    if type(hidden_size) is not int or hidden_size < 1:
        raise ValueError(f"hidden_size must be an int >= 1, got {hidden_size!r}")
    if not _number(learning_rate) or not learning_rate > 0:
        raise ValueError(f"learning_rate must be a positive number, got {learning_rate!r}")
    if not _number(entropy_weight) or not entropy_weight >= 0:
        raise ValueError(f"entropy_weight must be a number >= 0, got {entropy_weight!r}")
    if not _number(baseline_decay) or not 0 <= baseline_decay < 1:
        raise ValueError(f"baseline_decay must be a number in [0, 1), got {baseline_decay!r}")
    if tanh_constant is not None and (not _number(tanh_constant) or not tanh_constant > 0):
        raise ValueError(f"tanh_constant must be a positive number or None, "
                         f"got {tanh_constant!r}")


def _number(value: Any) -> bool:
    return (isinstance(value, (int, float)) and not isinstance(value, bool)
            and math.isfinite(value))


def _check_count(name: str, value: Any) -> None:
    if type(value) is not int or value < 1:
        raise ValueError(f"{name} must be an int >= 1, got {value!r}")
