"""Configurations as Python dicts: TOML text for the library, and the
`-s section.key=value` overrides from keyword arguments. Pure Python."""
import math
import os

__all__ = ["to_toml", "toml_value", "overrides_from"]


def _toml_key(k):
    k = str(k)
    if k and all(c.isascii() and (c.isalnum() or c in "_-") for c in k):
        return k
    return toml_value(k)


def toml_value(x):
    """A Python value as TOML text (bool, int, float, str, lists of them, dicts
    as inline tables)."""
    if isinstance(x, bool):
        return "true" if x else "false"
    if isinstance(x, int):
        return str(x)
    if isinstance(x, float):
        if math.isnan(x):
            return "nan"
        if math.isinf(x):
            return "inf" if x > 0 else "-inf"
        return repr(x)  # the shortest text that reads back to the same double
    if isinstance(x, str):
        return '"' + x.replace("\\", "\\\\").replace('"', '\\"').replace("\n", "\\n") + '"'
    if hasattr(x, "tolist"):  # numpy scalars and arrays
        return toml_value(x.tolist())
    if isinstance(x, (list, tuple)):
        return "[" + ", ".join(toml_value(v) for v in x) + "]"
    if isinstance(x, dict):  # an inline table, e.g. a time-dependent I_ext {kind = "steps", times = [...], ...}
        return "{ " + ", ".join(f"{_toml_key(k)} = {toml_value(v)}" for k, v in x.items()) + " }"
    raise TypeError(f"cannot write {type(x).__name__} as a TOML value: {x!r}")


def _is_table(x):
    return isinstance(x, dict)


def _is_table_array(x):
    return isinstance(x, (list, tuple)) and len(x) > 0 and all(isinstance(v, dict) for v in x)


def _emit(lines, name, table, array=False):
    lines.append(f"[[{name}]]" if array else f"[{name}]")
    subs = []
    for k, v in table.items():
        if _is_table(v) or _is_table_array(v):
            subs.append((k, v))
        else:
            lines.append(f"{_toml_key(k)} = {toml_value(v)}")
    for k, v in subs:
        if _is_table(v):
            _emit(lines, f"{name}.{_toml_key(k)}", v)
        else:
            for item in v:
                _emit(lines, f"{name}.{_toml_key(k)}", item, array=True)


def to_toml(config):
    """A configuration dict, laid out as the TOML files in configs/, as TOML
    text: {"network": {...}, "population": [{...}, ...], "synapse": {...}, ...}."""
    if not isinstance(config, dict):
        raise TypeError("a configuration is a dict (or the path of a TOML file)")
    lines = []
    for k, v in config.items():
        if _is_table(v):
            _emit(lines, k, v)
        elif _is_table_array(v):
            for item in v:
                _emit(lines, k, item, array=True)
        else:
            lines.append(f"{_toml_key(k)} = {toml_value(v)}")
        lines.append("")
    return "\n".join(lines)


def overrides_from(kwargs, set_=None):
    """`section.key=value` strings from keyword arguments (a double underscore
    separates the parts: run__t_end=200, population__0__eta_bar=0.25) and from
    a dict {"run.t_end": 200}."""
    out = []
    for k, v in (set_ or {}).items():
        out.append(f"{k}={toml_value(v)}")
    for k, v in kwargs.items():
        out.append(f"{k.replace('__', '.')}={toml_value(v)}")
    return out


def config_text(config):
    """(TOML text, path) of a configuration given as a path or a dict."""
    if isinstance(config, dict):
        return to_toml(config), ""
    if isinstance(config, (str, os.PathLike)):
        path = os.fspath(config)
        try:
            with open(path, encoding="utf-8") as f:
                return f.read(), path
        except OSError as e:
            raise FileNotFoundError(f"--config: cannot read '{path}': {e.strerror}") from None
    raise TypeError("config: give the path of a TOML file or a dict")
