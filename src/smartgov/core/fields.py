"""Personal data at rest: SM4-GCM ciphertext plus an HMAC-SM3 blind index for exact lookup.

    id_number = EncryptedField("身份证号", purpose="id_number", normalize=normalize_id_number)
    id_number_bidx = BlindIndexField(source="id_number")

The model attribute holds the clear value in memory; the column holds ``v{key version}:{base64}``.
Lookups go through the blind index (``Model.objects.filter(**blind_lookup(Model, "id_number", v))``),
never through the ciphertext, which is randomised. Rotation is lazy: a row written under an old key
version stays readable and is re-encrypted with the current version the next time it is saved
(``smartgov reencrypt`` sweeps up rows not written since the newest version was added).
"""

from collections.abc import Callable

from django.core.exceptions import FieldError
from django.db import models

from .crypto import keys


class EncryptedField(models.TextField):
    description = "SM4-GCM encrypted text"

    def __init__(self, *args, purpose: str, normalize: Callable[[str], str] | None = None, **kwargs):
        self.purpose = purpose
        self.normalize = normalize
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["purpose"] = self.purpose
        return name, path, args, kwargs

    def from_db_value(self, value, expression, connection):
        if value is None or value == "":
            return value
        return keys.decrypt_field(value, purpose=self.purpose)

    def to_python(self, value):
        if value is None or value == "":
            return value
        value = str(value).strip()
        return self.normalize(value) if self.normalize else value

    def get_prep_value(self, value):
        value = self.to_python(value)
        if value is None or value == "":
            return value
        return keys.encrypt_field(value, purpose=self.purpose)

    def get_lookup(self, lookup_name):
        if lookup_name == "isnull":
            return super().get_lookup(lookup_name)
        raise FieldError(f"{self.name} is encrypted; look it up through its blind index (blind_lookup)")


class BlindIndexField(models.CharField):
    """HMAC-SM3 of the normalised clear value of ``source``; indexed for exact-match lookup."""

    def __init__(self, *args, source: str, **kwargs):
        self.source = source
        kwargs.setdefault("max_length", 64)
        kwargs.setdefault("editable", False)
        kwargs.setdefault("db_index", True)
        kwargs.setdefault("blank", True)
        kwargs.setdefault("default", "")
        super().__init__(*args, **kwargs)

    def deconstruct(self):
        name, path, args, kwargs = super().deconstruct()
        kwargs["source"] = self.source
        for k in ("max_length", "editable", "db_index", "blank", "default"):
            kwargs.pop(k, None)
        return name, path, args, kwargs

    def pre_save(self, model_instance, add):
        source_field = model_instance._meta.get_field(self.source)
        value = source_field.to_python(getattr(model_instance, self.source))
        digest = keys.blind_index(value, purpose=source_field.purpose) if value else ""
        setattr(model_instance, self.attname, digest)
        return digest


def blind_lookup(model, field_name: str, value: str) -> dict[str, str]:
    """Filter kwargs matching ``value`` exactly on encrypted ``field_name`` through its blind index."""
    field = model._meta.get_field(field_name)
    for f in model._meta.fields:
        if isinstance(f, BlindIndexField) and f.source == field_name:
            normalized = field.to_python(value)
            return {f.attname: keys.blind_index(normalized, purpose=field.purpose)}
    raise FieldError(f"{model.__name__}.{field_name} has no BlindIndexField")
