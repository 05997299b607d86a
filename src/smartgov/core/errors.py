"""One error shape for the whole platform: ``{"code": ..., "message": <中文>, "detail": ...}``.

Services raise these; the API turns them into JSON with the right status, pages into friendly error
pages, and commands into a sentence and a non-zero exit code.
"""

from typing import Any

from django.core.exceptions import ValidationError


class DomainError(Exception):
    status = 400
    code = "bad_request"
    message = "请求无效"

    def __init__(self, message: str | None = None, *, code: str | None = None, detail: Any = None,
                 status: int | None = None):
        self.message = message or self.message
        self.code = code or self.code
        self.detail = detail
        if status is not None:
            self.status = status
        super().__init__(self.message)

    def as_dict(self) -> dict[str, Any]:
        return {"code": self.code, "message": self.message, "detail": self.detail}


class InvalidInput(DomainError):
    status = 422
    code = "invalid_input"
    message = "提交的数据未通过校验"


class NotAuthenticated(DomainError):
    status = 401
    code = "not_authenticated"
    message = "请先登录"


class Forbidden(DomainError):
    status = 403
    code = "forbidden"
    message = "您没有执行此操作的权限"


class NotFound(DomainError):
    status = 404
    code = "not_found"
    message = "未找到该记录"


class Conflict(DomainError):
    status = 409
    code = "conflict"
    message = "与现有数据冲突"


def validated(instance, exclude=None, **options):
    """``instance.full_clean()``, with a model ValidationError turned into the API's 422 InvalidInput
    (field → messages in ``detail``). Every service validates models this one way."""
    try:
        instance.full_clean(exclude=exclude, **options)
    except ValidationError as exc:
        raise InvalidInput(detail=exc.message_dict) from exc


def patch_changes(payload, *, nullable=()) -> dict:
    """The fields a PATCH body sets, refusing an explicit ``null`` for a field that cannot be empty (422
    rather than the database's IntegrityError). ``nullable`` names the fields ``null`` may clear."""
    changes = payload.dict(exclude_unset=True)
    nulls = sorted(k for k, v in changes.items() if v is None and k not in nullable)
    if nulls:
        raise InvalidInput("这些字段不能为空（null）", code="null_not_allowed", detail={"fields": nulls})
    return changes
