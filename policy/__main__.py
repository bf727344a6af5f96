"""What ``pulumi preview --policy-pack policy`` runs.

The CLI starts ``python -u -m pulumi.policy <engine> .`` in this folder (inside the virtualenv
that PulumiPolicy.yaml names), which runs this file. The pack imports the component package's pure
modules (``jwt_scoped.aws_types``, ``modes``, ``cors``, ``route_keys``, ``rules``,
``scope_format``, ``model``), installed into that virtualenv by ``requirements.txt``: one
definition of the type tokens, route access, CORS preflights, route selection, quotas and the
scope format. The project root goes on ``sys.path`` for the pack's own modules (``policy.*``).
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pulumi_policy import PolicyPack  # noqa: E402

from policy.policies import pack_arguments  # noqa: E402

PolicyPack(**pack_arguments())
