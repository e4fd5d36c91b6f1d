from tests.api.fixtures import (  # noqa: F401  (the API fixtures, for PUT /credentials)
    admin_headers,
    api_settings,
    issuer,
    login,
    make_client,
    stripe_stand_in,
)
