"""The base model every app's models extend."""

from django.db import models


class TimeStampedModel(models.Model):
    created_at = models.DateTimeField("创建时间", auto_now_add=True)
    updated_at = models.DateTimeField("更新时间", auto_now=True)

    class Meta:
        abstract = True


class JobOrigin(models.Model):
    """The request that queued a background job, so the worker's log lines carry that request's id
    (``core.logs``). Written when the job is queued during a request, removed when it has run."""

    task_id = models.CharField(max_length=64, primary_key=True)
    request_id = models.CharField(max_length=32)
    created_at = models.DateTimeField(auto_now_add=True)

    class Meta:
        verbose_name = verbose_name_plural = "后台任务来源请求"

    def __str__(self):
        return f"{self.task_id} ← {self.request_id}"
