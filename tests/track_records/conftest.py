from tests.api.fixtures import (  # noqa: F401  (fixtures shared by the API-facing tests)
    admin_headers,
    api,
    api_settings,
    issuer,
    login,
    make_client,
    stripe_stand_in,
)
