"""The schema's error documentation where drf-standardized-errors' falls short: our
AutoSchema (query parameters and their validation errors), the 401 codes simplejwt sends,
shapes it does not ship (413, 503), and the hook that documents non-field errors as they
are sent.

The envelope's `errors` field shares its name with `Serializer.errors`. DRF's metaclass
moves declared fields out of the class attributes, so the property is not shadowed at
run time, but the stubs see an override, hence the assignment ignores.
"""

from typing import Any

from drf_spectacular.utils import OpenApiExample
from drf_standardized_errors.openapi import AutoSchema as BaseAutoSchema
from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from drf_standardized_errors.openapi_utils import (
    get_flat_serializer_fields,
    get_serializer_fields_with_error_codes,
)
from rest_framework import pagination, serializers

from common.errors import DomainError


class AutoSchema(BaseAutoSchema):
    """drf-standardized-errors' schema, taught the query parameters a GET validates.

    A view names its query serializer in `query_serializer_class`. It documents the
    parameters (types, bounds, help texts) and the codes of their validation errors, which
    drf-standardized-errors derives only from request bodies and django-filter forms; a
    paginated list adds `invalid` on `page`."""

    def _query_serializer(self) -> serializers.Serializer | None:
        query = getattr(self.view, "query_serializer_class", None)
        return query() if query is not None and self.method == "GET" else None

    def get_override_parameters(self) -> list[Any]:
        query = self._query_serializer()
        return ([query] if query is not None else []) + super().get_override_parameters()

    def _get_extra_validation_errors(self) -> dict[str, set[str]]:
        codes: dict[str, set[str]] = {}
        query = self._query_serializer()
        if query is not None:
            for field in get_serializer_fields_with_error_codes(get_flat_serializer_fields(query)):
                codes.setdefault(field.name, set()).update(field.error_codes)
        if self.method == "GET" and isinstance(
            self._get_paginator(), pagination.PageNumberPagination
        ):
            # common.api.PageNumberPagination
            codes.setdefault("page", set()).add("invalid")
            codes.setdefault("page_size", set()).add("invalid")
        for name, extra in super()._get_extra_validation_errors().items():
            codes.setdefault(name, set()).update(extra)
        return codes


# The 401 codes: DRF's, and those simplejwt and users.authentication send.
ERROR_401_CODES = [
    "authentication_failed",
    "not_authenticated",
    "bad_authorization_header",
    "token_not_valid",
    "no_active_account",
    "user_not_found",
    "user_inactive",
    "password_changed",
]
ERROR_401_CODE_CHOICES = [(code, code) for code in ERROR_401_CODES]


class _ErrorItemSerializer(serializers.Serializer):
    """One item of the envelope's `errors`; subclasses declare what `code` may be."""

    code: serializers.Field = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class Error401Serializer(_ErrorItemSerializer):
    code = serializers.ChoiceField(choices=ERROR_401_CODE_CHOICES)


class ErrorResponse401Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error401Serializer(many=True)  # type: ignore[assignment]


class Error413Serializer(_ErrorItemSerializer):
    code = serializers.ChoiceField(choices=[("payload_too_large", "payload_too_large")])


class ErrorResponse413Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error413Serializer(many=True)  # type: ignore[assignment]


class Error503Serializer(_ErrorItemSerializer):
    pass  # `code` names the failure: unavailable, service_unavailable, stale, email_unavailable


class ErrorResponse503Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ServerErrorEnum.choices)
    errors = Error503Serializer(many=True)  # type: ignore[assignment]


_NON_FIELD_COMPONENT_SUFFIX = "NonFieldErrorsErrorComponent"


def non_field_errors_attr_null(result: dict[str, Any], **kwargs: Any) -> dict[str, Any]:
    """drf-spectacular postprocessing hook: an error that concerns no single field has
    `attr: null` (common.api.ExceptionFormatter), where drf-standardized-errors documents
    DRF's `"non_field_errors"`. A null cannot pick a schema through a discriminator, so the
    error unions holding such an error lose theirs and match by `attr` alone."""
    schemas = result.get("components", {}).get("schemas", {})
    for name, schema in schemas.items():
        if name.endswith(_NON_FIELD_COMPONENT_SUFFIX):
            schema["properties"]["attr"] = {
                "type": "string",
                "nullable": True,
                "enum": [None],
                "description": "null: the error concerns the request as a whole.",
            }
        mapping = schema.get("discriminator", {}).get("mapping", {})
        if schema.get("discriminator", {}).get("propertyName") == "attr" and any(
            target.endswith(_NON_FIELD_COMPONENT_SUFFIX) for target in mapping.values()
        ):
            del schema["discriminator"]
    return result


def error_example(title: str, error: type[DomainError]) -> OpenApiExample:
    """A response example of `error` as the envelope sends it: its code, default detail
    and field, under its status."""
    if error.status_code == 400:
        error_type = "validation_error"
    else:
        error_type = "client_error" if error.status_code < 500 else "server_error"
    item = {"code": error.code, "detail": str(error.default_detail), "attr": error.default_attr}
    return OpenApiExample(
        title,
        value={"type": error_type, "errors": [item]},
        response_only=True,
        status_codes=[str(error.status_code)],
    )
