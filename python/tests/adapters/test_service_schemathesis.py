"""Property-based checks of the endpoint against its own OpenAPI spec (schemathesis)."""

from __future__ import annotations

import schemathesis
from hypothesis import HealthCheck, settings
from service_fakes import KEY, Registry, jumping_clock

from customer_segmentation.adapters.http_app import create_app

registry = Registry()
app = create_app(registry.load, registry.current_run, KEY, max_batch=50, clock=jumping_clock())
schema = schemathesis.openapi.from_asgi("/openapi.json", app)


@schema.parametrize()
@settings(max_examples=40, deadline=None, suppress_health_check=list(HealthCheck))
def test_every_operation_honours_its_spec_and_never_errors(case):
    case.call_and_validate(headers={"Authorization": f"Bearer {KEY}"})
