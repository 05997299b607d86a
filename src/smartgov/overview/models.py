from django.conf import settings
from django.db import models
from django.utils.translation import gettext_lazy as _


class Acknowledgement(models.Model):
    """A leader has seen an alert (已知悉): it leaves their rolling list, not anyone else's, and not the app's
    own handling (the alert is handled in its app)."""

    user = models.ForeignKey(settings.AUTH_USER_MODEL, verbose_name="领导", on_delete=models.CASCADE,
                             related_name="+")
    alert_key = models.CharField("告警标识", max_length=120)
    acknowledged_at = models.DateTimeField("知悉时间", auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "告警知悉"
        constraints = [models.UniqueConstraint(fields=["user", "alert_key"], name="overview_ack_once")]

    def __str__(self):
        return f"{self.user_id} · {self.alert_key}"


class Report(models.Model):
    """A weekly or monthly 运行报告 of one department's scope (the department and everything below it), kept
    as generated: the PDF and the Excel workbook, and the figures they were drawn from."""

    class Period(models.TextChoices):
        WEEK = "week", _("周报")
        MONTH = "month", _("月报")

    department = models.ForeignKey("accounts.Department", verbose_name="部门", on_delete=models.PROTECT,
                                   related_name="+")
    period = models.CharField("周期", max_length=8, choices=Period.choices)
    period_start = models.DateField("起始日")
    period_end = models.DateField("截止日")  # inclusive
    generated_at = models.DateTimeField("生成时间", auto_now_add=True)
    figures = models.JSONField("指标快照", default=dict)
    pdf = models.BinaryField("PDF")
    xlsx = models.BinaryField("Excel")

    class Meta:
        verbose_name = verbose_name_plural = "运行报告"
        ordering = ["-period_end", "department__path", "period"]
        constraints = [models.UniqueConstraint(fields=["department", "period", "period_start"],
                                               name="overview_report_once")]

    def __str__(self):
        return f"{self.department_id} · {self.period} · {self.period_start}"
