"""matplotlib and xarray for lossatlas results, imported only when asked for (both are optional)."""

import numpy as np


def _require(module, extra):
    try:
        return __import__(module, fromlist=["_"])
    except ImportError as error:
        raise ImportError(
            f"this needs {module.split('.')[0]}; install it with `pip install lossatlas[{extra}]` "
            f"or `pip install {module.split('.')[0]}`"
        ) from error


def plot_landscape(landscape, ax=None, levels=None, filled=True):
    """Filled contours and contour lines of ``landscape`` on ``ax`` (a new figure if None)."""
    plt = _require("matplotlib.pyplot", "plot")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 6))
    values = np.ma.masked_invalid(landscape.values)
    levels = 12 if levels is None else levels
    u, v = landscape.u, landscape.v
    if filled:
        filled_set = ax.contourf(u, v, values, levels=levels, cmap="viridis")
        ax.figure.colorbar(filled_set, ax=ax, label="loss")
    lines = ax.contour(u, v, values, levels=levels, colors="k", linewidths=0.6)
    ax.clabel(lines, fontsize=7)
    minimum = landscape.minimum
    if minimum is not None:
        ax.plot([minimum[0]], [minimum[1]], marker="*", color="white", markeredgecolor="k", markersize=12)
    names = landscape.names
    ax.set_xlabel(names[0])
    ax.set_ylabel(names[1])
    ax.set_title(landscape.title, fontsize=9)
    return ax


def landscape_to_xarray(landscape):
    """``landscape`` as an xarray DataArray (a Dataset with the accuracy too, if it has one)."""
    xr = _require("xarray", "xarray")
    u_name, v_name = landscape.names
    coords = {v_name: landscape.v, u_name: landscape.u}
    attrs = {"title": landscape.title}
    loss = xr.DataArray(landscape.values, coords=coords, dims=(v_name, u_name), name="loss", attrs=attrs)
    accuracy = landscape.accuracy
    if accuracy is None:
        return loss
    return xr.Dataset(
        {"loss": loss, "accuracy": xr.DataArray(accuracy, coords=coords, dims=(v_name, u_name))},
        attrs=attrs,
    )
