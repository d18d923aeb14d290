from stratus.core.db.migrate import run_env
from stratus.identity.models import IdentityBase

run_env(IdentityBase.metadata)
