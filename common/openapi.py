"""Error response shapes that drf-standardized-errors does not ship (413, 503).

The envelope's `errors` field shares its name with `Serializer.errors`. DRF's metaclass
moves declared fields out of the class attributes, so the property is not shadowed at
run time, but the stubs see an override, hence the assignment ignores.
"""

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
