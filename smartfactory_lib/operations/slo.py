"""Service level objectives: SLIs, error budgets, burn rates and alarm evaluation.

The objectives are defined once, in ``governance/slos.yaml``: event-based SLOs
(an event is good when its value is at most the SLO's threshold), the
multi-window burn-rate rules that page or open a ticket, and the CloudWatch
metric alarms that ``terraform/modules/cloudwatch`` creates. :func:`load_slos`
reads and validates the file.

An SLI measurement is a table of events (:data:`EVENT_COLUMNS`): which SLO,
when, the measured value and whether it was good. :func:`percentiles`,
:func:`error_budget`, :func:`burn_rate` and :func:`burn_alerts` turn events
into the numbers an on-call engineer reads. :func:`publish_events` sends them
to CloudWatch as custom metrics, :func:`create_alarms` creates the alarms of
the file in CloudWatch, and :class:`AlarmEvaluator` evaluates them.
:func:`terraform_disagreements` checks the file against the CloudWatch alarms
in ``terraform/modules/cloudwatch``, and :func:`burn_rate_alarms_hcl` renders
the burn-rate rules as Terraform for that module.

:class:`AlarmEvaluator` is a local stand-in for CloudWatch's alarm
evaluation, which moto does not perform: it reads datapoints back with
``GetMetricStatistics``, applies the alarm's statistic, period, evaluation
periods, comparison and missing-data treatment, computes metric-math
expressions of the form used in the file (``+ - * /`` and ``MAX([...])``),
sets the alarm's state with ``SetAlarmState`` and notifies the alarm topic on
a change, as an alarm action would. It does not implement
``DatapointsToAlarm`` other than "all evaluation periods", anomaly-detection
bands or percentile statistics of stored metrics.
"""

from __future__ import annotations

import ast
import json
import logging
import math
import operator
from collections.abc import Callable, Iterable, Sequence
from dataclasses import dataclass, field, replace
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd
import yaml

from ..core.config import Settings

__all__ = [
    "COMPARISONS",
    "EVENT_COLUMNS",
    "MISSING_DATA",
    "SLOS_PATH",
    "TERRAFORM_PATH",
    "Alarm",
    "AlarmEvaluator",
    "AlarmState",
    "BurnRule",
    "MetricSpec",
    "SLO",
    "SLOSet",
    "burn_alerts",
    "burn_rate",
    "burn_rate_alarms_hcl",
    "burn_series",
    "create_alarms",
    "dimension_value",
    "error_budget",
    "evaluate_expression",
    "events",
    "load_slos",
    "percentiles",
    "publish_events",
    "publish_values",
    "terraform_disagreements",
]

logger = logging.getLogger(__name__)

SLOS_PATH: Final = Path(__file__).resolve().parents[2] / "governance" / "slos.yaml"
"""The SLO file of the repository."""

EVENT_COLUMNS: Final = ("slo", "time_s", "value", "good")
"""Columns of an SLI event table."""

COMPARISONS: Final[dict[str, Callable[[float, float], bool]]] = {
    "GreaterThanThreshold": operator.gt,
    "GreaterThanOrEqualToThreshold": operator.ge,
    "LessThanThreshold": operator.lt,
    "LessThanOrEqualToThreshold": operator.le,
}
"""CloudWatch comparison operators and what they compute."""

MISSING_DATA: Final = ("breaching", "notBreaching", "ignore", "missing")
"""CloudWatch's ``TreatMissingData`` values."""

SEVERITIES: Final = ("page", "ticket")

_STATISTICS: Final = ("Sum", "Maximum", "Minimum", "Average", "SampleCount")


@dataclass(frozen=True)
class BurnRule:
    """A multi-window burn-rate rule: fire when both windows burn too fast."""

    severity: str
    long_window_s: float
    short_window_s: float
    burn_rate: float


@dataclass(frozen=True)
class SLO:
    """An event-based objective: a share ``objective`` of events must be good.

    An event is good when its value is at most ``threshold``. The error
    budget is ``1 - objective``: the share of events allowed to be bad.
    """

    name: str
    sli: str
    unit: str
    threshold: float
    objective: float
    metric: str
    responder: str
    action: str
    runbook: str

    @property
    def error_budget(self) -> float:
        """Share of events allowed to be bad."""
        return 1.0 - self.objective


@dataclass(frozen=True)
class MetricSpec:
    """One CloudWatch metric with the statistic and period an alarm reads."""

    namespace: str
    metric: str
    dimension: str
    statistic: str
    period: int


@dataclass(frozen=True)
class Alarm:
    """A CloudWatch metric alarm as the SLO file defines it.

    An alarm reads either one metric (``metric``) or a metric-math
    ``expression`` over the named ``metrics``.
    """

    name: str
    terraform: str
    period: int
    evaluation_periods: int
    threshold: float
    comparison: str
    treat_missing_data: str
    severity: str
    responder: str
    action: str
    runbook: str
    metric: MetricSpec | None = None
    expression: str | None = None
    metrics: dict[str, MetricSpec] = field(default_factory=dict)

    @property
    def watches(self) -> str:
        """The metric or the expression the alarm compares with its threshold."""
        if self.metric is not None:
            return self.metric.metric
        return self.expression or ""

    def full_name(self, settings: Settings) -> str:
        """The alarm's name in CloudWatch, like ``smartfactory-dev-ingest-errors``."""
        return settings.name(self.name)


@dataclass(frozen=True)
class SLOSet:
    """Everything the SLO file defines."""

    version: int
    window_days: float
    rules: tuple[BurnRule, ...]
    slos: tuple[SLO, ...]
    alarms: tuple[Alarm, ...]
    path: Path | None = None

    def slo(self, name: str) -> SLO:
        """Return the SLO called ``name``.

        Raises
        ------
        KeyError
            If there is none; the message lists the names there are.
        """
        for slo in self.slos:
            if slo.name == name:
                return slo
        names = ", ".join(s.name for s in self.slos)
        raise KeyError(f"slo must be one of {names}, got {name!r}")

    def with_thresholds(self, **thresholds: float) -> SLOSet:
        """Return a copy with some SLO thresholds changed, for drills.

        A drill that must breach an objective within seconds sets a tighter
        threshold than production, for example
        ``slos.with_thresholds(ingestion_latency=1.0)``.

        Raises
        ------
        KeyError
            If a name is not an SLO of the set.
        """
        for name in thresholds:
            self.slo(name)
        slos = tuple(
            replace(s, threshold=float(thresholds[s.name]))
            if s.name in thresholds
            else s
            for s in self.slos
        )
        return replace(self, slos=slos)

    def alert_matrix(self) -> pd.DataFrame:
        """Return one row per alert: what fires, how bad, who responds and how."""
        rows = []
        for slo in self.slos:
            for severity in SEVERITIES:
                rules = [r for r in self.rules if r.severity == severity]
                if not rules:
                    continue
                rows.append(
                    {
                        "alert": f"{slo.name} budget burn",
                        "kind": "SLO burn rate",
                        "severity": severity,
                        "condition": "; ".join(
                            f"burn > {r.burn_rate:g} over {_duration(r.long_window_s)}"
                            f" and {_duration(r.short_window_s)}"
                            for r in rules
                        ),
                        "responder": slo.responder,
                        "action": slo.action,
                        "runbook": slo.runbook,
                    }
                )
        rows += [
            {
                "alert": alarm.name,
                "kind": "CloudWatch alarm",
                "severity": alarm.severity,
                "condition": (
                    f"{alarm.watches} {_SYMBOL[alarm.comparison]} "
                    f"{alarm.threshold:g} for {alarm.evaluation_periods} x "
                    f"{_duration(alarm.period)}"
                ),
                "responder": alarm.responder,
                "action": alarm.action,
                "runbook": alarm.runbook,
            }
            for alarm in self.alarms
        ]
        return pd.DataFrame(rows)

    def objectives(self) -> pd.DataFrame:
        """Return the SLOs as a table, with their error budgets."""
        return pd.DataFrame(
            [
                {
                    "slo": s.name,
                    "sli": s.sli,
                    "good when": f"value <= {s.threshold:g} {s.unit}",
                    "objective": s.objective,
                    "error budget": s.error_budget,
                    "window (days)": self.window_days,
                }
                for s in self.slos
            ]
        )


_SYMBOL: Final = {
    "GreaterThanThreshold": ">",
    "GreaterThanOrEqualToThreshold": ">=",
    "LessThanThreshold": "<",
    "LessThanOrEqualToThreshold": "<=",
}


def _duration(seconds: float) -> str:
    for unit, size in (("d", 86400), ("h", 3600), ("min", 60)):
        if seconds >= size and seconds % size == 0:
            return f"{seconds / size:g} {unit}"
    return f"{seconds:g} s"


def _need(entry: dict[str, Any], key: str, where: str) -> Any:
    if key not in entry:
        raise ValueError(f"{where} needs {key!r}, got keys {', '.join(entry)}")
    return entry[key]


def _one_of(value: Any, allowed: Iterable[str], what: str) -> str:
    allowed = tuple(allowed)
    if value not in allowed:
        raise ValueError(f"{what} must be one of {', '.join(allowed)}, got {value!r}")
    return str(value)


def _metric_spec(entry: dict[str, Any], where: str) -> MetricSpec:
    return MetricSpec(
        namespace=str(_need(entry, "namespace", where)),
        metric=str(_need(entry, "metric", where)),
        dimension=str(_need(entry, "dimension", where)),
        statistic=_one_of(
            _need(entry, "statistic", where), _STATISTICS, f"{where} statistic"
        ),
        period=int(_need(entry, "period", where)),
    )


def _slo(entry: dict[str, Any]) -> SLO:
    where = f"slo {entry.get('name', '?')!r}"
    objective = float(_need(entry, "objective", where))
    if not 0.0 < objective < 1.0:
        raise ValueError(f"{where} objective must be between 0 and 1, got {objective}")
    return SLO(
        name=str(_need(entry, "name", where)),
        sli=str(_need(entry, "sli", where)),
        unit=str(entry.get("unit", "")),
        threshold=float(_need(entry, "threshold", where)),
        objective=objective,
        metric=str(_need(entry, "metric", where)),
        responder=str(_need(entry, "responder", where)),
        action=str(_need(entry, "action", where)),
        runbook=str(_need(entry, "runbook", where)),
    )


def _alarm(entry: dict[str, Any]) -> Alarm:
    where = f"alarm {entry.get('name', '?')!r}"
    expression = entry.get("expression")
    metrics = {
        str(key): _metric_spec(value, f"{where} metric {key!r}")
        for key, value in (entry.get("metrics") or {}).items()
    }
    if expression is None and metrics:
        raise ValueError(f"{where} has metrics but no expression")
    if expression is not None and not metrics:
        raise ValueError(f"{where} has an expression but no metrics")
    metric = None if expression is not None else _metric_spec(entry, where)
    evaluation_periods = int(_need(entry, "evaluation_periods", where))
    if evaluation_periods < 1:
        raise ValueError(
            f"{where} evaluation_periods must be 1 or more, got {evaluation_periods}"
        )
    return Alarm(
        name=str(_need(entry, "name", where)),
        terraform=str(_need(entry, "terraform", where)),
        period=int(_need(entry, "period", where)),
        evaluation_periods=evaluation_periods,
        threshold=float(_need(entry, "threshold", where)),
        comparison=_one_of(
            _need(entry, "comparison", where), COMPARISONS, f"{where} comparison"
        ),
        treat_missing_data=_one_of(
            entry.get("treat_missing_data", "missing"),
            MISSING_DATA,
            f"{where} treat_missing_data",
        ),
        severity=_one_of(
            _need(entry, "severity", where), SEVERITIES, f"{where} severity"
        ),
        responder=str(_need(entry, "responder", where)),
        action=str(_need(entry, "action", where)),
        runbook=str(_need(entry, "runbook", where)),
        metric=metric,
        expression=None if expression is None else str(expression),
        metrics=metrics,
    )


def load_slos(path: Path | str | None = None) -> SLOSet:
    """Read and validate an SLO file.

    Parameters
    ----------
    path : pathlib.Path or str or None, default None
        The file; :data:`SLOS_PATH` when None.

    Returns
    -------
    SLOSet
        Burn-rate rules, SLOs and alarms.

    Raises
    ------
    ValueError
        If an entry lacks a key or holds a value out of range; the message
        names the entry, what was expected and what arrived.
    """
    path = Path(path or SLOS_PATH)
    document = yaml.safe_load(path.read_text())
    if not isinstance(document, dict):
        raise ValueError(f"{path} must hold a mapping, got {type(document).__name__}")
    rules = []
    for entry in _need(document, "burn_rate_rules", str(path)):
        rule = BurnRule(
            severity=_one_of(entry["severity"], SEVERITIES, "burn rule severity"),
            long_window_s=float(entry["long_window_s"]),
            short_window_s=float(entry["short_window_s"]),
            burn_rate=float(entry["burn_rate"]),
        )
        if not 0 < rule.short_window_s < rule.long_window_s:
            raise ValueError(
                "burn rule short_window_s must be positive and shorter than "
                f"long_window_s, got {rule.short_window_s:g} and "
                f"{rule.long_window_s:g}"
            )
        rules.append(rule)
    slos = tuple(_slo(e) for e in _need(document, "slos", str(path)))
    alarms = tuple(_alarm(e) for e in document.get("alarms") or [])
    for kind, names in (
        ("slo", [s.name for s in slos]),
        ("alarm", [a.name for a in alarms]),
    ):
        duplicated = sorted({n for n in names if names.count(n) > 1})
        if duplicated:
            raise ValueError(
                f"{kind} names must be unique, got {', '.join(duplicated)} twice"
            )
    return SLOSet(
        version=int(document.get("version", 1)),
        window_days=float(_need(document, "compliance_window_days", str(path))),
        rules=tuple(rules),
        slos=slos,
        alarms=alarms,
        path=path,
    )


def events(
    slo: SLO,
    times_s: Sequence[float] | np.ndarray,
    values: Sequence[float] | np.ndarray,
) -> pd.DataFrame:
    """Return SLI events of one SLO: each value judged against its threshold.

    Parameters
    ----------
    slo : SLO
        The objective the events count towards.
    times_s : sequence of float
        When each event happened, in seconds since the epoch.
    values : sequence of float
        The measured value of each event; NaN counts as bad.

    Returns
    -------
    pandas.DataFrame
        Columns :data:`EVENT_COLUMNS`.

    Raises
    ------
    ValueError
        If ``times_s`` and ``values`` differ in length.
    """
    times = np.asarray(times_s, dtype=np.float64)
    measured = np.asarray(values, dtype=np.float64)
    if times.shape != measured.shape:
        raise ValueError(
            f"times_s and values must have the same length, got {times.size} "
            f"and {measured.size}"
        )
    good = np.nan_to_num(measured, nan=np.inf) <= slo.threshold
    return pd.DataFrame(
        {"slo": slo.name, "time_s": times, "value": measured, "good": good},
        columns=list(EVENT_COLUMNS),
    )


def _check_events(frame: pd.DataFrame) -> None:
    missing = set(EVENT_COLUMNS) - set(frame.columns)
    if missing:
        raise ValueError(
            f"events need column(s) {', '.join(sorted(missing))}, got "
            f"{', '.join(map(str, frame.columns))}"
        )


def percentiles(
    frame: pd.DataFrame, quantiles: Sequence[float] = (50, 95, 99)
) -> pd.DataFrame:
    """Return count, good share and percentiles of the value per SLO.

    Parameters
    ----------
    frame : pandas.DataFrame
        SLI events.
    quantiles : sequence of float, default (50, 95, 99)
        Percentiles to report, between 0 and 100.

    Returns
    -------
    pandas.DataFrame
        One row per SLO: ``events``, ``good_share`` and ``p50``, ``p95``, ...
    """
    _check_events(frame)
    rows = []
    for name, group in frame.groupby("slo", sort=True):
        values = group["value"].to_numpy(dtype=np.float64)
        finite = values[np.isfinite(values)]
        row: dict[str, Any] = {
            "slo": name,
            "events": len(group),
            "good_share": float(group["good"].mean()),
        }
        for q in quantiles:
            row[f"p{q:g}"] = (
                float(np.percentile(finite, q)) if finite.size else math.nan
            )
        rows.append(row)
    return pd.DataFrame(rows)


def error_budget(slos: SLOSet, frame: pd.DataFrame) -> pd.DataFrame:
    """Return how much of each SLO's error budget the events spent.

    Parameters
    ----------
    slos : SLOSet
        The objectives.
    frame : pandas.DataFrame
        SLI events of the compliance window.

    Returns
    -------
    pandas.DataFrame
        One row per SLO: ``events``, ``bad``, ``allowed_bad`` (the budget in
        events), ``budget_spent`` (a share: 1 means all of it) and
        ``budget_remaining``; ``met`` says whether the objective holds.
    """
    _check_events(frame)
    rows = []
    for slo in slos.slos:
        mine = frame[frame["slo"] == slo.name]
        total = len(mine)
        bad = int((~mine["good"].astype(bool)).sum())
        allowed = slo.error_budget * total
        spent = bad / allowed if allowed else (math.inf if bad else 0.0)
        rows.append(
            {
                "slo": slo.name,
                "objective": slo.objective,
                "events": total,
                "bad": bad,
                "allowed_bad": allowed,
                "budget_spent": spent,
                "budget_remaining": 1.0 - spent,
                "met": total == 0 or bad <= allowed,
            }
        )
    return pd.DataFrame(rows)


def burn_rate(slo: SLO, frame: pd.DataFrame, window_s: float, now_s: float) -> float:
    """Return how fast the events of one window spend the SLO's error budget.

    The burn rate is the window's bad share divided by the error budget: 1
    spends the budget exactly over the compliance window, 14.4 spends a
    28-day budget in under two days. A window without events burns nothing.

    Parameters
    ----------
    slo : SLO
        The objective.
    frame : pandas.DataFrame
        SLI events.
    window_s : float
        Length of the window, ending at ``now_s``.
    now_s : float
        End of the window, seconds since the epoch.

    Returns
    -------
    float
        The burn rate.
    """
    _check_events(frame)
    if window_s <= 0:
        raise ValueError(f"window_s must be positive, got {window_s}")
    times = frame["time_s"].to_numpy()
    inside = (frame["slo"].to_numpy() == slo.name) & (times > now_s - window_s)
    inside &= times <= now_s
    total = int(inside.sum())
    if total == 0:
        return 0.0
    bad = int((~frame["good"].to_numpy(dtype=bool)[inside]).sum())
    return (bad / total) / slo.error_budget


def burn_alerts(
    slos: SLOSet, frame: pd.DataFrame, now_s: float, time_scale: float = 1.0
) -> pd.DataFrame:
    """Evaluate every burn-rate rule of every SLO at ``now_s``.

    Parameters
    ----------
    slos : SLOSet
        Objectives and rules.
    frame : pandas.DataFrame
        SLI events.
    now_s : float
        When to evaluate, seconds since the epoch.
    time_scale : float, default 1.0
        Divides every window, so that a run of minutes can exercise rules
        written for hours (a demonstration aid: 60 turns an hour into a
        minute). Production evaluation uses 1.

    Returns
    -------
    pandas.DataFrame
        One row per SLO and rule: both burn rates, the rule's limit and
        ``firing``.
    """
    if time_scale <= 0:
        raise ValueError(f"time_scale must be positive, got {time_scale}")
    rows = []
    for slo in slos.slos:
        for rule in slos.rules:
            long_burn = burn_rate(slo, frame, rule.long_window_s / time_scale, now_s)
            short_burn = burn_rate(slo, frame, rule.short_window_s / time_scale, now_s)
            rows.append(
                {
                    "slo": slo.name,
                    "severity": rule.severity,
                    "long_window_s": rule.long_window_s / time_scale,
                    "short_window_s": rule.short_window_s / time_scale,
                    "long_burn": long_burn,
                    "short_burn": short_burn,
                    "limit": rule.burn_rate,
                    "firing": long_burn > rule.burn_rate
                    and short_burn > rule.burn_rate,
                }
            )
    return pd.DataFrame(rows)


def burn_series(
    slo: SLO, frame: pd.DataFrame, window_s: float, step_s: float
) -> pd.DataFrame:
    """Return the burn rate over a sliding window, every ``step_s`` seconds.

    Returns
    -------
    pandas.DataFrame
        Columns ``time`` (UTC timestamps) and ``burn_rate``; empty when the
        SLO has no events.
    """
    if step_s <= 0:
        raise ValueError(f"step_s must be positive, got {step_s}")
    mine = frame[frame["slo"] == slo.name]
    if mine.empty:
        return pd.DataFrame({"time": [], "burn_rate": []})
    start, stop = float(mine["time_s"].min()), float(mine["time_s"].max())
    ticks = np.arange(start + step_s, stop + step_s, step_s)
    rates = [burn_rate(slo, mine, window_s, t) for t in ticks]
    return pd.DataFrame(
        {"time": pd.to_datetime(ticks, unit="s", utc=True), "burn_rate": rates}
    )


def dimension_value(dimension: str, settings: Settings) -> str:
    """Return the value of an alarm's dimension for this deployment.

    Raises
    ------
    ValueError
        If the dimension is not one the pipeline's alarms use.
    """
    values = {
        "FunctionName": settings.resource("ingest_function"),
        "StreamName": settings.resource("stream"),
        "QueueName": settings.resource("dead_letter_queue"),
        "service": "smartfactory-ingest",
        "slo": "",
    }
    if dimension not in values:
        raise ValueError(
            f"dimension must be one of {', '.join(values)}, got {dimension!r}"
        )
    return values[dimension]


def _stamp(seconds: float) -> datetime:
    return datetime.fromtimestamp(seconds, UTC)


def publish_values(
    cloudwatch: Any,
    namespace: str,
    metric: str,
    dimensions: dict[str, str],
    times_s: Sequence[float] | np.ndarray,
    values: Sequence[float] | np.ndarray,
    unit: str = "None",
) -> int:
    """Put datapoints into CloudWatch, up to 1000 per ``PutMetricData`` call.

    Non-finite values are skipped (CloudWatch rejects them).

    Returns
    -------
    int
        Datapoints sent.
    """
    dims = [{"Name": k, "Value": v} for k, v in dimensions.items()]
    data = [
        {
            "MetricName": metric,
            "Dimensions": dims,
            "Timestamp": _stamp(float(t)),
            "Value": float(v),
            "Unit": unit,
        }
        for t, v in zip(times_s, values, strict=True)
        if math.isfinite(float(v))
    ]
    for start in range(0, len(data), 1000):
        cloudwatch.put_metric_data(
            Namespace=namespace, MetricData=data[start : start + 1000]
        )
    logger.debug("Put %d datapoints of %s/%s", len(data), namespace, metric)
    return len(data)


def publish_events(
    cloudwatch: Any, slos: SLOSet, frame: pd.DataFrame, namespace: str = "SmartFactory"
) -> int:
    """Publish SLI events as custom metrics, one metric per SLO.

    Each SLO's values go to its ``metric`` with dimension ``slo=<name>``;
    ``<metric>Bad`` counts its bad events (0 or 1 per event), which is what
    a CloudWatch burn-rate alarm would sum.

    Returns
    -------
    int
        Datapoints sent.
    """
    _check_events(frame)
    sent = 0
    for slo in slos.slos:
        mine = frame[frame["slo"] == slo.name]
        if mine.empty:
            continue
        dims = {"slo": slo.name}
        unit = "Seconds" if slo.unit == "s" else "Count"
        sent += publish_values(
            cloudwatch, namespace, slo.metric, dims, mine["time_s"], mine["value"], unit
        )
        bad = (~mine["good"].astype(bool)).astype(float)
        sent += publish_values(
            cloudwatch,
            namespace,
            f"{slo.metric}Bad",
            dims,
            mine["time_s"],
            bad,
            "Count",
        )
    logger.info("Published %d SLI datapoints to CloudWatch", sent)
    return sent


def _metric_args(spec: MetricSpec, settings: Settings) -> dict[str, Any]:
    return {
        "Namespace": spec.namespace,
        "MetricName": spec.metric,
        "Dimensions": [
            {"Name": spec.dimension, "Value": dimension_value(spec.dimension, settings)}
        ],
    }


def create_alarms(
    cloudwatch: Any, slos: SLOSet, settings: Settings, topic_arn: str | None = None
) -> list[str]:
    """Create (or update) every alarm of the SLO file in CloudWatch.

    Parameters
    ----------
    cloudwatch : botocore client
        A CloudWatch client.
    slos : SLOSet
        The alarms to create.
    settings : Settings
        Names of the resources the alarms watch.
    topic_arn : str or None, default None
        Topic of the alarm and OK actions; no actions when None.

    Returns
    -------
    list of str
        The alarms' names.
    """
    names = []
    actions = [topic_arn] if topic_arn else []
    for alarm in slos.alarms:
        args: dict[str, Any] = {
            "AlarmName": alarm.full_name(settings),
            "AlarmDescription": f"SLO alarm {alarm.name} (runbook: {alarm.runbook})",
            "EvaluationPeriods": alarm.evaluation_periods,
            "Threshold": alarm.threshold,
            "ComparisonOperator": alarm.comparison,
            "TreatMissingData": alarm.treat_missing_data,
            "ActionsEnabled": bool(actions),
            "AlarmActions": actions,
            "OKActions": actions,
        }
        if alarm.metric is not None:
            args |= _metric_args(alarm.metric, settings)
            args |= {"Statistic": alarm.metric.statistic, "Period": alarm.period}
        else:
            queries: list[dict[str, Any]] = [
                {"Id": "expr", "Expression": alarm.expression, "ReturnData": True}
            ]
            for key, spec in alarm.metrics.items():
                queries.append(
                    {
                        "Id": key,
                        "ReturnData": False,
                        "MetricStat": {
                            "Metric": _metric_args(spec, settings),
                            "Period": spec.period,
                            "Stat": spec.statistic,
                        },
                    }
                )
            args["Metrics"] = queries
        cloudwatch.put_metric_alarm(**args)
        names.append(args["AlarmName"])
    logger.info("Created %d CloudWatch alarms", len(names))
    return names


_BINARY: Final[dict[type, Callable[[float, float], float]]] = {
    ast.Add: operator.add,
    ast.Sub: operator.sub,
    ast.Mult: operator.mul,
    ast.Div: operator.truediv,
}


def evaluate_expression(expression: str, values: dict[str, float]) -> float:
    """Compute a CloudWatch metric-math expression over single values.

    Supports ``+ - * /``, numbers, metric ids and ``MAX([...])``/``MIN([...])``.

    Raises
    ------
    ValueError
        If the expression uses anything else or names an unknown metric id.
    """

    def walk(node: ast.AST) -> float:
        if isinstance(node, ast.Expression):
            return walk(node.body)
        if isinstance(node, ast.Constant) and isinstance(node.value, int | float):
            return float(node.value)
        if isinstance(node, ast.Name):
            if node.id not in values:
                raise ValueError(
                    f"expression names metric {node.id!r}, expected one of "
                    f"{', '.join(values)}"
                )
            return float(values[node.id])
        if isinstance(node, ast.BinOp) and type(node.op) in _BINARY:
            return _BINARY[type(node.op)](walk(node.left), walk(node.right))
        if (
            isinstance(node, ast.Call)
            and isinstance(node.func, ast.Name)
            and node.func.id in ("MAX", "MIN")
            and len(node.args) == 1
            and isinstance(node.args[0], ast.List)
        ):
            items = [walk(item) for item in node.args[0].elts]
            return max(items) if node.func.id == "MAX" else min(items)
        raise ValueError(f"unsupported metric math in {expression!r}: {ast.dump(node)}")

    return walk(ast.parse(expression, mode="eval"))


@dataclass(frozen=True)
class AlarmState:
    """The outcome of evaluating one alarm."""

    alarm: str
    state: str
    previous: str
    datapoints: tuple[float | None, ...]
    reason: str
    severity: str
    runbook: str

    @property
    def changed(self) -> bool:
        """Whether the evaluation moved the alarm to another state."""
        return self.state != self.previous


class AlarmEvaluator:
    """Local stand-in for CloudWatch alarm evaluation (moto stores alarms only).

    Parameters
    ----------
    cloudwatch : botocore client
        A CloudWatch client holding the metrics and the alarms.
    slos : SLOSet
        The alarms to evaluate.
    settings : Settings
        Resource names (the alarms' dimensions).
    sns : botocore client or None, default None
        Publishes a notification to ``topic_arn`` when an alarm changes state.
    topic_arn : str or None, default None
        The alarm topic.

    Attributes
    ----------
    history : list of AlarmState
        Every evaluation, in order.
    """

    def __init__(
        self,
        cloudwatch: Any,
        slos: SLOSet,
        settings: Settings,
        *,
        sns: Any = None,
        topic_arn: str | None = None,
    ) -> None:
        self.cloudwatch = cloudwatch
        self.slos = slos
        self.settings = settings
        self.sns = sns
        self.topic_arn = topic_arn
        self.history: list[AlarmState] = []

    def _series(
        self, spec: MetricSpec, start_s: float, periods: int
    ) -> list[float | None]:
        response = self.cloudwatch.get_metric_statistics(
            **_metric_args(spec, self.settings),
            StartTime=_stamp(start_s),
            EndTime=_stamp(start_s + periods * spec.period),
            Period=spec.period,
            Statistics=[spec.statistic],
        )
        found: list[float | None] = [None] * periods
        for point in response["Datapoints"]:
            index = int((point["Timestamp"].timestamp() - start_s) // spec.period)
            if 0 <= index < periods:
                found[index] = float(point[spec.statistic])
        return found

    def datapoints(self, alarm: Alarm, now_s: float) -> list[float | None]:
        """Return the alarm's datapoints of its evaluation periods ending at ``now_s``.

        A period without data is None. For an expression, a metric without
        data in a period counts as 0 when another metric has data, as in
        CloudWatch metric math.
        """
        periods = alarm.evaluation_periods
        start = now_s - periods * alarm.period
        if alarm.metric is not None:
            return self._series(alarm.metric, start, periods)
        series = {k: self._series(s, start, periods) for k, s in alarm.metrics.items()}
        points: list[float | None] = []
        for i in range(periods):
            row = {k: v[i] for k, v in series.items()}
            if all(v is None for v in row.values()):
                points.append(None)
                continue
            values = {k: 0.0 if v is None else v for k, v in row.items()}
            points.append(evaluate_expression(alarm.expression or "0", values))
        return points

    def _previous(self, name: str) -> str:
        found = self.cloudwatch.describe_alarms(AlarmNames=[name])["MetricAlarms"]
        return str(found[0]["StateValue"]) if found else "INSUFFICIENT_DATA"

    def evaluate(self, now_s: float) -> list[AlarmState]:
        """Evaluate every alarm at ``now_s``; set states and notify on changes.

        Returns
        -------
        list of AlarmState
            One per alarm of the SLO file.
        """
        results = []
        for alarm in self.slos.alarms:
            name = alarm.full_name(self.settings)
            points = self.datapoints(alarm, now_s)
            previous = self._previous(name)
            breaches = []
            for value in points:
                if value is None:
                    treat = alarm.treat_missing_data
                    breaches.append(
                        True
                        if treat == "breaching"
                        else False
                        if treat == "notBreaching"
                        else None
                    )
                else:
                    breaches.append(
                        COMPARISONS[alarm.comparison](value, alarm.threshold)
                    )
            known = [b for b in breaches if b is not None]
            if not known:
                state = (
                    previous
                    if alarm.treat_missing_data == "ignore"
                    else "INSUFFICIENT_DATA"
                )
            elif len(known) == len(breaches) and all(known):
                state = "ALARM"
            elif any(known):
                state = previous if previous != "INSUFFICIENT_DATA" else "OK"
            else:
                state = "OK"
            shown = ", ".join("-" if v is None else f"{v:g}" for v in points)
            reason = (
                f"Threshold Crossed: [{shown}] {_SYMBOL[alarm.comparison]} "
                f"{alarm.threshold:g} over {alarm.evaluation_periods} period(s)"
            )
            result = AlarmState(
                name,
                state,
                previous,
                tuple(points),
                reason,
                alarm.severity,
                alarm.runbook,
            )
            if result.changed:
                self.cloudwatch.set_alarm_state(
                    AlarmName=name, StateValue=state, StateReason=reason[:1023]
                )
                logger.info("Alarm %s: %s -> %s (%s)", name, previous, state, reason)
                if self.sns is not None and self.topic_arn:
                    self.sns.publish(
                        TopicArn=self.topic_arn,
                        Subject=f"{state}: {name}"[:100],
                        Message=json.dumps(
                            {
                                "AlarmName": name,
                                "NewStateValue": state,
                                "OldStateValue": previous,
                                "NewStateReason": reason,
                                "severity": alarm.severity,
                                "runbook": alarm.runbook,
                            }
                        ),
                    )
            self.history.append(result)
            results.append(result)
        return results


TERRAFORM_PATH: Final = Path(__file__).resolve().parents[2] / "terraform"
"""The Terraform code of the repository."""


def _resolve(value: Any, defaults: dict[str, Any]) -> Any:
    """Return a Terraform value with ``var.*`` replaced by its module default."""
    if not isinstance(value, str):
        return value
    if value.startswith("var.") and value[4:] in defaults:
        return defaults[value[4:]]
    if value.startswith("${var.") and "}" in value:
        name, rest = value[6:].split("}", 1)
        return f"{defaults.get(name, '${var.' + name + '}')}{rest}"
    if "var." in value:
        names = {k: float(v) for k, v in defaults.items() if isinstance(v, int | float)}
        return evaluate_expression(value.replace("var.", ""), names)
    return value


def terraform_disagreements(
    slos: SLOSet, root: Path | str | None = None, unit: str = "cloudwatch"
) -> list[str]:
    """Compare the SLO file's alarms with the CloudWatch alarms in Terraform.

    Every alarm of the file must exist in the module as the
    ``aws_cloudwatch_metric_alarm`` its ``terraform`` key names, with the
    same name suffix, metric(s), statistic, period, evaluation periods,
    comparison, missing-data treatment and threshold (the module's variable
    defaults filled in); every alarm of the module must be in the file.

    Parameters
    ----------
    slos : SLOSet
        The SLO file.
    root : pathlib.Path or str or None, default None
        The Terraform folder; :data:`TERRAFORM_PATH` when None.
    unit : str, default "cloudwatch"
        The module holding the alarms.

    Returns
    -------
    list of str
        One sentence per disagreement; empty when the two agree.
    """
    from ..governance.terraform import load_terraform

    code = load_terraform(root or TERRAFORM_PATH)
    defaults = {b.name: b.body.get("default") for b in code.find("variable", unit=unit)}
    blocks = {
        b.name: b for b in code.find("resource", "aws_cloudwatch_metric_alarm", unit)
    }
    problems = []
    for alarm in slos.alarms:
        block = blocks.pop(alarm.terraform, None)
        if block is None:
            problems.append(
                f"alarm {alarm.name}: no aws_cloudwatch_metric_alarm.{alarm.terraform} "
                f"in module {unit}"
            )
            continue
        body = {k: _resolve(v, defaults) for k, v in block.body.items()}
        expected: dict[str, Any] = {
            "alarm_name": f"{defaults.get('name')}-{alarm.name}",
            "evaluation_periods": alarm.evaluation_periods,
            "comparison_operator": alarm.comparison,
            "treat_missing_data": alarm.treat_missing_data,
            "threshold": alarm.threshold,
        }
        if alarm.metric is not None:
            expected |= {
                "namespace": alarm.metric.namespace,
                "metric_name": alarm.metric.metric,
                "statistic": alarm.metric.statistic,
                "period": alarm.period,
            }
            dimensions = body.get("dimensions") or {}
            if list(dimensions) != [alarm.metric.dimension]:
                problems.append(
                    f"alarm {alarm.name}: dimensions should be "
                    f"[{alarm.metric.dimension}], Terraform has {list(dimensions)}"
                )
        else:
            queries = {q["id"]: q for q in body.get("metric_query", [])}
            returned = [q for q in queries.values() if q.get("return_data")]
            if [q.get("expression") for q in returned] != [alarm.expression]:
                problems.append(
                    f"alarm {alarm.name}: expression should be {alarm.expression!r}, "
                    f"Terraform has {[q.get('expression') for q in returned]}"
                )
            for key, spec in alarm.metrics.items():
                query = queries.get(key, {})
                metric = (query.get("metric") or [{}])[0]
                found = {
                    "namespace": _resolve(metric.get("namespace"), defaults),
                    "metric": metric.get("metric_name"),
                    "dimension": list(metric.get("dimensions") or {}),
                    "statistic": metric.get("stat"),
                    "period": metric.get("period"),
                }
                wanted = {
                    "namespace": spec.namespace,
                    "metric": spec.metric,
                    "dimension": [spec.dimension],
                    "statistic": spec.statistic,
                    "period": spec.period,
                }
                for attribute, value in wanted.items():
                    if found[attribute] != value:
                        problems.append(
                            f"alarm {alarm.name} metric {key}: {attribute} should be "
                            f"{value!r}, Terraform has {found[attribute]!r}"
                        )
        for attribute, value in expected.items():
            actual = body.get(attribute)
            same = (
                math.isclose(float(actual), float(value))
                if isinstance(value, float) and isinstance(actual, int | float)
                else actual == value
            )
            if not same:
                problems.append(
                    f"alarm {alarm.name}: {attribute} should be {value!r}, "
                    f"Terraform has {actual!r}"
                )
    problems += _burn_disagreements(slos, blocks, code.find("resource", "", unit))
    for name in sorted(blocks):
        problems.append(
            f"Terraform alarm aws_cloudwatch_metric_alarm.{name} is not in the SLO file"
        )
    return problems


def _burn_name(slo: SLO, rule: BurnRule, window: str) -> str:
    return f"burn_{slo.name}_{rule.severity}_{int(rule.long_window_s)}_{window}"


_WINDOW_SKIP: Final = (
    "# checkov:skip=CKV_AWS_319: one window alone must not page; "
    "the composite alarm of both windows notifies"
)


def burn_rate_alarms_hcl(slos: SLOSet, namespace: str = "SmartFactory") -> str:
    """Render the SLOs' burn-rate rules as Terraform CloudWatch alarms.

    Each rule of each SLO becomes two metric alarms, one per window, on the
    share of bad events (``<metric>Bad``: its ``Sum`` over its
    ``SampleCount``, as :func:`publish_events` publishes them), and a
    composite alarm that fires when both do. The output is meant for a file
    of ``terraform/modules/cloudwatch`` (it uses the module's ``var.name`` and
    ``var.alarm_topic_arn``); :func:`terraform_disagreements` then checks it.

    Known limit: a CloudWatch metric alarm's period is at most one day, so a
    window longer than a day is evaluated as consecutive one-day periods that
    must all breach, which is stricter than one ratio over the whole window.

    Returns
    -------
    str
        HCL text.
    """
    blocks = []
    for slo in slos.slos:
        for rule in slos.rules:
            names = []
            for window, seconds in (
                ("long", rule.long_window_s),
                ("short", rule.short_window_s),
            ):
                period = int(min(seconds, 86400))
                periods = max(1, int(round(seconds / period)))
                name = _burn_name(slo, rule, window)
                names.append(name)
                queries = "".join(
                    f"""
  metric_query {{
    id = "{key}"

    metric {{
      namespace   = "{namespace}"
      metric_name = "{slo.metric}Bad"
      dimensions  = {{ slo = "{slo.name}" }}
      stat        = "{stat}"
      period      = {period}
    }}
  }}
"""
                    for key, stat in (("bad", "Sum"), ("total", "SampleCount"))
                )
                blocks.append(
                    f"""resource "aws_cloudwatch_metric_alarm" "{name}" {{
  {_WINDOW_SKIP}
  alarm_name          = "${{var.name}}-{name.replace("_", "-")}"
  alarm_description   = "SLO {slo.name}: budget burn over the {window} window."
  evaluation_periods  = {periods}
  threshold           = {round(rule.burn_rate * slo.error_budget, 10)!r}
  comparison_operator = "GreaterThanThreshold"
  treat_missing_data  = "notBreaching"
  actions_enabled     = false

  metric_query {{
    id          = "share"
    expression  = "bad / MAX([total, 1])"
    label       = "Share of bad events"
    return_data = true
  }}
{queries}}}
"""
                )
            composite = f"burn_{slo.name}_{rule.severity}_{int(rule.long_window_s)}"
            both = " AND ".join(
                f"ALARM(${{aws_cloudwatch_metric_alarm.{n}.alarm_name}})" for n in names
            )
            blocks.append(
                f"""resource "aws_cloudwatch_composite_alarm" "{composite}" {{
  alarm_name        = "${{var.name}}-{composite.replace("_", "-")}"
  alarm_description = "SLO {slo.name}: {rule.severity} when both windows burn."
  alarm_rule        = "{both}"
  actions_enabled   = true
  alarm_actions     = [var.alarm_topic_arn]
}}
"""
            )
    header = (
        "# Generated from governance/slos.yaml by burn_rate_alarms_hcl; do not edit.\n"
        "# Regenerate with 'make slo-alarms' after changing that file.\n\n"
    )
    return header + "\n".join(blocks)


def _burn_disagreements(
    slos: SLOSet, blocks: dict[str, Any], resources: Sequence[Any]
) -> list[str]:
    """Check the module holds every generated burn-rate alarm, exactly as rendered."""
    import hcl2
    from hcl2.utils import SerializationOptions

    from ..governance.terraform import normalize

    burn = {name: blocks.pop(name) for name in list(blocks) if name.startswith("burn_")}
    composites = {
        b.name
        for b in resources
        if b.type == "aws_cloudwatch_composite_alarm" and b.name.startswith("burn_")
    }
    options = SerializationOptions(with_comments=False, explicit_blocks=False)
    rendered = hcl2.loads(burn_rate_alarms_hcl(slos), serialization_options=options)
    expected: dict[str, dict[str, Any]] = {}
    wanted_composites = set()
    for group in rendered.get("resource", []):
        for type_, named in group.items():
            for name, body in named.items():
                if normalize(type_) == "aws_cloudwatch_metric_alarm":
                    expected[normalize(name)] = normalize(body)
                else:
                    wanted_composites.add(normalize(name))
    problems = [
        f"burn-rate alarm {n}: in the SLO file's rules, missing in Terraform"
        for n in sorted(set(expected) - set(burn))
    ]
    problems += [
        f"burn-rate alarm {n}: in Terraform, not in the SLO file's rules"
        for n in sorted(set(burn) - set(expected))
    ]
    for name in sorted(set(expected) & set(burn)):
        body = burn[name].body
        for key in sorted(set(expected[name]) | set(body)):
            want, have = expected[name].get(key), body.get(key)
            if want != have:
                problems.append(
                    f"burn-rate alarm {name}: {key} should be {want!r}, "
                    f"Terraform has {have!r}"
                )
    problems += [
        f"composite alarm {n}: missing in Terraform"
        for n in sorted(wanted_composites - composites)
    ]
    return problems
