from stratus.compute.models import ComputeBase
from stratus.core.db.migrate import run_env

run_env(ComputeBase.metadata)
