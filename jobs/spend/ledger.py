"""The books of paid work, in Redis: reservations before each paid call, settled to the real
cost when its answer comes, checked against the job's cap and the daily budgets in one atomic
step (`lua/reserve.lua`, `lua/settle.lua`), and each owner's usage per day and month.

A reservation is the most the call can cost (jobs/spend/pricing.py). It is charged to the job, the
owner's
day and the deployment's day at once, so calls in flight on any number of workers can never
together pass a limit. Settling replaces it by the real cost; a call that got no answer (a cancel,
a timeout, a killed horse) is released, as Gemini bills only the answers it gives. Whatever
holds a job's reservations when its horse is gone (the worker after a kill, the sweeper after a
dead worker, a delete) releases them all with `release_all`.
"""

from __future__ import annotations

import math
import uuid
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta

import redis

from .. import keys
from ..config import Config
from ..connection import decoded
from ..errors import SubcueError
from ..scripts import script
from .pricing import usd
from .usage import Usage

NO_LIMIT = -1


class BudgetExhausted(SubcueError):
    """A paid job refused, or stopped, because a cap or a budget has no room left."""

    status, code = 429, "budget_exhausted"


@dataclass(frozen=True)
class Hold:
    """One reservation: its id, amount (micro-dollars) and the UTC day it was charged to."""

    id: str
    micros: int
    day: str


@dataclass(frozen=True)
class Refusal:
    """Why a reservation was refused: which limit, what it allows and what is used of it."""

    scope: str
    limit: int
    used: int


def micros(amount_usd: float | None) -> int:
    """Dollars to whole micro-dollars (NO_LIMIT for None)."""
    return NO_LIMIT if amount_usd is None else math.floor(round(amount_usd * 1e6, 3))


def dollars(amount: int) -> float:
    """Micro-dollars to dollars."""
    return round(amount / 1e6, 6)


def today(now: datetime | None = None) -> str:
    """The UTC day, YYYY-MM-DD."""
    return (now or datetime.now(UTC)).strftime("%Y-%m-%d")


def renewal(now: datetime | None = None) -> tuple[str, str]:
    """When the daily budgets renew: ISO time of the next UTC midnight, and how long until."""
    now = now or datetime.now(UTC)
    midnight = (now + timedelta(days=1)).replace(hour=0, minute=0, second=0, microsecond=0)
    left = int((midnight - now).total_seconds())
    hours, minutes = divmod(left // 60, 60)
    return midnight.strftime("%Y-%m-%dT%H:%M:%SZ"), f"{hours} h {minutes} min"


def owner_field(owner: str) -> str:
    """The owner's field in a day's spend hash."""
    return f"o:{owner}"


def reserve(conn: redis.Redis, config: Config, job_id: str, owner: str, amount: int,
            cap: int = NO_LIMIT) -> Hold | Refusal:  # fmt: skip
    """Reserve `amount` micro-dollars for one call of the job, or say which limit refuses."""
    hold = Hold(uuid.uuid4().hex[:12], amount, today())
    found = script(conn, "reserve")(
        keys=[keys.spend(job_id), keys.spend_day(hold.day)],
        args=[hold.id, amount, hold.day, owner_field(owner), cap,
              micros(config.owner_daily_budget_usd), micros(config.daily_budget_usd),
              keys.RECORD_TTL, keys.SPEND_DAY_TTL],
        client=conn,
    )  # fmt: skip
    granted, scope, used = found
    if granted:
        return hold
    scope = decoded(scope)
    limit = {"job": cap, "owner": micros(config.owner_daily_budget_usd),
             "deployment": micros(config.daily_budget_usd)}[scope]  # fmt: skip
    return Refusal(scope, limit, int(used))


def settle_reservation(conn: redis.Redis, job_id: str, owner: str, hold: Hold | None, cost: int,
           engine: str = "", usage: Usage | None = None) -> None:  # fmt: skip
    """Replace a reservation by the real cost (micro-dollars) and count the call in the owner's
    usage under `engine`; with `engine` empty, only release. `hold` None: a free call."""
    usage = usage or Usage()
    day = hold.day if hold else today()
    now = today()
    script(conn, "settle")(
        keys=[keys.spend(job_id), keys.spend_day(day), keys.usage(owner, now),
              keys.usage(owner, now[:7])],
        args=[hold.id if hold else "", cost, owner_field(owner), engine, usage.engine_calls,
              usage.input_tokens, usage.output_tokens, keys.USAGE_DAY_TTL, keys.USAGE_MONTH_TTL],
        client=conn,
    )  # fmt: skip


def held(conn: redis.Redis, job_id: str) -> list[Hold]:
    """The job's reservations not settled yet."""
    found = []
    for field, value in conn.hgetall(keys.spend(job_id)).items():
        name, value = decoded(field), decoded(value)
        if name.startswith("r:"):
            amount, day = value.split("|")
            found.append(Hold(name[2:], int(amount), day))
    return found


def release_all(conn: redis.Redis, job_id: str, owner: str) -> int:
    """Release every reservation the job holds (its horse is gone); returns how many."""
    holds = held(conn, job_id)
    for hold in holds:
        settle_reservation(conn, job_id, owner, hold, 0)
    return len(holds)


def job_spent(conn: redis.Redis, job_id: str) -> tuple[int, int]:
    """(settled, reserved) micro-dollars of the job."""
    settled, reserved = conn.hmget(keys.spend(job_id), "settled", "reserved")
    return int(settled or 0), int(reserved or 0)


def day_spent(conn: redis.Redis, owner: str, day: str | None = None) -> tuple[int, int]:
    """(owner's, deployment's) spend of the UTC day, reservations included, micro-dollars."""
    mine, everyone = conn.hmget(keys.spend_day(day or today()), owner_field(owner), "total")
    return int(mine or 0), int(everyone or 0)


def check_budget(conn: redis.Redis, config: Config, owner: str) -> None:
    """BudgetExhausted (429) when a daily budget is spent: used up, or too little left for a
    call that a job needed today. For paid jobs only."""
    mine = owner_field(owner)
    found = conn.hmget(keys.spend_day(today()), mine, "total", f"full:{mine}", "full:total")
    budgets = {"owner": (config.owner_daily_budget_usd, found[0], found[2]),
               "deployment": (config.daily_budget_usd, found[1], found[3])}  # fmt: skip
    for scope, (budget, used, full) in budgets.items():
        if budget is not None and (int(used or 0) >= micros(budget) or full):
            raise BudgetExhausted(refusal_message(Refusal(scope, micros(budget), int(used or 0))))


def refusal_message(refusal: Refusal, spent: int = 0, next_call: int = 0) -> str:
    """What a person reads when a limit stops a paid job (`spent`: the job's settled spend)."""
    if refusal.scope == "job":
        left = max(0, refusal.limit - spent)
        return (f"The job reached its cap of {usd(dollars(refusal.limit))}: "
                f"{usd(dollars(spent))} spent, {usd(dollars(left))} left, less than the next "
                f"call may cost ({usd(dollars(next_call))}). Retry it with a higher "
                "max_cost_usd to go on.")  # fmt: skip
    at, wait = renewal()
    whose = "Your" if refusal.scope == "owner" else "This server's"
    return (f"{whose} daily budget of {usd(dollars(refusal.limit))} for paid engines is spent "
            f"({usd(dollars(refusal.used))} used today); it renews at 00:00 UTC ({at}), in "
            f"{wait}. The free local engine still works.")  # fmt: skip


USAGE_FIELDS = {"cost": "cost_usd", "calls": "engine_calls", "in": "input_tokens",
                "out": "output_tokens"}  # fmt: skip
"""settle.lua's counter suffixes in a usage hash (`<engine>:<suffix>`) -> Usage fields."""


def _engines(conn: redis.Redis, owner: str, period: str) -> dict[str, dict]:
    """The owner's Usage per engine over a day or a month."""
    counts: dict[str, dict] = {}
    for field, value in conn.hgetall(keys.usage(owner, period)).items():
        engine, suffix = decoded(field).rsplit(":", 1)
        amount = int(value)
        counts.setdefault(engine, {})[USAGE_FIELDS[suffix]] = (
            dollars(amount) if suffix == "cost" else amount
        )
    return {engine: Usage.from_dict(found).as_dict() for engine, found in counts.items()}


def owner_usage(conn: redis.Redis, config: Config, owner: str) -> dict:
    """The Usage object of GET /api/usage: today's and this month's spend per engine, and
    what is left of the daily budgets."""
    day = today()
    found = {}
    for name, period in (("today", day), ("month", day[:7])):
        engines = _engines(conn, owner, period)
        total = round(sum(e["cost_usd"] for e in engines.values()), 6)
        found[name] = {"period": period, "cost_usd": total, "engines": engines}
    mine, everyone = day_spent(conn, owner, day)

    def left(budget: float | None, used: int) -> float | None:
        return None if budget is None else max(0.0, dollars(micros(budget) - used))

    found["budget"] = {
        "owner_daily_usd": config.owner_daily_budget_usd,
        "owner_left_usd": left(config.owner_daily_budget_usd, mine),
        "daily_usd": config.daily_budget_usd,
        "left_usd": left(config.daily_budget_usd, everyone),
        "renews_at": renewal()[0],
    }
    return found
