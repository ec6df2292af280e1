"""OpenAPI schema extensions (drf-spectacular): how the API authenticates, described once."""
from drf_spectacular.extensions import OpenApiAuthenticationExtension
from drf_spectacular.plumbing import build_bearer_security_scheme_object


class CoopTokenScheme(OpenApiAuthenticationExtension):
    target_class = "coopmarket.authentication.TokenAuthentication"
    name = "tokenAuth"

    def get_security_definition(self, auto_schema):
        return build_bearer_security_scheme_object(header_name="Authorization", token_prefix="Token")
