"""Read Terraform code with python-hcl2 and find every policy document in it.

No Terraform binary is needed: :func:`load_terraform` parses each ``.tf``
file of every module and environment into plain Python values (string
literals without their quotes, expressions as their source text), and
:func:`policy_documents` finds each ``aws_iam_policy_document`` data source,
resolves ``local.*`` lists inside its module and records what the document is
attached to: a role's inline policy, a managed policy, an IoT policy, a KMS
key policy, a bucket policy or a trust policy.

:func:`format_problems` is a local stand-in for part of ``terraform fmt
-check``: two-space indentation by bracket depth, and the alignment of ``=``
in each run of consecutive single-line attributes (a multi-line attribute,
a blank line or a comment ends a run, as in Terraform's formatter). The
hosted CI runs the real ``terraform fmt -check``.

Known limits: only ``local.NAME`` references are resolved (not ``var.*``
values, ``concat`` or ``for`` expressions); a statement whose actions are any
other expression is reported as unverifiable by :mod:`.iam` rather than
guessed. Policies written with ``jsonencode`` are not read; this repository
writes every policy as an ``aws_iam_policy_document``.
"""

from __future__ import annotations

import logging
import re
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Final

import hcl2
from hcl2.utils import SerializationOptions

__all__ = [
    "Block",
    "PolicyDocument",
    "Statement",
    "TerraformCode",
    "format_problems",
    "load_terraform",
    "normalize",
    "policy_documents",
]

logger = logging.getLogger(__name__)

_OPTIONS: Final = SerializationOptions(with_comments=False, explicit_blocks=False)
_REFERENCE: Final = re.compile(
    r"^data\.aws_iam_policy_document\.(\w+)(?:\[[^\]]*\])?\.json$"
)
_ROLE: Final = re.compile(r"^aws_iam_role\.(\w+)\.(?:id|name)$")


def normalize(value: Any) -> Any:
    """Return a python-hcl2 value as plain Python.

    String literals lose their quotes (``'"abc"'`` -> ``'abc'``), and an
    expression loses its ``${...}`` wrapper (``'${var.x}'`` -> ``'var.x'``);
    interpolations inside a literal stay (``'${var.arn}/raw/*'``). Lists and
    mappings are normalized item by item.
    """
    if isinstance(value, str):
        if len(value) >= 2 and value[0] == value[-1] == '"':
            return value[1:-1].replace('\\"', '"')
        if value.startswith("${") and value.endswith("}"):
            return value[2:-1]
        return value
    if isinstance(value, list):
        return [normalize(item) for item in value]
    if isinstance(value, dict):
        return {
            normalize(key): normalize(item)
            for key, item in value.items()
            if not str(key).startswith("__")
        }
    return value


@dataclass(frozen=True)
class Block:
    """One labelled block of a Terraform file.

    Attributes
    ----------
    unit : str
        The module (``lambda``) or environment (``example``) it belongs to.
    kind : str
        ``resource``, ``data``, ``module``, ``variable``, ``output`` or ``locals``.
    type : str
        Resource or data type (``aws_s3_bucket``); empty for other kinds.
    name : str
        The block's name label.
    body : dict
        The block's attributes and nested blocks, normalized.
    path : pathlib.Path
        The file it was read from.
    """

    unit: str
    kind: str
    type: str
    name: str
    body: dict[str, Any]
    path: Path

    @property
    def address(self) -> str:
        """Terraform address inside its unit, such as ``aws_sqs_queue.dead_letter``."""
        prefix = {"data": "data.", "module": "module.", "variable": "var."}.get(
            self.kind, ""
        )
        label = f"{self.type}.{self.name}" if self.type else self.name
        return f"{prefix}{label}"


@dataclass
class TerraformCode:
    """Every block of every module and environment under one folder.

    Attributes
    ----------
    root : pathlib.Path
        The ``terraform/`` folder.
    blocks : list of Block
        Every labelled block, in file order.
    locals : dict
        ``unit -> {name: value}`` of the ``locals`` blocks.
    files : list of pathlib.Path
        The files read.
    """

    root: Path
    blocks: list[Block] = field(default_factory=list)
    locals: dict[str, dict[str, Any]] = field(default_factory=dict)
    files: list[Path] = field(default_factory=list)

    def find(self, kind: str, type_: str = "", unit: str | None = None) -> list[Block]:
        """Return the blocks of one kind (and type, and unit when given)."""
        return [
            b
            for b in self.blocks
            if b.kind == kind
            and (not type_ or b.type == type_)
            and (unit is None or b.unit == unit)
        ]

    @property
    def units(self) -> list[str]:
        """Names of the modules and environments read."""
        return sorted({b.unit for b in self.blocks})


def _unit_of(path: Path, root: Path) -> str:
    return path.parent.name if path.parent != root else root.name


def load_terraform(root: Path | str) -> TerraformCode:
    """Parse every ``.tf`` file under ``root``.

    Parameters
    ----------
    root : pathlib.Path or str
        A folder of Terraform code, such as ``terraform/``; each folder that
        holds ``.tf`` files is one unit, named after the folder.

    Returns
    -------
    TerraformCode
        The blocks and locals of every unit.

    Raises
    ------
    FileNotFoundError
        If ``root`` holds no ``.tf`` file.
    ValueError
        If a file is not valid HCL; the message names the file.
    """
    root = Path(root)
    files = sorted(p for p in root.rglob("*.tf") if ".terraform" not in p.parts)
    if not files:
        raise FileNotFoundError(f"expected .tf files under {root}, found none")
    code = TerraformCode(root=root, files=files)
    for path in files:
        try:
            with path.open() as handle:
                parsed = hcl2.load(handle, serialization_options=_OPTIONS)
        except Exception as exc:
            raise ValueError(f"{path} is not valid HCL: {exc}") from exc
        unit = _unit_of(path, root)
        for kind in ("resource", "data"):
            for group in parsed.get(kind, []):
                for type_, named in group.items():
                    for name, body in named.items():
                        code.blocks.append(
                            Block(
                                unit,
                                kind,
                                normalize(type_),
                                normalize(name),
                                normalize(body),
                                path,
                            )
                        )
        for kind in ("module", "variable", "output"):
            for group in parsed.get(kind, []):
                for name, body in group.items():
                    code.blocks.append(
                        Block(unit, kind, "", normalize(name), normalize(body), path)
                    )
        for group in parsed.get("locals", []):
            code.locals.setdefault(unit, {}).update(normalize(group))
    logger.info("Read %d Terraform files in %d units", len(files), len(code.units))
    return code


@dataclass(frozen=True)
class Statement:
    """One statement of a policy document, as written.

    Attributes
    ----------
    sid, effect : str
        Statement id (may be empty) and ``Allow`` or ``Deny``.
    actions, resources : tuple of str
        Actions and resources after resolving ``local.*`` lists.
    principals : tuple of str
        ``type:identifier`` of each principal (resource and key policies).
    not_actions, not_resources : bool
        Whether the statement uses ``not_actions`` / ``not_resources``.
    unresolved : tuple of str
        Expressions that could not be resolved to literal lists.
    condition_keys : tuple of str
        The ``variable`` of each ``condition`` block (``aws:SourceAccount``).
    """

    sid: str
    effect: str
    actions: tuple[str, ...]
    resources: tuple[str, ...]
    principals: tuple[str, ...] = ()
    not_actions: bool = False
    not_resources: bool = False
    unresolved: tuple[str, ...] = ()
    condition_keys: tuple[str, ...] = ()


@dataclass(frozen=True)
class PolicyDocument:
    """An ``aws_iam_policy_document`` and what it is attached to.

    Attributes
    ----------
    unit : str
        Module or environment.
    name : str
        The data source's name.
    kind : str
        ``identity`` (role inline policy, managed policy, IoT policy),
        ``key`` (KMS key policy), ``resource`` (bucket or other resource
        policy), ``trust`` (a role's assume-role policy) or ``unused``.
    principal : str
        ``<unit>.<role or policy name>`` for identity policies, else the
        attached resource's address.
    statements : tuple of Statement
        The statements, dynamic ones included.
    """

    unit: str
    name: str
    kind: str
    principal: str
    statements: tuple[Statement, ...]

    @property
    def address(self) -> str:
        """``<unit>/data.aws_iam_policy_document.<name>``."""
        return f"{self.unit}/data.aws_iam_policy_document.{self.name}"


def _as_list(value: Any, unit_locals: dict[str, Any]) -> tuple[list[str], list[str]]:
    """Resolve a list attribute; return (values, unresolved expressions)."""
    if value is None:
        return [], []
    if isinstance(value, str):
        match = re.fullmatch(r"local\.(\w+)", value)
        if match and isinstance(unit_locals.get(match.group(1)), list):
            return [str(v) for v in unit_locals[match.group(1)]], []
        return [], [value]
    return [str(item) for item in value], []


def _statement(body: dict[str, Any], unit_locals: dict[str, Any]) -> Statement:
    actions, bad_actions = _as_list(
        body.get("actions", body.get("not_actions")), unit_locals
    )
    resources, bad_resources = _as_list(
        body.get("resources", body.get("not_resources")), unit_locals
    )
    principals: list[str] = []
    for block in body.get("principals", []) or []:
        identifiers, _ = _as_list(block.get("identifiers"), unit_locals)
        principals += [f"{block.get('type', '')}:{i}" for i in identifiers] or [
            f"{block.get('type', '')}:{block.get('identifiers')}"
        ]
    return Statement(
        sid=str(body.get("sid", "")),
        effect=str(body.get("effect", "Allow")),
        actions=tuple(actions),
        resources=tuple(resources),
        principals=tuple(principals),
        not_actions="not_actions" in body,
        not_resources="not_resources" in body,
        unresolved=tuple(bad_actions + bad_resources),
        condition_keys=tuple(
            str(c.get("variable", "")) for c in body.get("condition", []) or []
        ),
    )


def _statements(body: dict[str, Any], unit_locals: dict[str, Any]) -> list[Statement]:
    statements = [_statement(s, unit_locals) for s in body.get("statement", []) or []]
    for dynamic in body.get("dynamic", []) or []:
        for content in (dynamic.get("statement") or {}).get("content", []) or []:
            statements.append(_statement(content, unit_locals))
    return statements


def _attachments(code: TerraformCode) -> dict[tuple[str, str], tuple[str, str]]:
    """Map (unit, document name) -> (kind, principal)."""
    found: dict[tuple[str, str], tuple[str, str]] = {}

    def doc_name(value: Any) -> str | None:
        match = _REFERENCE.match(str(value))
        return match.group(1) if match else None

    for block in code.find("resource"):
        body, unit = block.body, block.unit
        if block.type == "aws_iam_role_policy":
            name = doc_name(body.get("policy"))
            role = _ROLE.match(str(body.get("role", "")))
            if name:
                owner = role.group(1) if role else str(body.get("role"))
                found[(unit, name)] = ("identity", f"{unit}.{owner}")
        elif block.type in ("aws_iam_policy", "aws_iot_policy"):
            name = doc_name(body.get("policy"))
            if name:
                found[(unit, name)] = ("identity", f"{unit}.{block.name}")
        elif block.type == "aws_kms_key":
            name = doc_name(body.get("policy"))
            if name:
                found[(unit, name)] = ("key", f"{unit}/{block.address}")
        elif block.type == "aws_iam_role":
            name = doc_name(body.get("assume_role_policy"))
            if name:
                found[(unit, name)] = ("trust", f"{unit}.{block.name}")
        elif "policy" in body:
            name = doc_name(body.get("policy"))
            if name:
                found[(unit, name)] = ("resource", f"{unit}/{block.address}")
    return found


def policy_documents(code: TerraformCode) -> list[PolicyDocument]:
    """Return every policy document with its statements and attachment.

    Parameters
    ----------
    code : TerraformCode
        From :func:`load_terraform`.

    Returns
    -------
    list of PolicyDocument
        In file order; documents attached to nothing have kind ``unused``.
    """
    attachments = _attachments(code)
    documents = []
    for block in code.find("data", "aws_iam_policy_document"):
        unit_locals = code.locals.get(block.unit, {})
        kind, principal = attachments.get(
            (block.unit, block.name), ("unused", f"{block.unit}/{block.address}")
        )
        documents.append(
            PolicyDocument(
                unit=block.unit,
                name=block.name,
                kind=kind,
                principal=principal,
                statements=tuple(_statements(block.body, unit_locals)),
            )
        )
    return documents


_ATTRIBUTE: Final = re.compile(r'^(\s*)([\w"-]+)(\s*)=(\s*)(.*)$')


def _net_brackets(text: str) -> int:
    text = re.sub(
        r'"(?:[^"\\]|\\.)*"', lambda m: re.sub(r"[^${}]", "", m.group(0)), text
    )
    text = text.replace("${", "(").replace("&{", "")
    return sum(text.count(c) for c in "([{") - sum(text.count(c) for c in ")]}")


def format_problems(path: Path | str) -> list[tuple[str, int, str]]:
    """Return ``(file, line, message)`` for each formatting difference found.

    Parameters
    ----------
    path : pathlib.Path or str
        A ``.tf`` file or a folder searched recursively.

    Returns
    -------
    list of tuple
        Empty when indentation and ``=`` alignment match ``terraform fmt``.
    """
    root = Path(path)
    files = [root] if root.is_file() else sorted(root.rglob("*.tf"))
    problems: list[tuple[str, int, str]] = []
    for file in files:
        lines = file.read_text().splitlines()
        stack: list[int] = []
        run: list[tuple[int, str, int]] = []

        def close(run: list[tuple[int, str, int]] = run, file: Path = file) -> None:
            if run:
                width = max(len(key) for _, key, _ in run)
                for number, key, spaces in run:
                    if spaces != width - len(key) + 1:
                        problems.append(
                            (
                                str(file),
                                number,
                                f"'=' of {key.strip()} must be in column {width + 2}",
                            )
                        )
                run.clear()

        for number, line in enumerate(lines, start=1):
            stripped = line.strip()
            if not stripped or stripped.startswith(("#", "//")):
                close()
                continue
            change = _net_brackets(stripped)
            closed = -change
            while closed > 0 and stack:  # Terraform's indent stack
                if closed >= stack[-1]:
                    closed -= stack.pop()
                else:
                    stack[-1] -= closed
                    closed = 0
            expected = 2 * len(stack)
            indent = len(line) - len(line.lstrip(" "))
            if indent != expected:
                problems.append(
                    (str(file), number, f"indent must be {expected}, got {indent}")
                )
            if change > 0:
                stack.append(change)
            match = _ATTRIBUTE.match(line)
            if match is None or change > 0 or "==" in line.split("=", 1)[0]:
                close()
                continue
            key = match.group(1) + match.group(2)
            if run and run[0][1][: len(match.group(1))] != match.group(1):
                close()
            run.append((number, key, len(match.group(3))))
        close()
    return problems
