"""一网通办 pages: the service hall and guides, applying (one item or a 一件事), 我的办件 and the case
page for applicants; the officer's queue and case page, rectification tickets and the measures.

Views read through ``selectors``, validate input, call one ``services`` function and show its Chinese
message on failure (``DomainError``); permissions through ``require``/``has_perm``.
"""

from .applying import bundle_apply, bundle_material_review, item_apply, item_material_review
from .cases import (
    case_detail,
    case_evaluate,
    case_supplement,
    case_withdraw,
    material_file,
    mine,
    notice_pdf,
    notice_verify,
)
from .counter import counter_intake, counter_material_review
from .evaluation import dashboard, rectification_act, rectifications
from .hall import hall, item_guide, item_plan
from .work import work_act, work_by_id, work_case, work_check_material, work_queue

__all__ = [
    "bundle_apply",
    "bundle_material_review",
    "case_detail",
    "case_evaluate",
    "case_supplement",
    "case_withdraw",
    "counter_intake",
    "counter_material_review",
    "dashboard",
    "hall",
    "item_apply",
    "item_guide",
    "item_material_review",
    "item_plan",
    "material_file",
    "mine",
    "notice_pdf",
    "notice_verify",
    "rectification_act",
    "rectifications",
    "work_act",
    "work_by_id",
    "work_case",
    "work_check_material",
    "work_queue",
]
