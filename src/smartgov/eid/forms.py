from django import forms
from django.utils.translation import gettext_lazy as _


class CitizenRegisterForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=100)
    id_number = forms.CharField(label=_("公民身份号码"), max_length=18, min_length=18)
    phone = forms.CharField(label=_("手机号"), max_length=20)
    password = forms.CharField(label=_("密码"), strip=False, widget=forms.PasswordInput, min_length=10)
    password2 = forms.CharField(label=_("确认密码"), strip=False, widget=forms.PasswordInput)

    def clean(self):
        data = super().clean()
        if data.get("password") != data.get("password2"):
            raise forms.ValidationError(_("两次输入的密码不一致"))
        return data


class CitizenLoginForm(forms.Form):
    identifier = forms.CharField(label=_("身份证号或EID"), max_length=20)
    password = forms.CharField(label=_("密码"), strip=False, widget=forms.PasswordInput)


class PayloadForm(forms.Form):
    payload = forms.CharField(label=_("EID二维码内容"), widget=forms.Textarea(attrs={"rows": 4}))
