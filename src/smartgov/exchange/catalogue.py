"""The shape of one resource's metadata (GB/T 21063.3-2007 政务信息资源目录体系 第3部分：核心元数据):
资源摘要, 资源分类, 信息项 (data items, each with type, length and whether it is personal or
sensitive), 共享属性 (share type and condition), 开放属性, 更新周期, 依据, 资源格式, and how the resource
is served — by an internal provider adapter (``providers.ADAPTERS``) or by a department system's HTTP
endpoint. A published version is an immutable snapshot; agreements and calls name the version.

Resource codes follow the 前段码/后段码 layout of GB/T 21063.4-2007 (信息资源分类 + 部门代码 +
顺序号), written here as ``<分类>-<部门编码>-<5位顺序号>``, e.g. ``JC-SFC-GAJ-00001``.
"""

import re
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, field_validator, model_validator

CODE = re.compile(r"^(JC|ZT|BM)-[A-Z0-9-]{2,24}-\d{5}$")
KEY = re.compile(r"^[a-z][a-z0-9_]{0,39}$")

CATEGORIES = {"JC": "基础信息资源", "ZT": "主题信息资源", "BM": "部门信息资源"}
ITEM_TYPES = {"string": "字符型", "date": "日期型", "number": "数值型", "boolean": "布尔型", "code": "代码型"}
PARAM_TYPES = {"id_number": "公民身份号码", "uscc": "统一社会信用代码", "text": "文本", "code": "编码"}
OPEN_TYPES = {"open": "无条件开放", "conditional": "有条件开放", "closed": "不予开放"}
UPDATE_CYCLES = {"realtime": ("实时", 1), "daily": ("每日", 2), "weekly": ("每周", 8), "monthly": ("每月", 32),
                 "quarterly": ("每季度", 93), "yearly": ("每年", 367)}  # label, days allowed before stale
FORMATS = {"api": "接口", "database": "数据库", "file": "电子文件"}


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid")


class DataItem(_Strict):
    """信息项: one field a resource returns."""

    key: str
    name: str = Field(min_length=1, max_length=60)
    type: Literal["string", "date", "number", "boolean", "code"] = "string"
    length: int = Field(default=0, ge=0, le=4000)
    personal: bool = False  # 个人信息: masked unless the agreement grants it in clear
    sensitive: bool = False  # 敏感个人信息 (GB/T 35273 §3.2)
    check: Literal["", "id_number", "uscc", "mobile"] = ""  # core validator applied in the quality report

    @field_validator("key")
    @classmethod
    def _key(cls, v):
        if not KEY.match(v):
            raise ValueError("信息项代码应为小写字母开头的字母、数字、下划线")
        return v


class Param(_Strict):
    """A query parameter the consumer gives (e.g. the person's ID number)."""

    key: str
    name: str
    type: Literal["id_number", "uscc", "text", "code"] = "text"
    required: bool = True


class InternalProvider(_Strict):
    kind: Literal["internal"] = "internal"
    adapter: str


class HttpProvider(_Strict):
    kind: Literal["http"] = "http"
    url: str = Field(pattern=r"^https?://")
    timeout_ms: int = Field(default=0, ge=0, le=60_000)  # 0: the platform's EXCHANGE_PROVIDER_TIMEOUT_MS


class ResourceContent(_Strict):
    summary: str = Field(min_length=1, max_length=1000)
    category: Literal["JC", "ZT", "BM"] = "BM"
    items: list[DataItem] = Field(min_length=1)
    params: list[Param] = Field(min_length=1)
    share_condition: str = ""
    open_type: Literal["open", "conditional", "closed"] = "closed"
    update_cycle: Literal["realtime", "daily", "weekly", "monthly", "quarterly", "yearly"] = "realtime"
    legal_basis: str = ""
    format: Literal["api", "database", "file"] = "api"
    served_by: InternalProvider | HttpProvider = Field(discriminator="kind")
    events: list[str] = []  # change event types the provider publishes (订阅)

    @model_validator(mode="after")
    def _unique(self):
        for what, keys in (("信息项", [i.key for i in self.items]), ("查询参数", [p.key for p in self.params])):
            if len(set(keys)) != len(keys):
                raise ValueError(f"{what}代码重复")
        return self

    def item_keys(self) -> list[str]:
        return [i.key for i in self.items]

    def personal_keys(self) -> set[str]:
        return {i.key for i in self.items if i.personal or i.sensitive}
