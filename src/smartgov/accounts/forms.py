from django import forms
from django.utils.translation import gettext_lazy as _


class PasswordLoginForm(forms.Form):
    username = forms.CharField(label=_("用户名"), max_length=150,
                               widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "username"}))
    password = forms.CharField(label=_("密码"), strip=False,
                               widget=forms.PasswordInput(attrs={"autocomplete": "current-password"}))


class OneTimeCodeForm(forms.Form):
    code = forms.RegexField(label=_("动态口令"), regex=r"^\s*\d{6}\s*$", max_length=8,
                            error_messages={"invalid": _("请输入6位数字动态口令")},
                            widget=forms.TextInput(attrs={"autofocus": True, "autocomplete": "one-time-code",
                                                          "inputmode": "numeric"}))
