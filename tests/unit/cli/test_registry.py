"""Services that are not importable yet are skipped, not fatal."""

from __future__ import annotations

import pytest

from stratus.cli import registry


def test_missing_module_is_skipped(caplog: pytest.LogCaptureFixture) -> None:
    spec = registry.ServiceSpec("nothing", "stratus.does_not_exist.service", "NoService", "")
    with caplog.at_level("INFO"):
        assert registry.load_class(spec) is None
    assert "skipping nothing" in caplog.text


def test_missing_class_is_skipped() -> None:
    assert registry.load_class(registry.ServiceSpec("x", "stratus.cli.registry", "NoSuchClass", "")) is None


def test_identity_comes_first_and_network_waits_for_its_host_side() -> None:
    assert registry.SERVICES[0].name == "identity"
    # network joins the all-in-one once its host side exists (see registry.py)
    assert {s.name: s.endpoint_path for s in registry.SERVICES} == {
        "identity": "/v3",
        "image": "",
        "compute": "/v2.1",
    }


def test_broken_module_is_skipped(tmp_path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "stratus_broken_service.py").write_text("x = = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = registry.ServiceSpec("broken", "stratus_broken_service", "Service", "")
    assert registry.load_class(spec) is None
    assert "importing stratus_broken_service failed" in caplog.text
