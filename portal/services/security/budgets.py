"""How often something may happen per account, destination or IP, in the rate limiter's storage.

Flask-Limiter guards routes; budgets guard actions a route takes on someone's behalf (sending a
code to a phone), keyed by what the action touches rather than by who asks. Using the limiter's
storage means the counters are shared by every portal process when it is Redis.
"""
from __future__ import annotations

from collections.abc import Sequence

from limits import parse

from ...extensions import limiter

NAMESPACE = "budget"


def spend(budgets: Sequence[tuple[str, str, str]]) -> bool:
    """Count one use against every (scope, key, rate) budget first; True only when every count fit.

    `rate` is a limits string such as "5/hour" or "5 per 10 minutes". Each `hit` is the storage's
    atomic increment judged by the count it returns, so parallel requests in any number of processes
    cannot all pass a look taken before anyone counted. A request that one budget refuses keeps the
    hits it made on the budgets before it (a refusal may cost, it never lets one more through); the
    `test` pass first only keeps a budget that is plainly used up from costing the others.
    """
    strategy = limiter.limiter
    items = [(parse(rate), scope, key) for scope, key, rate in budgets]
    if not all(strategy.test(item, NAMESPACE, scope, key) for item, scope, key in items):
        return False
    return all(strategy.hit(item, NAMESPACE, scope, key) for item, scope, key in items)
