"""One filter for the audit list, shared by the page, the export and the API."""

from datetime import datetime, time

from django import forms
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from .selectors import list_entries


class AuditFilterForm(forms.Form):
    action = forms.CharField(label=_("操作"), required=False, max_length=64)
    actor = forms.CharField(label=_("操作人"), required=False, max_length=150)
    target_type = forms.CharField(label=_("对象类型"), required=False, max_length=64)
    target_id = forms.CharField(label=_("对象ID"), required=False, max_length=64)
    since = forms.DateField(label=_("开始日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))
    until = forms.DateField(label=_("结束日期"), required=False, widget=forms.DateInput(attrs={"type": "date"}))

    def queryset(self):
        data = self.cleaned_data if self.is_valid() else {}
        tz = timezone.get_current_timezone()
        since = datetime.combine(data["since"], time.min, tz) if data.get("since") else None
        until = datetime.combine(data["until"], time.max, tz) if data.get("until") else None
        return list_entries(action=data.get("action", ""), actor=data.get("actor", ""),
                            target_type=data.get("target_type", ""), target_id=data.get("target_id", ""),
                            since=since, until=until)
