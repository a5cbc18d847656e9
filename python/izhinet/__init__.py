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
from ._load import frames, load, read_table

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


__all__ = ["run", "mf", "meanfield", "equilibria", "sweep", "bif", "executable", "load", "read_table", "frames", "to_toml", "available", "cuda_available", "Error", "ConfigError", "OutputError",
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


def meanfield(config, *, set=None, **overrides):
    """The exact mean field of `config` on the record grid: {"t": (K,), "r",
    "v", "w", "s": (K, P)} (the "meanfield" part of mf())."""
    return mf(config, set=set, **overrides)["meanfield"]


def equilibria(config, *, set=None, **overrides):
    """The equilibria of the exact mean field of `config` with their stability
    and eigenvalues (a list of dicts, as equilibria.json)."""
    return mf(config, set=set, **overrides)["equilibria"]


def executable():
    """Path of the izhinet executable that sweep() and bif() run:
    $IZHINET_EXECUTABLE, else the one of this build tree (next to the Python
    package in build/python), else `izhinet` on PATH."""
    import os
    import shutil

    env = os.environ.get("IZHINET_EXECUTABLE")
    if env:
        return env
    here = os.path.dirname(os.path.abspath(__file__))
    for cand in (os.path.join(here, "..", "..", "izhinet"), os.path.join(here, "..", "..", "build", "izhinet")):
        if os.path.isfile(cand) and os.access(cand, os.X_OK):
            return os.path.normpath(cand)
    found = shutil.which("izhinet")
    if found:
        return found
    raise FileNotFoundError("izhinet.sweep/bif run the izhinet executable and cannot find it: build it "
                            "(tools/build.sh) or set IZHINET_EXECUTABLE")


def _cli(command, config, out, args, set, overrides, overwrite, progress=True):
    """Runs `izhinet COMMAND` into `out` and loads the folder. The command's
    one-line error becomes ConfigError (status 2), OutputError (5) or Error;
    Ctrl-C reaches the child too (same process group), which stops within a
    second and keeps what is done (a rerun resumes)."""
    import os
    import subprocess
    import tempfile

    text, path = _text(config)
    sets = _overrides_from(overrides, set)
    cfg_file = None
    if path is None or not os.path.exists(str(path)):
        fd, cfg_file = tempfile.mkstemp(suffix=".toml", prefix="izhinet_")
        with os.fdopen(fd, "w") as f:
            f.write(text)
        path = cfg_file
    cmd = [executable(), command, "--config", str(path), "--out", os.fspath(out), "-q"]
    if progress:  # only the commands that run networks have --progress
        cmd += ["--progress", "0"]
    for s in sets:
        cmd += ["--set", s]
    if overwrite:
        cmd.append("--overwrite")
    cmd += [str(a) for a in args]
    try:
        p = subprocess.run(cmd, capture_output=True, text=True)
    finally:
        if cfg_file:
            os.unlink(cfg_file)
    if p.returncode == 130:
        raise KeyboardInterrupt(f"izhinet {command} interrupted; what is done is kept in {out}")
    if p.returncode != 0:
        lines = [ln for ln in (p.stderr + p.stdout).splitlines() if "[error]" in ln or "[critical]" in ln]
        msg = lines[-1].split("] ", 2)[-1] if lines else f"izhinet {command} exited {p.returncode}"
        kind = {2: ConfigError, 5: OutputError, 4: NumericalError}.get(p.returncode, Error)
        raise kind(msg)
    return load(out)


def sweep(config, param, values, out, *, direction="none", n=None, backend="auto", threads=0, overwrite=False,
          set=None, **overrides):
    """One network per value of `param` beside the mean field's attractor
    (`izhinet sweep`, README): `values` is a list of numbers or "A:B:K";
    returns load(out), whose "sweep" holds the columns of sweep.csv
    (regime, period, r0_min, ..., mf_regime, mf_period, mf_r0_min, ...)."""
    if not isinstance(values, str):
        values = ",".join(repr(float(v)) for v in values)
    args = ["--param", param, "--values", values, "--direction", direction, "--backend", backend, "--threads",
            int(threads)]
    if n is not None:
        args += ["--n", int(n)]
    return _cli("sweep", config, out, args, set, overrides, overwrite)


def bif(config, param, start, end, out, *, param2=None, start2=None, end2=None, mesh=None, ncol=None, at=None,
        orbits=True, overwrite=False, set=None, **overrides):
    """Bifurcation diagram of the mean field in `param` over [start, end]
    (and two-parameter curves in (param, param2) over [start2, end2]), as
    `izhinet bif`; returns load(out) with "branches" (columns of
    branches.csv) and "special_points".

    mesh: collocation mesh intervals of the periodic orbits (4..2000, default
    40); ncol: Gauss points per interval (2..7, default 4); at: a number or a
    list of `param` values where each periodic branch reports its orbit (UZ
    points); orbits=False skips the periodic orbits (--no-orbits, much
    faster: equilibria, folds and Hopf points only)."""
    args = ["--param", param, "--from", repr(float(start)), "--to", repr(float(end))]
    if param2 is not None:
        if start2 is None or end2 is None:
            raise ConfigError("bif(): param2 needs start2 and end2")
        args += ["--param2", param2, "--from2", repr(float(start2)), "--to2", repr(float(end2))]
    if mesh is not None:
        args += ["--mesh", int(mesh)]
    if ncol is not None:
        args += ["--ncol", int(ncol)]
    if at is not None:
        if isinstance(at, (int, float)):
            at = [at]
        args += ["--at", ",".join(repr(float(x)) for x in at)]
    if not orbits:
        args.append("--no-orbits")
    return _cli("bif", config, out, args, set, overrides, overwrite, progress=False)
