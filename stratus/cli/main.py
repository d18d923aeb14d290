"""The ``stratus`` command line (typer): ``up``, ``down``, ``status``, ``serve`` and service helpers."""

from __future__ import annotations

from pathlib import Path
from typing import Annotated, Any

import typer
from rich.console import Console

from stratus.cli import lifecycle
from stratus.cli import status as cloud_status
from stratus.cli.paths import StatePaths
from stratus.core.config import Config, ConfigError, load_config

app = typer.Typer(
    help="Stratus: a private IaaS cloud speaking the OpenStack APIs.",
    no_args_is_help=True,
    pretty_exceptions_enable=False,
)
identity_app = typer.Typer(help="Identity service tasks.", no_args_is_help=True)
image_app = typer.Typer(help="Image service tasks.", no_args_is_help=True)
app.add_typer(identity_app, name="identity")
app.add_typer(image_app, name="image")
testbed_app = typer.Typer(
    help="A cloud of N compute hosts as network namespaces on this machine (root).", no_args_is_help=True
)
app.add_typer(testbed_app, name="testbed")
host_app = typer.Typer(
    help="Compute hosts of this controller: admit one, then `stratus join` it.", no_args_is_help=True
)
app.add_typer(host_app, name="host")

console = Console()
err_console = Console(stderr=True)

ConfigOption = Annotated[
    Path | None, typer.Option("--config", help="Config file (default: $STRATUS_CONFIG or /etc/stratus/stratus.toml).")
]


def _config(path: Path | None) -> Config:
    try:
        return load_config(path)
    except ConfigError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None


def _check_state_dir(config: Config) -> None:
    state_dir = config.core.state_dir
    try:
        state_dir.mkdir(parents=True, exist_ok=True)
        probe = state_dir / ".write-test"
        probe.touch()
        probe.unlink()
    except PermissionError:
        err_console.print(
            f"[red]Cannot write to the state directory {state_dir}.[/] Run as root (`sudo make up`) or set "
            "core.state_dir in a config file named by STRATUS_CONFIG."
        )
        raise typer.Exit(1) from None


def _print_summary(config: Config) -> None:
    paths = StatePaths(config.core.state_dir)
    cloud_status.render(console, cloud_status.collect(paths), paths)
    written = lifecycle.write_user_client_files(config, Path.cwd())
    if written:
        console.print("Client configuration written: " + ", ".join(str(p) for p in written))
        console.print(
            f"Admin and demo passwords are in {paths.credentials}. Try: `openstack --os-cloud stratus token issue` "
            "or `source stratus-openrc; openstack catalog list`."
        )


@app.command()
def up(
    config_file: ConfigOption = None,
    foreground: Annotated[bool, typer.Option("--foreground", help="Stay attached and log to the terminal.")] = False,
) -> None:
    """Start the all-in-one cloud in the background; return once every API answers."""
    config = _config(config_file)
    paths = StatePaths(config.core.state_dir)
    current = cloud_status.collect(paths)
    if current.running:
        cloud_status.render(console, current, paths)
        return
    _check_state_dir(config)
    if foreground:
        lifecycle.configure_logging(config.core.log_level)
        lifecycle.serve(config, on_ready=lambda _cloud: _print_summary(config))
        return
    try:
        lifecycle.start_background(config, console)
    except lifecycle.StartFailed as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    _print_summary(config)


@app.command()
def down(config_file: ConfigOption = None) -> None:
    """Stop the cloud started by `stratus up` (or a foreground `stratus serve`)."""
    config = _config(config_file)
    pid = lifecycle.stop_background(config)
    console.print("Stratus was not running." if pid is None else f"Stratus (pid {pid}) stopped.")


@app.command()
def status(config_file: ConfigOption = None) -> None:
    """Show each running service, its URL and whether its API answers (exit 3 when the cloud is not running)."""
    config = _config(config_file)
    paths = StatePaths(config.core.state_dir)
    current = cloud_status.collect(paths)
    cloud_status.render(console, current, paths)
    if not current.running:
        raise typer.Exit(3)
    if not current.healthy:
        raise typer.Exit(1)


@app.command()
def serve(
    config_file: ConfigOption = None,
    role: Annotated[
        str,
        typer.Option(
            "--role",
            help="all: every service and this host's agents (default); controller: APIs, scheduler, network "
            "server and OVN central (NB/SB also on TCP); compute: this host's compute and network agents only.",
        ),
    ] = "all",
) -> None:
    """Run this host's part of the cloud in the foreground until SIGTERM or Ctrl-C."""
    from stratus.cli import roles

    try:
        roles.check_role(role)
    except roles.RoleError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    config = _config(config_file)
    lifecycle.configure_logging(config.core.log_level)
    try:
        roles.serve(config, role)
    except lifecycle.daemon.AlreadyRunning as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None


@identity_app.command("rotate-keys")
def rotate_keys(config_file: ConfigOption = None) -> None:
    """Rotate the Fernet token keys (staged key becomes primary; the oldest secondary is dropped)."""
    from stratus.identity import conf as identity_conf
    from stratus.identity.tokens import keys

    config = _config(config_file)
    identity = identity_conf.load(config)
    repo = identity_conf.key_repository(config, identity)
    primary = keys.rotate(repo, identity.max_active_keys)
    console.print(f"Fernet keys in {repo} rotated: key {primary} is now primary (a running cloud picks it up).")


@image_app.command("build-testvm")
def build_testvm(
    output: Annotated[Path, typer.Option("--output", help="Where to write the qcow2 image.")] = Path("testvm.qcow2"),
) -> None:
    """Build the small test guest image from the host's Debian packages (no internet needed)."""
    from stratus.cli.progress import progress_bar
    from stratus.image.testvm.builder import build_testvm as build

    with progress_bar(console) as progress:
        task = progress.add_task("building the test VM", total=1.0)

        def report(step: str, fraction: float) -> None:
            progress.update(task, description=step, completed=fraction)

        try:
            path = build(output, progress=report)
        except Exception as exc:  # the builder's errors say which package or tool is missing
            err_console.print(f"[red]Building the test VM failed: {exc}[/]")
            raise typer.Exit(1) from None
    console.print(f"Test VM image written to {path}")


TestbedRoot = Annotated[
    Path, typer.Option("--state-dir", help="Where test beds keep their state (one directory per test bed).")
]
TestbedId = Annotated[str | None, typer.Option("--id", help="The test bed (default: the only one under --state-dir).")]


def _testbed_plan(state_dir: Path, testbed_id: str | None) -> Any:
    from stratus.cli.testbed_plan import load_plan

    try:
        return load_plan(state_dir, testbed_id)
    except (LookupError, ValueError) as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(3) from None


@testbed_app.command("up")
def testbed_up(
    hosts: Annotated[int, typer.Option("--hosts", min=1, help="Number of compute hosts (namespaces).")] = 2,
    state_dir: TestbedRoot = Path("/var/lib/stratus-testbed"),
    testbed_id: Annotated[
        str | None, typer.Option("--id", help="Name it (stb + 4 hex digits); default random.")
    ] = None,
) -> None:
    """Start a controller and N compute hosts in namespaces (PostgreSQL + RabbitMQ of this machine)."""
    from stratus.cli import testbed
    from stratus.cli.testbed_sys import TestbedError

    try:
        plan = testbed.up(state_dir, hosts, console.print, testbed_id=testbed_id)
    except (TestbedError, ValueError) as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    d = plan.directory
    console.print(f"[green]Test bed {plan.id} is up[/]: controller {plan.controller_ip}, hosts "
                  + ", ".join(f"{h.name} ({h.address.split('/')[0]})" for h in plan.hosts))  # fmt: skip
    console.print(
        f"Use it: `export OS_CLIENT_CONFIG_FILE={d}/clouds.yaml` then `openstack --os-cloud stratus-demo server list` "
        f"(admin: --os-cloud stratus), or `source {d}/demo-openrc`. Host consoles: "
        f"`ip netns exec {plan.hosts[0].namespace} ...`. Stop: `stratus testbed down --id {plan.id}`."
    )


@testbed_app.command("down")
def testbed_down(state_dir: TestbedRoot = Path("/var/lib/stratus-testbed"), testbed_id: TestbedId = None) -> None:
    """Stop every process of the test bed and remove its namespaces, links, databases, vhost and files."""
    from stratus.cli import testbed
    from stratus.cli.testbed_sys import TestbedError

    plan = _testbed_plan(state_dir, testbed_id)
    try:
        testbed.down(plan, console.print)
    except TestbedError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"Test bed {plan.id} removed.")


@testbed_app.command("status")
def testbed_status(state_dir: TestbedRoot = Path("/var/lib/stratus-testbed"), testbed_id: TestbedId = None) -> None:
    """Show the controller and each host: namespace, process, compute service up/down (exit 1 if not all up)."""
    from rich.table import Table

    from stratus.cli import testbed

    plan = _testbed_plan(state_dir, testbed_id)
    relay, controller, hosts = testbed.status(plan)
    state = {True: "running", False: "NOT running"}
    console.print(
        f"Test bed {plan.id}: controller {plan.controller_ip} ({state[controller]}), RabbitMQ relay {state[relay]}, "
        f"clouds.yaml {plan.directory / 'clouds.yaml'}"
    )
    table = Table("host", "namespace", "process", "compute service")
    for h in hosts:
        table.add_row(h.name, "yes" if h.namespace else "MISSING", "alive" if h.process else "DEAD", h.compute)
    console.print(table)
    if not (relay and controller and all(h.namespace and h.process and h.compute == "up" for h in hosts)):
        raise typer.Exit(1)


@host_app.command("admit")
def host_admit(
    hostname: Annotated[str, typer.Argument(help="The new host's name ([core] host, chassis and compute host).")],
    config_file: ConfigOption = None,
    ttl: Annotated[float, typer.Option("--ttl", help="Seconds the token stays valid.")] = 3600.0,
    quiet: Annotated[bool, typer.Option("--quiet", "-q", help="Print the token alone.")] = False,
) -> None:
    """Admit HOSTNAME: print a one-time join token for it (run on the controller, as its owner)."""
    from stratus.cli.join_api import load as join_conf
    from stratus.cli.join_tokens import AdmissionStore

    config = _config(config_file)
    _check_state_dir(config)
    try:
        token = AdmissionStore(config.core.state_dir).admit(hostname, ttl)
    except ValueError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(2) from None
    if quiet:
        print(token)
        return
    url = f"http://{config.core.public_host}:{join_conf(config).port}"
    console.print(f"Host {hostname} admitted; its one-time join token (valid {ttl:.0f} s, shown once):")
    print(token)
    console.print(f"On {hostname}: sudo stratus join {url} --token <token> --hostname {hostname} "
                  "--underlay-cidr <addr/prefix> --underlay-interface <nic>", soft_wrap=True)  # fmt: skip


@host_app.command("list")
def host_list(config_file: ConfigOption = None) -> None:
    """The admitted hosts: when, until when the token is valid, and whether it was used."""
    import time

    from rich.table import Table

    from stratus.cli.join_tokens import AdmissionStore

    config = _config(config_file)
    table = Table("host", "admitted", "token expires", "joined")
    stamp = lambda t: time.strftime("%Y-%m-%d %H:%M:%S", time.localtime(t)) if t else "-"  # noqa: E731
    for a in AdmissionStore(config.core.state_dir).list():
        table.add_row(a.hostname, stamp(a.admitted_at), stamp(a.expires_at), stamp(a.joined_at))
    console.print(table)


@app.command("join")
def join(
    controller_url: Annotated[str, typer.Argument(help="The controller's join API, e.g. http://10.0.0.1:8779.")],
    token: Annotated[
        str, typer.Option("--token", envvar="STRATUS_JOIN_TOKEN", help="From `stratus host admit` on the controller.")
    ],
    hostname: Annotated[str | None, typer.Option("--hostname", help="This host's name (default: hostname).")] = None,
    underlay_cidr: Annotated[str, typer.Option("--underlay-cidr", help="Tunnel address/prefix for br-phy.")] = "",
    underlay_interface: Annotated[str, typer.Option("--underlay-interface", help="NIC that carries it.")] = "",
    encap_ip: Annotated[str, typer.Option("--encap-ip", help="Tunnel address, when not moved onto br-phy.")] = "",
    state_dir: Annotated[Path, typer.Option("--state-dir", help="This host's state directory.")] = Path(
        "/var/lib/stratus"
    ),
    config_out: Annotated[Path, typer.Option("--config-file", help="Where to write this host's config.")] = Path(
        "/etc/stratus/stratus.toml"
    ),
    install: Annotated[bool, typer.Option("--install/--no-install", help="Install the Debian packages.")] = True,
    start: Annotated[bool, typer.Option("--start/--no-start", help="Then run the compute role here.")] = True,
) -> None:
    """Join a controller as a compute host: fetch its settings with the token, write the config, serve."""
    import socket

    from stratus.cli import join as joining

    name = hostname or socket.gethostname()
    try:
        if install:
            joining.install_packages()
        settings = joining.fetch_settings(controller_url, name, token)
        config = joining.host_config(settings, name, state_dir.absolute(), underlay_cidr=underlay_cidr,
                                     underlay_interface=underlay_interface, encap_ip=encap_ip)  # fmt: skip
        joining.write_config(config_out, config)
    except (joining.JoinError, ValueError, OSError) as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"Joined as {name}; configuration written to {config_out}.")
    if start:
        console.print(f"Starting: stratus serve --role compute --config {config_out}")
        joining.exec_compute(config_out)


@testbed_app.command("join")
def testbed_join(state_dir: TestbedRoot = Path("/var/lib/stratus-testbed"), testbed_id: TestbedId = None) -> None:
    """Add one more compute host with `stratus host admit` + `stratus join` (removed by `testbed down`)."""
    from stratus.cli import testbed
    from stratus.cli.testbed_sys import TestbedError

    plan = _testbed_plan(state_dir, testbed_id)
    try:
        host = testbed.add_host(plan, console.print)
    except TestbedError as exc:
        err_console.print(f"[red]{exc}[/]")
        raise typer.Exit(1) from None
    console.print(f"[green]Host {host.name} joined test bed {plan.id}[/] ({host.address.split('/')[0]}).")


if __name__ == "__main__":
    app()
