"""Error response shapes that drf-standardized-errors does not ship (413, 503), and the
schema hook that documents non-field errors as they are sent.

The envelope's `errors` field shares its name with `Serializer.errors`. DRF's metaclass
moves declared fields out of the class attributes, so the property is not shadowed at
run time, but the stubs see an override, hence the assignment ignores.
"""

from typing import Any

from drf_standardized_errors.openapi_serializers import ClientErrorEnum, ServerErrorEnum
from rest_framework import serializers


class Error413Serializer(serializers.Serializer):
    code = serializers.ChoiceField(choices=[("payload_too_large", "payload_too_large")])
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


class ErrorResponse413Serializer(serializers.Serializer):
    type = serializers.ChoiceField(choices=ClientErrorEnum.choices)
    errors = Error413Serializer(many=True)  # type: ignore[assignment]


class Error503Serializer(serializers.Serializer):
    code = serializers.CharField()
    detail = serializers.CharField()
    attr = serializers.CharField(allow_null=True)


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
