"""schemathesis hooks of scripts/api-conformance.sh: keep the signed-in administrator's session.

The stateful phase follows links, so it finds the administrator's own user and organization
ids (from /me, the user list, /orgs) and would reset their password, passcode or second
factor, suspend or retire them, or require a second factor of their organization: each ends
or blocks the one session the run has. Those changes, aimed at the administrator's own user
or organization, go to an identifier that names nothing instead (a 404, a documented answer).
Every other request is sent as generated; each of these operations keeps its own tests.
"""

import os

import schemathesis

OWN = {os.environ["RENKEI_CONFORMANCE_USER_ID"], os.environ["RENKEI_CONFORMANCE_ORG_ID"]}
NOBODY = "00000000-0000-4000-8000-000000000000"


def aims_at_own(case):
    """A change to a user (PATCH /users/{id}, its resets and releases) or to an organization's
    settings (PATCH /orgs/{id}) whose `id` is the administrator's own."""
    path, method = case.operation.path, case.method.upper()
    changes_user = path.startswith("/api/v1/users/{id}") and method != "GET"
    changes_org = path == "/api/v1/orgs/{id}" and method == "PATCH"
    return (changes_user or changes_org) and str((case.path_parameters or {}).get("id")) in OWN


@schemathesis.hook
def before_call(context, case, kwargs):
    if aims_at_own(case):
        case.path_parameters = {**case.path_parameters, "id": NOBODY}
