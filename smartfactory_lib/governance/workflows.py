"""The CI/CD workflows as data: jobs, their order, permissions and pinned actions.

:func:`load_workflows` reads ``.github/workflows/*.yml`` into one table, one
row per job, so the book can show what runs when, with which rights, and
whether every third-party action is pinned to a commit.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

import pandas as pd
import yaml

__all__ = ["load_workflows"]


def _triggers(document: dict[Any, Any]) -> str:
    # YAML 1.1 reads the key "on" as True.
    on = document.get("on", document.get(True, {}))
    if isinstance(on, str):
        return on
    return ", ".join(on) if isinstance(on, list | dict) else str(on)


def load_workflows(root: Path | str) -> pd.DataFrame:
    """Return one row per job of every workflow under ``.github/workflows``.

    Parameters
    ----------
    root : pathlib.Path or str
        Repository root.

    Returns
    -------
    pandas.DataFrame
        Columns ``workflow``, ``triggers``, ``job``, ``name``, ``needs`` (list),
        ``environment``, ``permissions`` (``scope: level`` strings),
        ``steps``, ``actions`` (list) and ``pinned`` (every action pinned to a
        40-character commit).

    Raises
    ------
    FileNotFoundError
        If the repository has no workflow.
    """
    paths = sorted((Path(root) / ".github" / "workflows").glob("*.yml"))
    if not paths:
        raise FileNotFoundError(f"expected workflows in {root}/.github/workflows, none")
    rows = []
    for path in paths:
        document = yaml.safe_load(path.read_text())
        for job_id, job in document.get("jobs", {}).items():
            needs = job.get("needs", [])
            steps = job.get("steps", [])
            actions = [s["uses"] for s in steps if "uses" in s]
            environment = job.get("environment", "")
            rows.append(
                {
                    "workflow": path.stem,
                    "triggers": _triggers(document),
                    "job": job_id,
                    "name": job.get("name", job_id),
                    "needs": [needs] if isinstance(needs, str) else list(needs),
                    "environment": (
                        environment.get("name", "")
                        if isinstance(environment, dict)
                        else environment
                    ),
                    "permissions": [
                        f"{scope}: {level}"
                        for scope, level in (job.get("permissions") or {}).items()
                    ],
                    "steps": len(steps),
                    "actions": actions,
                    "pinned": all(len(a.split("@", 1)[-1]) == 40 for a in actions),
                }
            )
    return pd.DataFrame(rows)
