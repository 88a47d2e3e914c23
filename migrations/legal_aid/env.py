from services.common.migrations import run_env
from services.legal_aid.models import metadata

run_env(metadata)
