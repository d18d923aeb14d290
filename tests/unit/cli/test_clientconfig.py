"""clouds.yaml merging and the openrc file."""

from __future__ import annotations

import stat
from pathlib import Path

import pytest
import yaml

from stratus.cli import clientconfig
from stratus.cli.credentials import Credentials

CREDS = Credentials(admin_password="adm'in pw", demo_password="demo-pw")
AUTH_URL = "http://127.0.0.1:5000/v3"


def test_merge_keeps_other_clouds_and_keys(tmp_path: Path) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text(yaml.safe_dump({"clouds": {"mine": {"auth": {"auth_url": "http://x"}}}, "extra": 1}))
    clientconfig.merge_clouds_yaml(path, clientconfig.stratus_clouds(AUTH_URL, CREDS, "RegionOne"))
    data = yaml.safe_load(path.read_text())
    assert set(data["clouds"]) == {"mine", "stratus", "stratus-demo"}
    assert data["clouds"]["mine"] == {"auth": {"auth_url": "http://x"}}
    assert data["extra"] == 1
    admin = data["clouds"]["stratus"]
    assert admin["auth"] == {
        "auth_url": AUTH_URL,
        "username": "admin",
        "password": CREDS.admin_password,
        "project_name": "admin",
        "user_domain_name": "Default",
        "project_domain_name": "Default",
    }
    assert admin["region_name"] == "RegionOne" and admin["identity_api_version"] == 3
    assert data["clouds"]["stratus-demo"]["auth"]["username"] == "demo"
    assert data["clouds"]["stratus-demo"]["auth"]["project_name"] == "demo"
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_merge_replaces_an_old_stratus_entry(tmp_path: Path) -> None:
    path = tmp_path / "sub" / "clouds.yaml"
    clientconfig.merge_clouds_yaml(path, {"stratus": {"auth": {"auth_url": "http://old"}}})
    clientconfig.merge_clouds_yaml(path, clientconfig.stratus_clouds(AUTH_URL, CREDS, "RegionOne"))
    assert yaml.safe_load(path.read_text())["clouds"]["stratus"]["auth"]["auth_url"] == AUTH_URL


@pytest.mark.parametrize("content", ["clouds: [unclosed", "- a list\n"])
def test_merge_refuses_a_broken_file(tmp_path: Path, content: str) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text(content)
    with pytest.raises(RuntimeError, match="fix it"):
        clientconfig.merge_clouds_yaml(path, {"stratus": {}})
    assert path.read_text() == content


def test_empty_file_is_fine(tmp_path: Path) -> None:
    path = tmp_path / "clouds.yaml"
    path.write_text("")
    clientconfig.merge_clouds_yaml(path, {"stratus": {"a": 1}})
    assert yaml.safe_load(path.read_text()) == {"clouds": {"stratus": {"a": 1}}}


def test_openrc_quotes_values(tmp_path: Path) -> None:
    path = tmp_path / "stratus-openrc"
    clientconfig.write_openrc(path, AUTH_URL, CREDS, "RegionOne")
    text = path.read_text()
    assert f"export OS_AUTH_URL={AUTH_URL}\n" in text
    assert "export OS_PASSWORD='adm'\"'\"'in pw'\n" in text
    assert "export OS_IDENTITY_API_VERSION=3\n" in text
    assert stat.S_IMODE(path.stat().st_mode) == 0o600


def test_user_clouds_yaml_follows_xdg(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    assert clientconfig.user_clouds_yaml() == tmp_path / "openstack" / "clouds.yaml"


def test_under_sudo_the_invoking_users_home_is_used(monkeypatch: pytest.MonkeyPatch) -> None:
    import pwd

    someone = next((p for p in pwd.getpwall() if p.pw_uid != 0 and p.pw_dir not in ("", "/")), None)
    if someone is None:
        pytest.skip("no non-root user with a home directory on this machine")
    monkeypatch.setenv("SUDO_USER", someone.pw_name)
    assert clientconfig.user_clouds_yaml() == Path(someone.pw_dir) / ".config" / "openstack" / "clouds.yaml"
    monkeypatch.setenv("SUDO_USER", "root")
    monkeypatch.setenv("XDG_CONFIG_HOME", "/x")
    assert clientconfig.user_clouds_yaml() == Path("/x/openstack/clouds.yaml")
