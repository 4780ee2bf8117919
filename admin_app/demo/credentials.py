"""The demo therapists' credentials: designation, registration number and college, and the few
provisional registrants with their supervisor.

Drawn from a generator of its own (`CREDENTIALS_SEED`), so adding credentials moved none of the
practice's earlier draws (and none of its report figures).
"""

from __future__ import annotations

import random

from admin_app.demo.practices import CredentialPlan

CREDENTIALS_SEED = 15


def with_credentials(rng: random.Random, plan: CredentialPlan, rows: list[dict]) -> list[dict]:
    """The therapists' rows with their credentials. A provisional registrant's `supervisor_position`
    is an earlier therapist of the same designation who is not provisional (the first therapist
    never is), so the supervisor is inserted first."""
    numbers = rng.sample(range(*plan.numbers), len(rows))
    planned = []
    for index, (row, number) in enumerate(zip(rows, numbers, strict=True)):
        title = plan.titles[index % len(plan.titles)]
        feminine = title.feminine and row["full_name"].split()[0] in plan.feminine_names
        supervisors = [
            earlier
            for earlier, other in enumerate(planned)
            if plan.titles[earlier % len(plan.titles)] == title and not other["provisional"]
        ]
        provisional = bool(supervisors) and rng.random() < title.provisional_share
        planned.append(
            {
                **row,
                "designation": title.feminine if feminine else title.designation,
                "registration_number": plan.number_format.format(number),
                "registration_body": title.body,
                "provisional": provisional,
                "supervisor_position": rng.choice(supervisors) if provisional else None,
            }
        )
    return planned
