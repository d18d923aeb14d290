from stratus.core.db.migrate import run_env
from stratus.image.models import ImageBase

run_env(ImageBase.metadata)
