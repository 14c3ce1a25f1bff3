"""Governance: least privilege, encryption and audit, checked by code.

The infrastructure in ``terraform/`` is read statically with python-hcl2
(:mod:`.terraform`), its IAM policies are validated and cross-checked against
``governance/iam_scope_matrix.csv`` (:mod:`.iam`), every data store is checked
against ``governance/encryption_zones.md`` (:mod:`.encryption`), and the
security scanners (bandit, detect-secrets, checkov) run as subprocesses
(:mod:`.scanners`). :mod:`.checks` runs them all for ``smartfactory check``.
:mod:`.audit` records the pipeline's own AWS calls as a local stand-in for
CloudTrail look-ups. Import what you need from the modules.
"""

__all__: list[str] = []
