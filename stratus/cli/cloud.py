"""The all-in-one composition: one bus, every service present, one API server each, bootstrapped identity."""

from __future__ import annotations

import logging
from collections.abc import Callable
from dataclasses import asdict, dataclass
from typing import Any

from stratus.cli.credentials import Credentials
from stratus.cli.registry import SERVICES, URL_OPTIONS, Service, configured_port, endpoint_path, load_class
from stratus.core.api.server import ApiServer
from stratus.core.config import Config

LOG = logging.getLogger(__name__)

Step = Callable[[str], None]
START_FIRST = {"network": 0}
"""Services whose workers start before the others' (lower first)."""


@dataclass(frozen=True)
class Endpoint:
    """A running service as the catalog, ``status`` and clients see it."""

    name: str
    service_type: str
    port: int
    url: str

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class Cloud:
    """Builds and runs every importable service in this process; ``stop()`` undoes ``start()`` in reverse."""

    def __init__(self, config: Config, credentials: Credentials):
        self.config = config
        self.credentials = credentials
        self.bus: Any = None
        self.services: list[Service] = []
        self.servers: list[ApiServer] = []
        self.endpoints: list[Endpoint] = []
        self._private_libvirt = False

    def _url(self, port: int, path: str) -> str:
        return f"http://{self.config.core.public_host}:{port}{path}"

    def start(self, step: Step | None = None) -> None:
        """Build the bus and services, bootstrap identity, start the API servers. Cleans up if any step fails."""
        report = step or (lambda _msg: None)
        try:
            self._build(report)
            self._bootstrap(report)
            # The network's host side first: guests compute's agent starts again need their taps on br-int.
            for service in sorted(self.services, key=lambda s: START_FIRST.get(s.name, 1)):
                start_workers = getattr(service, "start", None)
                if start_workers is not None:
                    report(f"starting the {service.name} workers")
                    start_workers()
            for service, endpoint in zip(self.services, self.endpoints, strict=True):
                report(f"starting the {service.name} API on port {endpoint.port}")
                server = ApiServer(service.name, service.app, self.config.core.bind_host, endpoint.port)
                server.start()
                self.servers.append(server)
                # APIs a service serves beside its catalog endpoint (compute's metadata API).
                for name, app, port in getattr(service, "extra_apps", ()):
                    report(f"starting the {name} API on port {port}")
                    extra = ApiServer(name, app, self.config.core.bind_host, port)
                    extra.start()
                    self.servers.append(extra)
            self._seed(report)
        except BaseException:
            self.stop()
            raise

    def _build(self, report: Step) -> None:
        from stratus.core.bus import Bus

        report(f"connecting to the message bus ({self.config.core.bus_url.split('@')[-1]})")
        self.bus = Bus(self.config.core.bus_url)
        config = self._prepare_hypervisor(self._wire(self.config), report)
        for spec in SERVICES:
            cls = load_class(spec)
            if cls is None:
                continue
            report(f"opening the {spec.name} service")
            try:
                service: Service = cls(config, self.bus)
            except ImportError as exc:  # a service whose parts are still being written
                LOG.warning("skipping %s: %s", spec.name, exc)
                continue
            self.services.append(service)
            url = self._url(service.port, endpoint_path(service, spec))
            self.endpoints.append(Endpoint(service.name, service.service_type, service.port, url))
        if not self.services:
            raise RuntimeError("no service could be loaded; check that the stratus package is installed completely")

    def _wire(self, config: Config) -> Config:
        """Fill in how the services find each other: API roots, the service user, the metadata secret.

        Every root is known before any service is built (from each one's configured port), since
        compute and network each need the other's. Options the config sets itself are kept.
        """
        overrides: dict[str, dict[str, Any]] = {}
        for spec in SERVICES:
            port = configured_port(spec, config) if load_class(spec) is not None else None
            if port is None:
                continue
            for section, option in URL_OPTIONS.get(spec.name, ()):
                overrides.setdefault(section, {})[option] = self._url(port, "")
        raw = config.to_toml_dict()
        if not raw.get("service_auth", {}).get("password"):
            overrides["service_auth"] = {"password": self.credentials.service_password}
        if not config.core.metadata_secret:
            overrides.setdefault("core", {})["metadata_secret"] = self.credentials.metadata_secret
        compute_port = _metadata_port(config)
        if compute_port is not None and "metadata_url" not in raw.get("network_agent", {}):
            overrides["network_agent"] = {"metadata_url": f"http://127.0.0.1:{compute_port}"}
        return config.with_overrides(**overrides)

    def _prepare_hypervisor(self, config: Config, report: Step) -> Config:
        """Start libvirtd (the state directory's own, by default) when this process runs libvirt agents."""
        try:
            from stratus.compute import conf as compute_conf
        except ImportError:
            return config
        agent = compute_conf.agent_config(config)
        if agent.fake_hosts == 0 or agent.libvirt_uri or compute_conf.resolve_driver(agent.driver) != "libvirt":
            return config
        from stratus.cli.hostdaemons import ensure_libvirt

        private = agent.libvirt_daemon == "private"
        report(f"starting libvirtd ({'private, under the state directory' if private else 'the system one'})")
        uri = ensure_libvirt(config.core.state_dir, private=private)
        self._private_libvirt = private
        agent_options: dict[str, Any] = {"libvirt_uri": uri}
        if private:
            from stratus.cli.hostdaemons import private_boot_id_file

            agent_options["boot_id_file"] = str(private_boot_id_file(config.core.state_dir))
        return config.with_overrides(compute_agent=agent_options)

    def _bootstrap(self, report: Step) -> None:
        identity = next((s for s in self.services if s.service_type == "identity"), None)
        if identity is None:
            LOG.warning("no identity service: skipping bootstrap (no users, no catalog)")
            return
        from stratus.identity import conf as identity_conf

        try:
            from stratus.identity.bootstrap import bootstrap
        except ImportError as exc:  # identity still being written: serve what exists
            LOG.warning("skipping bootstrap: %s", exc)
            return

        report("bootstrapping identity (domain, projects, users, roles, catalog)")
        bootstrap(
            identity,
            admin_password=self.credentials.admin_password,
            demo_password=self.credentials.demo_password,
            region=identity_conf.load(self.config).region,
            endpoints=[(e.service_type, e.name, e.url) for e in self.endpoints],
            service_users=[("stratus", self.credentials.service_password)] if self.credentials.service_password else [],
        )

    def _seed(self, report: Step) -> None:
        """Default flavors, and the public testvm image (built once, cached in the state directory)."""
        from stratus.cli.seed import ensure_flavors, ensure_testvm

        compute = next((e for e in self.endpoints if e.service_type == "compute"), None)
        if compute is not None and self.identity_url is not None:
            ensure_flavors(compute.url, self.identity_url, self.credentials.admin_password, report)
        network = next((e for e in self.endpoints if e.service_type == "network"), None)
        if network is not None and self.identity_url is not None and self.config.core.seed_networks:
            self._seed_networks(network.url, report)
        image = next((e for e in self.endpoints if e.service_type == "image"), None)
        if image is None or self.identity_url is None or not self.config.core.seed_images:
            return

        cache = self.config.core.state_dir / "testvm" / "testvm.qcow2"
        try:
            ensure_testvm(image.url, self.identity_url, self.credentials.admin_password, cache, report)
        except Exception as exc:  # the cloud still works without it; say how to get it
            LOG.error("could not register the testvm image (%s); run `stratus image build-testvm` to see why", exc)

    def _seed_networks(self, network_url: str, report: Step) -> None:
        from stratus.cli.seed_network import ensure_networks
        from stratus.network import conf as network_conf

        agent = network_conf.agent_config(self.config)
        network = network_conf.load(self.config)
        public_cidr = network.public_cidr or agent.external_cidr
        physnet = next(iter(agent.bridge_mappings), None) or next(iter(network.physnets), None)
        if not public_cidr or not physnet:
            LOG.info("no [network] public_cidr or [network_agent] external_cidr: not creating the public network")
            return
        try:
            ensure_networks(
                network_url,
                str(self.identity_url),
                admin_password=self.credentials.admin_password,
                demo_password=self.credentials.demo_password,
                external_cidr=public_cidr,
                physnet=physnet,
                report=report,
            )
        except Exception as exc:  # the cloud still works without them; say what failed
            LOG.error("could not create the public/private networks: %s", exc)

    @property
    def identity_url(self) -> str | None:
        """The Identity v3 URL clients authenticate at (None without an identity service)."""
        return next((e.url for e in self.endpoints if e.service_type == "identity"), None)

    def stop(self) -> None:
        """Stop the API servers, close the services and the bus; logs and carries on past any failure."""
        for server in reversed(self.servers):
            _quietly(f"stopping the {server.name} API", server.stop)
        for service in reversed(self.services):
            _quietly(f"closing the {service.name} service", service.close)
        if self.bus is not None:
            _quietly("closing the message bus", self.bus.close)
        if self._private_libvirt:
            from stratus.cli.hostdaemons import stop_libvirt

            _quietly(
                "stopping the private libvirtd", lambda: stop_libvirt(self.config.core.state_dir, keep_domains=True)
            )
            self._private_libvirt = False
        self.servers, self.services, self.bus = [], [], None


def _metadata_port(config: Config) -> int | None:
    try:
        from stratus.compute import conf as compute_conf
    except ImportError:
        return None
    return compute_conf.load(config).metadata_port


def _quietly(what: str, action: Callable[[], None]) -> None:
    try:
        action()
    except Exception:
        LOG.exception("error while %s", what)
