from django import forms

from .models import TrustLevel


class VerifyForm(forms.Form):
    p = forms.CharField(label="二维码内容", max_length=8192, widget=forms.Textarea(attrs={"rows": 4}))


class ReasonForm(forms.Form):
    action = forms.ChoiceField(choices=[("revoke", "吊销"), ("cancel", "注销")], label="操作")
    reason = forms.CharField(label="原因", max_length=500)


class IssueForm(forms.Form):
    """The officer's issue form: the holder's number, then the type's own face fields."""

    holder_code = forms.CharField(label="持证主体证件号码", max_length=32,
                                  help_text="自然人填公民身份号码，法人填统一社会信用代码")
    valid_from = forms.DateField(label="有效期起", required=False, widget=forms.DateInput(attrs={"type": "date"}))
    trust_level = forms.ChoiceField(label="可信等级", choices=TrustLevel.choices, initial=TrustLevel.A)

    def __init__(self, *args, licence_type, **kwargs):
        super().__init__(*args, **kwargs)
        self.licence_type = licence_type
        for spec in licence_type.field_template:
            self.fields[f"f_{spec['key']}"] = forms.CharField(label=spec["label"], required=bool(spec.get("required")),
                                                              max_length=500)

    def licence_data(self) -> dict:
        return {spec["key"]: self.cleaned_data.get(f"f_{spec['key']}", "")
                for spec in self.licence_type.field_template}
