from django import forms
from django.utils.translation import gettext_lazy as _

from .models import EnterpriseStatus


class PersonForm(forms.Form):
    name = forms.CharField(label=_("姓名"), max_length=100)
    id_number = forms.CharField(label=_("公民身份号码"), max_length=32,
                                help_text=_("18位，性别与出生日期由号码自动得出"))
    nationality = forms.CharField(label=_("国籍"), max_length=3, initial="CHN")
    region_code = forms.CharField(label=_("住址行政区划代码"), max_length=6, required=False,
                                  help_text=_("6位数字（GB/T 2260）"))
    address = forms.CharField(label=_("住址"), max_length=200, required=False)
    phone = forms.CharField(label=_("手机号"), max_length=20, required=False)


class EnterpriseForm(forms.Form):
    name = forms.CharField(label=_("名称"), max_length=200)
    uscc = forms.CharField(label=_("统一社会信用代码"), max_length=32)
    legal_representative_id_number = forms.CharField(label=_("法定代表人公民身份号码"), max_length=32, required=False,
                                                     help_text=_("须已在人口库登记"))
    region_code = forms.CharField(label=_("住所行政区划代码"), max_length=6, required=False)
    address = forms.CharField(label=_("住所"), max_length=200, required=False)
    established_on = forms.DateField(label=_("成立日期"), required=False,
                                     widget=forms.DateInput(attrs={"type": "date"}))


class EnterpriseStatusForm(forms.Form):
    status = forms.ChoiceField(label=_("状态"), choices=EnterpriseStatus.choices)


class ImportForm(forms.Form):
    kind = forms.ChoiceField(label=_("导入内容"), choices=[("persons", _("自然人（人口库）")),
                                                           ("enterprises", _("法人（法人库）"))])
    file = forms.FileField(label=_("文件（.xlsx 或 .csv）"))
    mode = forms.ChoiceField(label=_("有错误时"), widget=forms.RadioSelect, initial="all", choices=[
        ("all", _("全部不导入（默认）：先修正文件，再整体导入")),
        ("valid", _("只导入有效行：有错误的行不导入，列入错误报告")),
    ])


def apply_domain_error(form, exc) -> None:
    """Show a service's InvalidInput/Conflict on the form: field errors where the service named a field."""
    detail = exc.detail if isinstance(exc.detail, dict) else {}
    placed = False
    for field, messages in detail.items():
        if field in form.fields:
            for message in messages if isinstance(messages, list) else [messages]:
                form.add_error(field, str(message))
            placed = True
    if not placed:
        form.add_error(None, exc.message)
