from migrations.jobs.env_options import OPTIONS
from services.common.migrations import run_env
from services.jobs.models import metadata

run_env(metadata, **OPTIONS)
