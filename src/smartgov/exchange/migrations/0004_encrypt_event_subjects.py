"""Backfill: events published before 0003 kept an ID-number subject in clear. Each such subject moves to
the encrypted column with its blind index, and ``subject`` keeps only the masked form. In batches; safe to
run twice (a masked subject is not an ID number any more, so a second run finds nothing)."""

from django.db import migrations

from smartgov.core.crypto import keys
from smartgov.core.masking import mask_id_number
from smartgov.core.validators import is_valid_id_number

BATCH = 1000


def encrypt_id_number_subjects(apps, schema_editor):
    Event = apps.get_model("exchange", "Event")
    last = 0
    while True:
        rows = list(Event.objects.filter(pk__gt=last, subject_id_number__isnull=True,
                                         subject__regex=r"^[0-9]{17}[0-9Xx]$").order_by("pk")[:BATCH])
        if not rows:
            return
        for event in rows:
            last = event.pk
            value = event.subject.strip().upper()
            if not is_valid_id_number(value, allow_residence_permit=True):
                continue
            event.subject_id_number = value
            event.subject_id_number_bidx = keys.blind_index(value, purpose="id_number")
            event.subject = mask_id_number(value)
            event.save(update_fields=["subject", "subject_id_number", "subject_id_number_bidx"])


class Migration(migrations.Migration):

    dependencies = [
        ("exchange", "0003_event_subject_encrypted"),
    ]

    operations = [
        migrations.RunPython(encrypt_id_number_subjects, migrations.RunPython.noop),
    ]
