"""Stage throttling: a token bucket per route, as API Gateway throttles ("Throttle requests to
your HTTP APIs": the burst limit is the bucket's size, the rate limit its refill per second;
a request that finds the bucket empty gets 429 ``{"message":"Too Many Requests"}``)."""

from __future__ import annotations

import math
import threading
import time
from collections.abc import Callable


class TokenBucket:
    def __init__(self, burst: float, rate: float, clock: Callable[[], float] = time.monotonic):
        self.capacity = burst
        self.rate = rate
        self.clock = clock
        self.tokens = burst
        self.updated = clock()
        self._lock = threading.Lock()

    def take(self) -> bool:
        """Whether a request may pass now (and use up one token if so)."""
        if math.isinf(self.capacity) and math.isinf(self.rate):
            return True
        with self._lock:
            now = self.clock()
            if math.isinf(self.rate):
                self.tokens = self.capacity
            else:
                self.tokens = min(self.capacity, self.tokens + (now - self.updated) * self.rate)
            self.updated = now
            if self.tokens >= 1:
                self.tokens -= 1
                return True
            return False
