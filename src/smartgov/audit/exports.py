"""Excel export of audit entries (审计日志导出), streamed row by row in openpyxl's write-only mode."""

import io

from django.utils import timezone
from openpyxl import Workbook

HEADERS = ["序号", "时间", "操作人", "角色", "操作", "对象类型", "对象ID", "对象", "变更内容", "来源IP", "请求ID", "哈希"]


def entries_to_xlsx(queryset, *, limit: int = 200_000) -> bytes:
    wb = Workbook(write_only=True)
    ws = wb.create_sheet("审计日志")
    ws.append(HEADERS)
    tz = timezone.get_current_timezone()
    for e in queryset.order_by("seq")[:limit].iterator(chunk_size=5000):
        ws.append([e.seq, e.at.astimezone(tz).strftime("%Y-%m-%d %H:%M:%S"), e.actor, e.actor_role, e.action,
                   e.target_type, e.target_id, e.target_label, e.changes, e.ip, e.request_id, e.hash_hex])
    buf = io.BytesIO()
    wb.save(buf)
    return buf.getvalue()
