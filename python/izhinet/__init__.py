"""izhinet from Python: simulate an all-to-all Izhikevich network and its mean
fields, and read output folders (docs/python.md).

    import izhinet
    res = izhinet.run("configs/paper_tonic.toml", run__t_end=300, network__n=2000)
    res["t"], res["r"][0, :, 0]          # record times, r of replica 0, population 0
    res["meanfield"]["r"][:, 0]          # the exact mean field on the same grid
    res["validation"]["outcome"]         # the validator's verdict: agree | disagree | ...
    out = izhinet.load("out")            # an output folder of `izhinet run` (no compiled module needed)

run() and mf() need the compiled part (izhinet._core, built by CMake or
`pip install .`); load() and to_toml() are pure Python.
"""
import json as _json

from ._config import overrides_from as _overrides_from
from ._config import config_text as _config_text
from ._config import to_toml
from ._load import load

try:
    from . import _core
    from ._core import ConfigError, DeviceError, Error, NumericalError, OutputError

    __version__ = _core.version
    _core_import_error = None
except ImportError as _e:  # load() still works
    _core = None
    _core_import_error = _e
    __version__ = "unknown (compiled module not built)"

    class Error(RuntimeError):
        """An error izhinet reports (its one-line message)."""

    class ConfigError(Error, ValueError):
        """A bad configuration key or option."""

    class OutputError(Error, OSError):
        """A file could not be written."""

    class DeviceError(Error):
        """The CUDA backend was asked for and cannot run."""

    class NumericalError(Error, ArithmeticError):
        """The state became non-finite."""


__all__ = ["run", "mf", "load", "to_toml", "available", "cuda_available", "Error", "ConfigError", "OutputError",
           "DeviceError", "NumericalError"]


def available():
    """True when the compiled module (run, mf) is there."""
    return _core is not None


def _need_core():
    if _core is None:
        raise ImportError("izhinet.run/mf need the compiled module izhinet._core, which is not built here "
                          f"({_core_import_error}); build it with CMake after tools/setup.sh, or `pip install .`. "
                          "izhinet.load() works without it.")
    return _core


def _text(config):
    try:
        return _config_text(config)
    except FileNotFoundError as e:
        raise ConfigError(str(e)) from None


def cuda_available():
    """True when this build has the CUDA backend and a usable GPU is present."""
    return _need_core().cuda_available()


def run(config, *, backend="auto", threads=0, meanfield=True, set=None, **overrides):
    """Runs the network of `config` (a TOML path or a dict laid out as the
    files in configs/) in memory and returns a dict of numpy arrays:

    - "t": (K,) record times from 0; "r", "v", "w", "s": (R, K, P) arrays
      (replica, time, population), as timeseries.csv;
    - "spikes": {"t", "replica", "population", "neuron"}, as spikes.csv;
    - "eta": {"replica", "population", "neuron", "eta"} of the recorded neurons;
    - "meanfield": the exact mean field on the same grid {"t", "r", "v", "w",
      "s"} (when meanfield is on and the run completed);
    - "validation": the validator's report (as validation.json), or None;
    - "summary": status, timings, parameters and provenance; "config": the
      configuration as the library read it (TOML text).

    Overrides: keyword arguments with a double underscore between the parts
    (run__t_end=200, population__0__eta_bar=0.25) or set={"run.t_end": 200}.
    backend: "auto" | "cpu" | "cuda"; threads: CPU threads (0: the library
    chooses). The GIL is released while the network runs; Ctrl-C stops it
    (KeyboardInterrupt). A bad key raises ConfigError, a numerical blow-up
    NumericalError, each with izhinet's one-line message."""
    core = _need_core()
    text, path = _text(config)
    res = core.run(text, path, _overrides_from(overrides, set), backend, int(threads), bool(meanfield))
    out = {k: v for k, v in res.items() if not k.endswith("_json") and k != "config_toml"}
    out["validation"] = _json.loads(res["validation_json"]) if res["validation_json"] else None
    out["summary"] = _json.loads(res["summary_json"])
    out["config"] = res["config_toml"]
    return out


def mf(config, *, set=None, **overrides):
    """Integrates the exact mean field of `config` over [0, run.t_end] on the
    record grid and finds its equilibria (as `izhinet mf`):
    {"meanfield": {"t": (K,), "r", "v", "w", "s": (K, P)}, "equilibria": [...],
    "summary": {...}, "config": TOML text}."""
    core = _need_core()
    text, path = _text(config)
    res = core.mf(text, path, _overrides_from(overrides, set))
    return {"meanfield": res["meanfield"], "equilibria": _json.loads(res["equilibria_json"]),
            "summary": _json.loads(res["summary_json"]), "config": res["config_toml"]}
