from stratus.core.db.migrate import run_env
from stratus.network.models import NetworkBase

run_env(NetworkBase.metadata)
