"""What a sensor did over the last minute (or its configured window), in fixed memory.

The cloud planner is told each sensor's last value with min, max, mean, trend and counts over
a window rather than the raw messages: 2,400 readings a minute become one line
(docs/cloud.md has the token figures). Readings are summed into a fixed number of buckets, so
a flood of readings costs a few additions each and no memory grows.
"""

from __future__ import annotations

from collections import Counter, deque
from dataclasses import dataclass, field

BUCKETS = 12
TEXTS_PER_BUCKET = 8  # distinct event texts counted per bucket; the rest count as "other"
OTHER = "(other)"


@dataclass
class Bucket:
    start: float
    count: int = 0
    total: float = 0.0  # of numbers (a boolean counts 1 when true)
    low: float = float("inf")
    high: float = float("-inf")
    rises: int = 0  # a boolean becoming true
    texts: Counter[str] = field(default_factory=Counter)


@dataclass(frozen=True)
class Stats:
    """A window's readings: count, and for numbers min, max, mean and slope (per second)."""
    count: int
    low: float = 0.0
    high: float = 0.0
    mean: float = 0.0
    slope: float | None = None  # least squares over the buckets' means; None with one bucket
    rises: int = 0
    texts: tuple[tuple[str, int], ...] = ()  # the most frequent event texts, most first


class Window:
    def __init__(self, window_s: float) -> None:
        self.window_s = window_s
        self.bucket_s = window_s / BUCKETS
        self.buckets: deque[Bucket] = deque()
        self.last: float | bool | str | None = None

    def add(self, t: float, value: float | bool | str) -> None:
        """A usable reading measured at monotonic time t (never earlier than the last one)."""
        if not self.buckets or t >= self.buckets[-1].start + self.bucket_s:
            self.buckets.append(Bucket(t - t % self.bucket_s))
            self._forget(t)
        bucket = self.buckets[-1]
        bucket.count += 1
        if isinstance(value, str):
            key = value if value in bucket.texts or len(bucket.texts) < TEXTS_PER_BUCKET else OTHER
            bucket.texts[key] += 1
        else:
            number = float(value)
            bucket.total += number
            bucket.low = min(bucket.low, number)
            bucket.high = max(bucket.high, number)
            if value is True and self.last is not True:
                bucket.rises += 1
        self.last = value

    def stats(self, now: float) -> Stats:
        self._forget(now)
        buckets = [b for b in self.buckets if b.count]
        count = sum(b.count for b in buckets)
        if not count:
            return Stats(0)
        texts: Counter[str] = Counter()
        for b in buckets:
            texts.update(b.texts)
        return Stats(count, min(b.low for b in buckets), max(b.high for b in buckets),
                     sum(b.total for b in buckets) / count, _slope(buckets, self.bucket_s),
                     sum(b.rises for b in buckets), tuple(texts.most_common(3)))

    def _forget(self, now: float) -> None:
        while self.buckets and self.buckets[0].start + self.bucket_s <= now - self.window_s:
            self.buckets.popleft()


def _slope(buckets: list[Bucket], bucket_s: float) -> float | None:
    """Least-squares slope of the buckets' means over their middle times, per second."""
    points = [(b.start + bucket_s / 2, b.total / b.count) for b in buckets]
    if len(points) < 2:
        return None
    mean_t = sum(t for t, _ in points) / len(points)
    mean_v = sum(v for _, v in points) / len(points)
    spread = sum((t - mean_t) ** 2 for t, _ in points)
    return sum((t - mean_t) * (v - mean_v) for t, v in points) / spread
