from tests.api.fixtures import (  # noqa: F401  (fixtures shared by the API-facing tests)
    api_settings,
    issuer,
    login,
    make_client,
    served_api,
    stripe_stand_in,
)
from tests.ops.conftest import sessions  # noqa: F401  (sessions on the session database)
from tests.workers.fixtures import worker_env  # noqa: F401  (worker settings of their own)
