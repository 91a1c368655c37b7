"""Draw docs/_static/robust_losses.png: ρ and the weight ψ(u)/u of every robust loss.

Run from the repository root (needs matplotlib, the ``plot`` extra)::

    python docs/robust_losses_figure.py
"""

from __future__ import annotations

import sys
from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
import numpy as np

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from gradopt.linear_model._robust_losses import LOSSES, make_loss  # noqa: E402


def main() -> None:
    u = np.linspace(-10, 10, 2001)
    fig, (left, right) = plt.subplots(1, 2, figsize=(11, 4.2))
    for name in LOSSES:
        loss = make_loss(name)
        label = f"{name} {loss._show(loss.tuning)}" if loss.tuning else name
        left.plot(u, np.asarray(loss.rho(u)), label=label)
        right.plot(u, loss.weight(u), label=label)
    left.set(ylim=(0, 12), xlabel="u = r / σ", ylabel="ρ(u)", title="loss ρ (95% efficiency)")
    right.set(
        ylim=(-0.02, 1.05), xlabel="u = r / σ", ylabel="w(u) = ψ(u) / u", title="robustness weight"
    )
    left.legend(fontsize=8)
    for ax in (left, right):
        ax.grid(alpha=0.3)
    fig.tight_layout()
    out = ROOT / "docs" / "_static" / "robust_losses.png"
    fig.savefig(out, dpi=80)
    print(f"saved {out.relative_to(ROOT)}")


if __name__ == "__main__":
    main()
