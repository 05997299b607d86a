"""流程引擎: versioned process definitions, running instances with a working-day SLA clock, and tasks."""

from django.conf import settings
from django.db import models

from smartgov.core.permissions import Role


class Process(models.Model):
    """One version of a process definition. New versions never change running instances."""

    code = models.CharField("流程代码", max_length=40)
    version = models.PositiveIntegerField("版本")
    name = models.CharField("名称", max_length=100)
    definition = models.JSONField("定义")
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    created_by = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                   related_name="+", verbose_name="创建人")

    class Meta:
        verbose_name = verbose_name_plural = "流程定义"
        constraints = [models.UniqueConstraint(fields=["code", "version"], name="workflow_process_version")]
        ordering = ["code", "-version"]

    def __str__(self):
        return f"{self.name} v{self.version}"


class InstanceStatus(models.TextChoices):
    RUNNING = "running", "办理中"
    SUSPENDED = "suspended", "暂停计时"
    COMPLETED = "completed", "已办结"
    CANCELLED = "cancelled", "已终止"


class Outcome(models.TextChoices):
    APPROVE = "approve", "同意"
    REJECT = "reject", "不同意"


class Instance(models.Model):
    """A case running through a process (流程实例), with its statutory clock in working days."""

    process = models.ForeignKey(Process, on_delete=models.PROTECT, related_name="instances", verbose_name="流程")
    subject = models.CharField("办理对象", max_length=64, db_index=True)  # "onestop.application:123"
    title = models.CharField("标题", max_length=200)
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+",
                                   verbose_name="责任部门")
    status = models.CharField("状态", max_length=16, choices=InstanceStatus.choices, default=InstanceStatus.RUNNING)
    outcome = models.CharField("结果", max_length=16, choices=Outcome.choices, blank=True)
    reason = models.TextField("理由", blank=True)
    stage = models.PositiveSmallIntegerField("当前阶段", default=0)
    context = models.JSONField("表单数据", default=dict, blank=True)
    time_limit_days = models.PositiveSmallIntegerField("时限（工作日）")
    started_on = models.DateField("起算日")
    due_on = models.DateField("届满日")
    suspended_since = models.DateField("暂停计时起", null=True, blank=True)
    suspensions = models.JSONField("暂停计时记录", default=list, blank=True)  # [[first, last, reason], …]
    started_at = models.DateTimeField("开始时间", auto_now_add=True)
    completed_at = models.DateTimeField("办结时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "流程实例"
        indexes = [models.Index(fields=["status", "due_on"], name="workflow_inst_status_due"),
                   models.Index(fields=["department", "status"], name="workflow_inst_dept_status")]

    def __str__(self):
        return self.title


class TaskStatus(models.TextChoices):
    OPEN = "open", "待办"
    DONE = "done", "已办"
    WITHDRAWN = "withdrawn", "已撤回"


class Task(models.Model):
    """One step of one instance for one department and role (待办/已办)."""

    instance = models.ForeignKey(Instance, on_delete=models.CASCADE, related_name="tasks", verbose_name="实例")
    step_key = models.CharField("环节", max_length=40)
    name = models.CharField("环节名称", max_length=100)
    stage = models.PositiveSmallIntegerField("阶段")
    department = models.ForeignKey("accounts.Department", on_delete=models.PROTECT, related_name="+",
                                   verbose_name="办理部门")
    role = models.CharField("办理角色", max_length=16, choices=Role.choices)
    assignee = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                                 related_name="workflow_tasks", verbose_name="指定办理人")
    status = models.CharField("状态", max_length=16, choices=TaskStatus.choices, default=TaskStatus.OPEN)
    outcome = models.CharField("意见", max_length=16, choices=Outcome.choices, blank=True)
    opinion = models.TextField("办理意见", blank=True)
    actor = models.ForeignKey(settings.AUTH_USER_MODEL, null=True, blank=True, on_delete=models.PROTECT,
                              related_name="+", verbose_name="办理人")
    escalated = models.BooleanField("已督办升级", default=False)
    due_on = models.DateField("环节届满日", null=True, blank=True)
    opened_at = models.DateTimeField("开始时间", auto_now_add=True)
    completed_at = models.DateTimeField("完成时间", null=True, blank=True)

    class Meta:
        verbose_name = verbose_name_plural = "流程任务"
        ordering = ["instance_id", "stage", "id"]
        indexes = [models.Index(fields=["department", "status", "role"], name="workflow_task_queue")]

    def __str__(self):
        return f"{self.instance} · {self.name}"
