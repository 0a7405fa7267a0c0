"""The numbers behind ``foleykit evaluate``, in plain numpy (no scipy, no torch).

Every metric works on per-clip feature vectors (:func:`clip_features`: the mean and standard
deviation of each log-mel band over time, ``2 * n_mels`` numbers) and compares sets of them:

- :func:`frechet_distance`: the Fréchet distance between Gaussians fitted to two sets (the
  FID/FAD formula), with a symmetric eigendecomposition square root that stays real and
  finite for the rank-deficient covariances a few dozen clips give.
- :class:`LogisticClassifier`: multinomial logistic regression on standardised features;
  trained on real clips, it tells how often generated clips are recognised by category.
- :func:`mean_pairwise_distance`: diversity, as the mean distance between clips of a set.
- :func:`nearest_neighbours`: each clip's nearest reference clip, to catch replayed data.

Distances are RMS over feature dimensions (``||a - b|| / sqrt(d)``), so they read as
natural-log units of the log-mel and do not grow with the number of bands.
"""
from __future__ import annotations

from dataclasses import dataclass
from typing import Dict, List, Optional, Sequence, Tuple

import numpy as np

DUPLICATE_TOL = 1e-6  # RMS log-mel distance under which two clips are the same clip

__all__ = ["clip_features", "sqrtm_psd", "gaussian_stats", "frechet_from_stats",
           "frechet_distance", "pairwise_distances", "mean_pairwise_distance",
           "LogisticClassifier", "stratified_split", "nearest_neighbours",
           "self_nearest_distances", "Neighbours", "confusion"]


def clip_features(mel: np.ndarray) -> np.ndarray:
    """``(n_mels, frames)`` log-mel -> ``(2 * n_mels,)`` float64: each band's mean over time,
    then each band's standard deviation over time (0 for a one-frame clip)."""
    m = np.asarray(mel, np.float64)
    if m.ndim != 2 or m.shape[1] < 1:
        raise ValueError(f"a log-mel clip is (n_mels, frames) with frames >= 1; got {m.shape}")
    return np.concatenate([m.mean(axis=1), m.std(axis=1)])


def _as_2d(x, name: str) -> np.ndarray:
    a = np.asarray(x, np.float64)
    if a.ndim != 2 or a.shape[0] < 1:
        raise ValueError(f"{name} must be (n_clips >= 1, dims); got shape {a.shape}")
    if not np.all(np.isfinite(a)):
        raise ValueError(f"{name} holds non-finite values")
    return a


def sqrtm_psd(s: np.ndarray) -> np.ndarray:
    """The symmetric square root of a symmetric positive semi-definite matrix. The input
    is symmetrised and negative eigenvalues (round-off) are clipped to zero."""
    s = np.asarray(s, np.float64)
    s = 0.5 * (s + s.T)
    w, v = np.linalg.eigh(s)
    return (v * np.sqrt(np.clip(w, 0.0, None))) @ v.T


def gaussian_stats(x) -> Tuple[np.ndarray, np.ndarray]:
    """Mean ``(d,)`` and covariance ``(d, d)`` (unbiased; zeros for one clip) of ``(n, d)``."""
    a = _as_2d(x, "features")
    mu = a.mean(axis=0)
    if a.shape[0] < 2:
        return mu, np.zeros((a.shape[1], a.shape[1]))
    return mu, np.cov(a, rowvar=False).reshape(a.shape[1], a.shape[1])


def frechet_from_stats(mu1, s1, mu2, s2) -> float:
    """``|mu1 - mu2|^2 + tr(S1) + tr(S2) - 2 tr((S1^1/2 S2 S1^1/2)^1/2)``.

    ``S1^1/2 S2 S1^1/2`` is symmetric PSD and has the eigenvalues of ``S1 S2``, so its
    trace square root equals ``tr((S1 S2)^1/2)`` without a non-symmetric sqrtm that can
    turn complex or blow up for singular covariances. Never negative (clipped at 0)."""
    mu1, mu2 = np.asarray(mu1, np.float64), np.asarray(mu2, np.float64)
    s1, s2 = np.asarray(s1, np.float64), np.asarray(s2, np.float64)
    if mu1.shape != mu2.shape or s1.shape != s2.shape or s1.shape != (mu1.size, mu1.size):
        raise ValueError(f"mismatched statistics: means {mu1.shape}, {mu2.shape}; covariances "
                         f"{s1.shape}, {s2.shape}")
    r1 = sqrtm_psd(s1)
    m = r1 @ (0.5 * (s2 + s2.T)) @ r1
    w = np.linalg.eigvalsh(0.5 * (m + m.T))
    cross = float(np.sqrt(np.clip(w, 0.0, None)).sum())
    d = float(np.sum((mu1 - mu2) ** 2) + np.trace(s1) + np.trace(s2) - 2.0 * cross)
    return max(d, 0.0)


def frechet_distance(a, b) -> float:
    """Fréchet distance between Gaussians fitted to feature sets ``(n1, d)`` and ``(n2, d)``.
    Small sets give a noisy, upward-biased estimate: compare only numbers computed with
    similar clip counts (``foleykit evaluate`` reports the real-vs-real split as a floor)."""
    a, b = _as_2d(a, "first feature set"), _as_2d(b, "second feature set")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets differ in dimension: {a.shape[1]} vs {b.shape[1]}")
    return frechet_from_stats(*gaussian_stats(a), *gaussian_stats(b))


def pairwise_distances(a, b) -> np.ndarray:
    """``(n1, n2)`` RMS distances ``||a_i - b_j|| / sqrt(d)``."""
    a, b = _as_2d(a, "first feature set"), _as_2d(b, "second feature set")
    if a.shape[1] != b.shape[1]:
        raise ValueError(f"feature sets differ in dimension: {a.shape[1]} vs {b.shape[1]}")
    c = b.mean(axis=0)  # centring keeps the expansion below accurate for near pairs
    a, b = a - c, b - c
    sq = (np.sum(a * a, 1)[:, None] + np.sum(b * b, 1)[None, :] - 2.0 * a @ b.T)
    return np.sqrt(np.clip(sq, 0.0, None) / a.shape[1])


def mean_pairwise_distance(x) -> Optional[float]:
    """Mean RMS distance over all unordered pairs of rows; ``None`` for fewer than two."""
    a = _as_2d(x, "features")
    n = a.shape[0]
    if n < 2:
        return None
    d = pairwise_distances(a, a)
    iu = np.triu_indices(n, 1)
    return float(d[iu].mean())


def self_nearest_distances(x, exclude_duplicates: bool = False,
                           tol: float = DUPLICATE_TOL) -> np.ndarray:
    """Each row's distance to its nearest *other* row (empty for fewer than two rows). With
    ``exclude_duplicates`` rows at distance <= ``tol`` (copies in the set) are not
    neighbours, and a row with only copies gets ``inf``."""
    a = _as_2d(x, "features")
    if a.shape[0] < 2:
        return np.zeros(0)
    d = pairwise_distances(a, a)
    np.fill_diagonal(d, np.inf)
    if exclude_duplicates:
        d[d <= tol] = np.inf
    return d.min(axis=1)


@dataclass
class Neighbours:
    """:func:`nearest_neighbours`: for each query row its nearest reference row ``index``,
    the ``distance``, and ``flagged`` where the distance is below the threshold."""

    index: np.ndarray
    distance: np.ndarray
    flagged: np.ndarray
    threshold: float


def nearest_neighbours(query, reference, threshold: Optional[float] = None) -> Neighbours:
    """Nearest reference row of each query row. A query closer than ``threshold`` is flagged;
    by default the threshold is the smallest non-zero distance between two reference rows
    (the closest two distinct real clips are to each other), so an exact copy of a reference
    clip is always flagged and a clip as far from the data as real clips are from each other
    is not."""
    q, r = _as_2d(query, "query features"), _as_2d(reference, "reference features")
    if threshold is None:
        own = self_nearest_distances(r, exclude_duplicates=True)
        own = own[np.isfinite(own)]
        threshold = float(own.min()) if own.size else 0.0
    d = pairwise_distances(q, r)
    idx = d.argmin(axis=1)
    dist = d[np.arange(q.shape[0]), idx]
    return Neighbours(idx, dist, dist < threshold, float(threshold))


def stratified_split(labels: Sequence[int], holdout: float = 0.25, seed: int = 0,
                     groups: Optional[Sequence[int]] = None) -> Tuple[np.ndarray, np.ndarray]:
    """Train and held-out indices, per label: about ``holdout`` of each label's groups
    (default: each item its own group) are held out, but never a label's only group, so
    every label is in the training part. Items of one group (windows of one recording) stay
    on one side."""
    labels = np.asarray(labels)
    groups = np.arange(labels.size) if groups is None else np.asarray(groups)
    if not 0.0 <= holdout < 1.0:
        raise ValueError(f"holdout must be in [0, 1), got {holdout}")
    rng = np.random.default_rng(seed)
    test: List[int] = []
    for lab in np.unique(labels):
        g = np.unique(groups[labels == lab])
        n_out = int(round(holdout * g.size))
        n_out = min(max(n_out, 1 if holdout > 0 and g.size >= 2 else 0), g.size - 1)
        out_g = rng.permutation(g)[:n_out]
        test.extend(np.nonzero((labels == lab) & np.isin(groups, out_g))[0].tolist())
    test_idx = np.array(sorted(test), dtype=np.int64)
    train_idx = np.setdiff1d(np.arange(labels.size), test_idx)
    return train_idx, test_idx


class LogisticClassifier:
    """Multinomial logistic regression with L2 weight decay, fitted by full-batch gradient
    descent on features standardised with the training set's mean and standard deviation
    (floored at ``min_std`` so that a band that never varies in the real clips, such as one
    at the log floor, does not magnify a generated clip's deviation there)."""

    def __init__(self, l2: float = 1e-2, iters: int = 500, lr: float = 0.5,
                 min_std: float = 0.05) -> None:
        self.l2, self.iters, self.lr, self.min_std = float(l2), int(iters), float(lr), min_std
        self.classes_: Optional[np.ndarray] = None

    def fit(self, x, y) -> "LogisticClassifier":
        x = _as_2d(x, "training features")
        y = np.asarray(y)
        if y.shape != (x.shape[0],):
            raise ValueError(f"labels must be ({x.shape[0]},); got {y.shape}")
        self.classes_, yi = np.unique(y, return_inverse=True)
        self.mean_ = x.mean(axis=0)
        self.std_ = np.maximum(x.std(axis=0), self.min_std)
        z = (x - self.mean_) / self.std_
        n, d = z.shape
        k = self.classes_.size
        onehot = np.eye(k)[yi]
        w, b = np.zeros((d, k)), np.zeros(k)
        for _ in range(self.iters if k > 1 else 0):
            p = _softmax(z @ w + b)
            g = (p - onehot) / n
            w -= self.lr * (z.T @ g + self.l2 * w)
            b -= self.lr * g.sum(axis=0)
        self.w_, self.b_ = w, b
        return self

    def predict_proba(self, x) -> np.ndarray:
        if self.classes_ is None:
            raise RuntimeError("fit the classifier first")
        z = (_as_2d(x, "features") - self.mean_) / self.std_
        return _softmax(z @ self.w_ + self.b_)

    def predict(self, x) -> np.ndarray:
        return self.classes_[self.predict_proba(x).argmax(axis=1)]

    def score(self, x, y) -> float:
        """Accuracy on ``(x, y)``."""
        return float(np.mean(self.predict(x) == np.asarray(y)))


def _softmax(a: np.ndarray) -> np.ndarray:
    a = a - a.max(axis=1, keepdims=True)
    e = np.exp(a)
    return e / e.sum(axis=1, keepdims=True)


def confusion(true: Sequence, pred: Sequence, classes: Sequence) -> Dict[str, Dict[str, int]]:
    """``{true class: {predicted class: count}}`` over ``classes`` (zeros included)."""
    out = {str(c): {str(p): 0 for p in classes} for c in classes}
    for t, p in zip(true, pred):
        out[str(t)][str(p)] += 1
    return out
