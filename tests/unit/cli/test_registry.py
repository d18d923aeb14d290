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


def test_identity_comes_first() -> None:
    assert registry.SERVICES[0].name == "identity"
    paths = {s.name: s.endpoint_path for s in registry.SERVICES}
    assert {k: paths[k] for k in ("identity", "image", "compute", "network")} == {
        "identity": "/v3",
        "image": "",
        "compute": "/v2.1",
        "network": "",
    }


def test_configured_port_reads_the_services_section() -> None:
    from stratus.core.config import Config

    spec = next(s for s in registry.SERVICES if s.name == "network")
    assert registry.configured_port(spec, Config({})) == 9696
    assert registry.configured_port(spec, Config({"network": {"port": 19696}})) == 19696


def test_broken_module_is_skipped(tmp_path, monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture) -> None:
    (tmp_path / "stratus_broken_service.py").write_text("x = = 1\n")
    monkeypatch.syspath_prepend(str(tmp_path))
    spec = registry.ServiceSpec("broken", "stratus_broken_service", "Service", "")
    assert registry.load_class(spec) is None
    assert "importing stratus_broken_service failed" in caplog.text
