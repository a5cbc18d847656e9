"""izhinet.load(DIR): an output folder of `izhinet run` or `izhinet mf` as
numpy arrays and dicts. Pure Python (numpy; h5py only for run.h5), so that
results of cluster runs can be analysed where the compiled module is not
built. The layout is the one izhinet.run() returns (docs/python.md)."""
import json
import os

import numpy as np

__all__ = ["load", "read_csv", "read_table", "frames"]


def read_csv(path):
    """(header, 2-D float array) of one of izhinet's CSV files; (header, empty
    array) when it has no rows."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
        data = np.loadtxt(f, delimiter=",", ndmin=2, dtype=np.float64)
    if data.size == 0:
        data = np.zeros((0, len(header)))
    if data.shape[1] != len(header):
        raise ValueError(f"{path}: {data.shape[1]} columns in the rows, {len(header)} in the header")
    return header, data


def read_table(path):
    """A CSV file with text columns (sweep.csv, branches.csv, finite_size.csv)
    as {column: 1-D array}: numbers as float64 (empty cells NaN), the rest as
    str arrays."""
    with open(path, encoding="utf-8") as f:
        header = f.readline().strip().split(",")
        rows = [line.rstrip("\n").split(",") for line in f if line.strip()]
    out = {}
    for j, name in enumerate(header):
        col = [r[j] if j < len(r) else "" for r in rows]
        try:
            out[name] = np.array([float(x) if x != "" else np.nan for x in col], dtype=np.float64)
        except ValueError:
            out[name] = np.array(col, dtype=str)
    return out


def _populations(header):
    return sum(1 for h in header if h.startswith("r") and h[1:].isdigit())


def _split_columns(header, data, names=("r", "v", "w", "s")):
    """{"r": (K, P), ...} from columns r0, v0, w0, s0, r1, ..."""
    P = _populations(header)
    index = {h: j for j, h in enumerate(header)}
    out = {}
    for q in names:
        cols = [index.get(f"{q}{i}") for i in range(P)]
        if all(c is not None for c in cols):
            out[q] = data[:, cols] if cols else np.zeros((data.shape[0], 0))
    return out


def _meanfield(path):
    header, data = read_csv(path)
    out = {"t": data[:, header.index("t")]}
    out.update(_split_columns(header, data))
    return out


def _read_json(path):
    if not os.path.exists(path):
        return None
    with open(path, encoding="utf-8") as f:
        return json.load(f)


def _columns(header, data, dtypes):
    index = {h: j for j, h in enumerate(header)}
    return {name: data[:, index[name]].astype(dt) for name, dt in dtypes}


_SPIKE_COLUMNS = (("t", np.float64), ("replica", np.int32), ("population", np.int32), ("neuron", np.int64))
_ETA_COLUMNS = (("replica", np.int32), ("population", np.int32), ("neuron", np.int64), ("eta", np.float64))


def _timeseries_csv(d):
    """t (K,), {"r": (R, K, P), ...} from timeseries.csv or replica_<k>/timeseries.csv."""
    path = os.path.join(d, "timeseries.csv")
    if os.path.exists(path):
        header, data = read_csv(path)
        if header[0] == "replica":  # more replicas than folders: one file, rows grouped by chunk of time
            rep = data[:, 0].astype(np.int64)
            R = int(rep.max()) + 1 if rep.size else 0
            order = np.lexsort((data[:, 1], rep))  # by replica, then t
            data = data[order][:, 1:]
            header = header[1:]
            K = data.shape[0] // max(R, 1)
            parts = [data[k * K:(k + 1) * K] for k in range(R)]
        else:
            parts = [data]
    else:
        parts, k = [], 0
        while os.path.exists(os.path.join(d, f"replica_{k}", "timeseries.csv")):
            header, data = read_csv(os.path.join(d, f"replica_{k}", "timeseries.csv"))
            parts.append(data)
            k += 1
        if not parts:
            return None, None
    K = min(p.shape[0] for p in parts)  # an interrupted run: replicas may hold different numbers of rows
    parts = [p[:K] for p in parts]
    t = parts[0][:, 0].copy()
    split = [_split_columns(header, p) for p in parts]
    return t, {q: np.stack([s[q] for s in split]) for q in split[0]}


def _load_h5(path):
    try:
        import h5py
    except ImportError:
        raise ImportError(f"{path}: reading HDF5 needs h5py (Debian: python3-h5py; pip install h5py)") from None
    out = {}
    with h5py.File(path, "r") as f:
        ts = f["timeseries"]
        columns = ts.attrs["columns"]
        columns = columns.decode() if isinstance(columns, bytes) else str(columns)
        header = columns.split(",")
        data = ts[()]  # (R, K, C)
        out["t"] = data[0, :, 0].copy() if data.shape[0] else np.zeros(0)
        split = [_split_columns(header, data[r]) for r in range(data.shape[0])]
        for q in ("r", "v", "w", "s"):
            out[q] = np.stack([s[q] for s in split]) if split else np.zeros((0, 0, 0))
        for group, cols in (("spikes", _SPIKE_COLUMNS), ("eta", _ETA_COLUMNS)):
            if group in f:
                out[group] = {name: f[group][name][()].astype(dt) for name, dt in cols}
        out["attributes"] = {k: (v.decode() if isinstance(v, bytes) else v) for k, v in f.attrs.items()}
    return out


def load(directory):
    """Reads an output folder into a dict of numpy arrays and dicts:

    - "t": (K,) record times; "r", "v", "w", "s": (R, K, P) arrays (replica,
      time, population) from timeseries.csv, replica_<k>/timeseries.csv or
      run.h5;
    - "spikes": {"t", "replica", "population", "neuron"} (1-D arrays);
    - "eta": {"replica", "population", "neuron", "eta"} of the recorded neurons;
    - "meanfield" (exact) and "meanfield_slow": {"t": (K,), "r": (K, P), ...};
    - "validation", "summary": the JSON files as dicts; "equilibria": the list
      in equilibria.json;
    - "config": the text of config.toml.

    - "sweep": the columns of sweep.csv (`izhinet sweep`), "branches": those
      of branches.csv and "special_points": special_points.json (`izhinet
      bif`), "finite_size": those of finite_size.csv (`izhinet finite-size`),
      each as {column: 1-D array} (read_table).

    Keys whose files are absent are left out (an `izhinet mf` folder has no
    "t"/"r"/"spikes"). DIR may also be one replica's folder (DIR/replica_k)."""
    d = os.fspath(directory)
    if not os.path.isdir(d):
        raise FileNotFoundError(f"izhinet.load: '{d}' is not a folder")
    out = {}
    h5 = os.path.join(d, "run.h5")
    if os.path.exists(h5):
        out.update(_load_h5(h5))
    else:
        t, series = _timeseries_csv(d)
        if t is not None:
            out["t"] = t
            out.update(series)
        for name, cols in (("spikes", _SPIKE_COLUMNS), ("eta", _ETA_COLUMNS)):
            p = os.path.join(d, name + ".csv")
            if os.path.exists(p):
                out[name] = _columns(*read_csv(p), cols)
    # the validator writes into replica_0 when there are replica folders
    mf_dir = d if os.path.exists(os.path.join(d, "meanfield.csv")) else os.path.join(d, "replica_0")
    for key, name in (("meanfield", "meanfield.csv"), ("meanfield_slow", "meanfield_slow.csv")):
        p = os.path.join(mf_dir, name)
        if os.path.exists(p):
            out[key] = _meanfield(p)
    j = _read_json(os.path.join(d, "summary.json"))
    if j is not None:
        out["summary"] = j
    j = _read_json(os.path.join(d, "equilibria.json"))
    if j is not None:
        out["equilibria"] = j.get("equilibria", [])
    v = _read_json(os.path.join(mf_dir, "validation.json"))
    if v is not None:
        out["validation"] = v
    cfg = os.path.join(d, "config.toml")
    if os.path.exists(cfg):
        with open(cfg, encoding="utf-8") as f:
            out["config"] = f.read()
    for key, name in (("sweep", "sweep.csv"), ("branches", "branches.csv"), ("finite_size", "finite_size.csv")):
        p = os.path.join(d, name)
        if os.path.exists(p):
            out[key] = read_table(p)
    sp = _read_json(os.path.join(d, "special_points.json"))
    if sp is not None:
        # the list under "special_points" ("points" is the number of rows of branches.csv)
        out["special_points"] = sp.get("special_points", sp) if isinstance(sp, dict) else sp
    if not out:
        raise FileNotFoundError(f"izhinet.load: '{d}' holds no izhinet output (timeseries.csv, run.h5, meanfield.csv, "
                                "sweep.csv, branches.csv, finite_size.csv)")
    return out


def frames(result):
    """pandas DataFrames of a result of load() or run() (needs pandas):

    - "timeseries": one row per (replica, t), columns replica, t, r0, v0, w0,
      s0, r1, ... (as timeseries.csv with a replica column);
    - "meanfield", "meanfield_slow": columns t, r0, v0, ... ;
    - "spikes", "eta", "sweep", "branches", "finite_size": their columns;
    - "special_points", "equilibria": one row per point (nested values kept
      as objects).
    Keys the result does not have are left out."""
    try:
        import pandas as pd
    except ImportError:
        raise ImportError("izhinet.frames needs pandas (Debian: python3-pandas; pip install pandas); "
                          "load() itself returns numpy arrays") from None
    out = {}
    if "t" in result and "r" in result:
        R, K, P = result["r"].shape
        cols = {"replica": np.repeat(np.arange(R), K), "t": np.tile(result["t"], R)}
        for i in range(P):
            for q in ("r", "v", "w", "s"):
                if q in result:
                    cols[f"{q}{i}"] = result[q][:, :, i].reshape(R * K)
        out["timeseries"] = pd.DataFrame(cols)
    for key in ("meanfield", "meanfield_slow"):
        if key in result:
            mf = result[key]
            cols = {"t": mf["t"]}
            P = next((mf[q].shape[1] for q in ("r", "v", "w", "s") if q in mf), 0)
            for i in range(P):
                for q in ("r", "v", "w", "s"):
                    if q in mf:
                        cols[f"{q}{i}"] = mf[q][:, i]
            out[key] = pd.DataFrame(cols)
    for key in ("spikes", "eta", "sweep", "branches", "finite_size"):
        if key in result:
            out[key] = pd.DataFrame(result[key])
    for key in ("special_points", "equilibria"):
        if key in result and isinstance(result[key], list):
            out[key] = pd.DataFrame(result[key])
    return out
