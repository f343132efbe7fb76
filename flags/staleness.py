"""Which flags are stale, and what the evaluation counts say about each flag.

A flag is stale when, for the last FLAG_STALE_DAYS days, every answer it gave was the
same (all on or all off: it no longer decides anything) or it gave none at all. Two
things keep that honest:

- a flag younger than the window is never stale (it has not had the chance);
- the counts must cover the whole window: until the oldest recorded day reaches back
  to its start (counting was switched on recently, say), nothing is called stale,
  since "never evaluated" would only mean "not counted yet".

The rules are SQL annotations, so the flags page's one query carries them (and its
filter is a WHERE) however many flags there are.
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta

from django.conf import settings
from django.db.models import (
    Case,
    CharField,
    Count,
    IntegerField,
    Max,
    OuterRef,
    Q,
    QuerySet,
    Subquery,
    Sum,
    Value,
    When,
)
from django.db.models.functions import Coalesce
from django.utils import timezone

from flags.models import Flag, FlagEvaluationDay

ALWAYS_ON = "always_on"
ALWAYS_OFF = "always_off"
NOT_EVALUATED = "not_evaluated"  # counted before the window, nothing in it
NEVER_EVALUATED = "never_evaluated"


def _today() -> date:
    return timezone.now().date()


def window_start(*, days: int | None = None, today: date | None = None) -> date:
    """The first day of the last `days` UTC days, today included."""
    return (today or _today()) - timedelta(days=(days or settings.FLAG_STALE_DAYS) - 1)


def counting_since() -> date | None:
    """The oldest day with any recorded evaluation (None: nothing recorded yet)."""
    return FlagEvaluationDay.objects.order_by("day").values_list("day", flat=True).first()


def _summed(column: str, start: date) -> Subquery:
    rows = FlagEvaluationDay.objects.filter(key=OuterRef("key"), day__gte=start).order_by()
    return Subquery(
        rows.values("key").annotate(total=Sum(column)).values("total")[:1],
        output_field=IntegerField(),
    )


def with_evaluations(flags: QuerySet[Flag], *, today: date | None = None) -> QuerySet[Flag]:
    """`flags` with `last_evaluated_at`, `stale_reason` (one of the constants above, or
    None) and `stale_label` (the badge's words), in the same query."""
    days = settings.FLAG_STALE_DAYS
    today = today or _today()
    start = window_start(days=days, today=today)
    # A flag created on the window's first day or later has not had the whole window.
    old_enough = timezone.make_aware(datetime.combine(start, datetime.min.time()))
    last = (
        FlagEvaluationDay.objects.filter(key=OuterRef("key"))
        .order_by()
        .values("key")
        .annotate(newest=Max("last_evaluated_at"))
        .values("newest")[:1]
    )
    since = FlagEvaluationDay.objects.order_by("day").values("day")[:1]
    flags = flags.annotate(
        last_evaluated_at=Subquery(last),
        window_on=Coalesce(_summed("on_count", start), Value(0)),
        window_off=Coalesce(_summed("off_count", start), Value(0)),
        counting_since=Subquery(since),
    )
    judged = Q(created_at__lt=old_enough, counting_since__lte=start)
    reasons = (
        (Q(last_evaluated_at__isnull=True), NEVER_EVALUATED, "Never evaluated"),
        (Q(window_on=0, window_off=0), NOT_EVALUATED, f"Not evaluated for {days} days"),
        (Q(window_off=0), ALWAYS_ON, f"Always on for {days} days"),
        (Q(window_on=0), ALWAYS_OFF, f"Always off for {days} days"),
    )
    return flags.annotate(
        stale_reason=Case(
            *(When(judged & rule, then=Value(code)) for rule, code, _ in reasons),
            default=Value(None),
            output_field=CharField(),
        ),
        stale_label=Case(
            *(When(judged & rule, then=Value(label)) for rule, _, label in reasons),
            default=Value(""),
            output_field=CharField(),
        ),
    )


def stale_flags(flags: QuerySet[Flag] | None = None) -> QuerySet[Flag]:
    """The stale ones among `flags` (every flag by default), each with its reason."""
    if flags is None:
        flags = Flag.objects.order_by("key")
    # django-stubs cannot see annotations made by with_evaluations.
    return with_evaluations(flags).filter(stale_reason__isnull=False)  # type: ignore[misc]


# ------------------------------------------------------------------ a flag --


@dataclass(frozen=True)
class Share:
    days: int
    on: int
    off: int

    @property
    def total(self) -> int:
        return self.on + self.off

    @property
    def on_percent(self) -> int | None:
        """Share of answers that were on, rounded; None when there were none."""
        return round(100 * self.on / self.total) if self.total else None


@dataclass(frozen=True)
class EvaluationSummary:
    last_evaluated_at: datetime | None
    shares: tuple[Share, ...]  # last 7 and 30 days
    flush_seconds: int


def evaluation_summary(*, key: str, today: date | None = None) -> EvaluationSummary:
    """A flag's counts for its panel: when it last answered, and how often on in the
    last 7 and 30 days. One query."""
    today = today or _today()
    start_7, start_30 = window_start(days=7, today=today), window_start(days=30, today=today)
    totals = FlagEvaluationDay.objects.filter(key=key).aggregate(
        last=Max("last_evaluated_at"),
        on_7=Sum("on_count", filter=Q(day__gte=start_7)),
        off_7=Sum("off_count", filter=Q(day__gte=start_7)),
        on_30=Sum("on_count", filter=Q(day__gte=start_30)),
        off_30=Sum("off_count", filter=Q(day__gte=start_30)),
    )
    return EvaluationSummary(
        last_evaluated_at=totals["last"],
        shares=(
            Share(7, totals["on_7"] or 0, totals["off_7"] or 0),
            Share(30, totals["on_30"] or 0, totals["off_30"] or 0),
        ),
        flush_seconds=settings.FLAG_EVAL_FLUSH_SECONDS,
    )


def view_counts(*, search: str = "") -> dict[str, int]:
    """How many flags each view of the flags page holds ("" every one, "stale")."""
    from flags.selectors import flag_list

    totals = with_evaluations(flag_list(search=search)).aggregate(
        all=Count("pk"), stale=Count("pk", filter=Q(stale_reason__isnull=False))
    )
    return {"": totals["all"], "stale": totals["stale"]}
