"""What ``pulumi preview --policy-pack policy`` runs.

The CLI starts ``python -u -m pulumi.policy <engine> .`` in this folder (inside the virtualenv
that PulumiPolicy.yaml names), which runs this file. The pack imports the project's pure rules
(``components.route_keys``, ``components.rules``, ``components.scope_format``): one definition of
route selection, quotas and the scope format. So the project root goes on ``sys.path``.
"""

import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

from pulumi_policy import PolicyPack  # noqa: E402

from policy.policies import pack_arguments  # noqa: E402

PolicyPack(**pack_arguments())
