"""The daemon's safety invariants under random interleavings (tests/properties.py): a few
examples in CI; scripts/soak_properties.py runs many more."""

from __future__ import annotations

from hypothesis import HealthCheck, settings

from tests.properties import DaemonMachine

TestInvariants = DaemonMachine.TestCase
TestInvariants.settings = settings(max_examples=8, stateful_step_count=20, deadline=None,
                                   suppress_health_check=list(HealthCheck))
