"""Covariance of an M-estimate (Huber's H1, H2, H3) and the summary table.

With ``u = r/σ``, sample weights ``s`` (``S = Σ s``), ``p`` parameters and the design
``a = [1, x]``: ``m = Σ s·ψ'(u) / S``, ``K = 1 + (p/S)·var(ψ')/m²``,
``q = σ²·Σ s·ψ(u)² / (S - p)``, ``G = Σ s·a·aᵀ``, ``W = Σ s·ψ'(u)·a·aᵀ``::

    H1 = K²·q/m² · G⁻¹        H2 = K·q/m · W⁻¹        H3 = q/K · W⁻¹·G·W⁻¹

(Huber 1981, §7.6; as statsmodels' RLM computes them, and MASS::rlm's summary up to its
``n - 1`` in ``var(ψ')``). With a ridge penalty, whose curvature in these units is
``P = α·D`` (``D`` the identity on the coefficients, zero on the intercept), the bread
of each sandwich gains ``P``: ``H1 = K²q·(mG + P)⁻¹G(mG + P)⁻¹``,
``H2 = Kq·(W + P)⁻¹(W/m)(W + P)⁻¹``, ``H3 = (q/K)·(W + P)⁻¹G(W + P)⁻¹``; with ``α = 0``
these are the formulas above. The matrices are formed in the standardised coordinates
of the objective (well conditioned) and mapped back.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from typing import Any

import numpy as np
from scipy.stats import norm

from gradopt._typing import FloatArray
from gradopt.exceptions import BackendUnavailableError
from gradopt.linear_model._robust_objective import RobustObjective

__all__ = ["COVARIANCES", "RobustSummary", "covariance"]

COVARIANCES = ("H1", "H2", "H3")


def covariance(
    objective: RobustObjective, v: FloatArray, scale: float, kind: str, penalty: float
) -> FloatArray:
    """Covariance of ``[intercept, coef...]`` (``coef`` alone without an intercept).

    At the internal point `v` (see the module docstring); `penalty` is the ridge
    curvature ``α`` in the units of the estimating equations.
    """
    d, p = objective.n_features, objective.n_params
    if scale <= 0:
        return np.zeros((p, p))
    curvature, square_curvature, square_psi = objective.covariance_sums(v, scale)
    total = objective.total_weight
    m = float(curvature) / total
    if not m > 0:
        return np.full((p, p), np.nan)  # no curvature: ψ' averages to <= 0
    variance = max(float(square_curvature) / total - m * m, 0.0)
    K = 1.0 + p / total * variance / m**2
    q = scale**2 * float(square_psi) / max(total - p, np.finfo(float).tiny)
    G = objective.design_gram
    P = np.zeros(p)
    P[:d] = penalty * objective.coef_scale**2  # α·‖coef‖² in internal coordinates
    if kind == "H1":
        bread = np.linalg.inv(m * G + np.diag(P))
        inner = K * K * q * bread @ G @ bread
    else:
        W = objective.gram_at(v, "newton", scale)
        bread = np.linalg.inv(W + np.diag(P))
        middle = K * q / m * W if kind == "H2" else q / K * G
        inner = bread @ middle @ bread
    T = objective.transform()
    cov: FloatArray = T @ inner @ T.T
    symmetric: FloatArray = (cov + cov.T) / 2
    return symmetric


@dataclass(frozen=True)
class RobustSummary:
    """The coefficient table of a fitted :class:`RobustRegressor`.

    Prints as a text table; :meth:`to_frame` gives a pandas DataFrame. Columns: the
    estimate, its standard error, ``z = coef / se``, the two-sided normal p-value and
    the confidence interval at `level`.
    """

    names: Sequence[str]
    coef: FloatArray
    bse: FloatArray
    level: float
    header: str

    @property
    def z(self) -> FloatArray:
        with np.errstate(divide="ignore", invalid="ignore"):
            result: FloatArray = self.coef / self.bse
        return result

    @property
    def pvalues(self) -> FloatArray:
        result: FloatArray = 2.0 * norm.sf(np.abs(self.z))
        return result

    @property
    def conf_int(self) -> FloatArray:
        half = norm.ppf(0.5 + self.level / 2) * self.bse
        return np.column_stack([self.coef - half, self.coef + half])

    def columns(self) -> dict[str, Any]:
        """The table as ``{column name: array}`` (the DataFrame's columns)."""
        low, high = self.conf_int.T
        pct = f"{100 * self.level:g}%"
        return {
            "coef": self.coef,
            "std err": self.bse,
            "z": self.z,
            "P>|z|": self.pvalues,
            f"[{pct}": low,
            f"{pct}]": high,
        }

    def to_frame(self) -> Any:
        """The table as a :class:`pandas.DataFrame` indexed by the parameter names."""
        try:
            import pandas as pd  # type: ignore[import-untyped]
        except ImportError as exc:  # pragma: no cover - pandas is in the test extra
            raise BackendUnavailableError(
                "RobustSummary.to_frame needs pandas: pip install pandas"
            ) from exc
        return pd.DataFrame(self.columns(), index=list(self.names))

    def __str__(self) -> str:
        columns = self.columns()
        width = max(9, *(len(n) for n in self.names))
        head = f"{'':<{width}}" + "".join(f"{c:>12}" for c in columns)
        lines = [self.header, "=" * len(head), head, "-" * len(head)]
        for i, name in enumerate(self.names):
            cells = "".join(f"{_cell(values[i], key):>12}" for key, values in columns.items())
            lines.append(f"{name:<{width}}{cells}")
        lines.append("=" * len(head))
        return "\n".join(lines)

    def __repr__(self) -> str:
        return str(self)


def _cell(value: float, key: str) -> str:
    if key == "P>|z|":
        return f"{value:.3f}" if value >= 1e-3 else f"{value:.1e}"
    return f"{value:.4g}"
