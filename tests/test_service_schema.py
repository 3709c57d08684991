"""The HTTP service against its own OpenAPI document, with schemathesis: requests generated
from the document, valid and not, to every route with an admin's key; no answer is a 5xx,
and every answer is one the document gives (status, content type, body)."""

from __future__ import annotations

import tempfile
from collections.abc import Iterator
from pathlib import Path

import pytest
import schemathesis
from hypothesis import HealthCheck, settings
from schemathesis.specs.openapi.checks import positive_data_acceptance

from tiergate.keys import Role
from tiergate.ledger.ledger import Ledger
from tiergate.service.access import RateLimits
from tiergate.service.app import create_app
from tiergate.workflow import Settings, Workspace
from tiergate.workflow.service import create_key

# The service's ledger, made before the first request (the application opens it then).
FOLDER = tempfile.TemporaryDirectory(prefix="tiergate-schema-")
URL = f"sqlite:///{Path(FOLDER.name) / 'ledger.sqlite3'}"
WORKSPACE = Workspace(Settings.load(db=URL))
schema = schemathesis.openapi.from_asgi(
    "/openapi.json", create_app(WORKSPACE, limits=RateLimits(0, 0))
)
Ledger(URL).upgrade()
# Made when the module is collected: schemathesis asks for the credential then.
ADMIN = create_key(WORKSPACE, "schema", Role.ADMIN.value, "test")


@pytest.fixture(scope="module", autouse=True)
def ledger() -> Iterator[None]:
    yield
    WORKSPACE.close()
    FOLDER.cleanup()


# Every check schemathesis has but one: that every request the document allows is answered
# 2xx, which the document cannot promise (a date before the rulebook's first, an unknown item
# class, a hold not in the ledger are 4xx, each saying why).
LEFT_OUT = [positive_data_acceptance]


@schema.auth()
class AdminKey:
    """The admin's key on every request, as schemathesis applies a credential: a case made to
    go without it is still sent without it (and must be refused)."""

    def get(self, case: schemathesis.Case, context: object) -> str:
        return ADMIN

    def set(self, case: schemathesis.Case, data: str, context: object) -> None:
        case.headers = {**(case.headers or {}), "Authorization": f"Bearer {data}"}


@schema.parametrize()
@settings(max_examples=15, deadline=None, suppress_health_check=list(HealthCheck))
def test_no_route_answers_a_5xx_and_every_answer_is_documented(case: schemathesis.Case) -> None:
    case.call_and_validate(excluded_checks=LEFT_OUT)
