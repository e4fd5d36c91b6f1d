from tests.api.fixtures import (  # noqa: F401  (the API fixtures, for PUT /credentials)
    api_settings,
    issuer,
    login,
    make_client,
    stripe_stand_in,
)
