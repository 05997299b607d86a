"""Every write of the one-stop service. Keyword-only, ``actor=``, atomic, audited.

One module per concern, the public names all here: ``catalogue`` (items, versions, bundles),
``library`` (the applicant's stored materials), ``applying`` (one item or a 一件事), ``proactive`` (免申即享
cases opened already decided), ``states`` (the case state machine), ``cases`` (the case actions on the workflow engine) and ``evaluation`` (好差评 and its
rectification tickets).
"""

from .applying import apply, apply_bundle
from .cases import (
    accept,
    close,
    deliver,
    end_special_procedure,
    issue_result,
    not_accept,
    provide_supplement,
    request_supplement,
    review,
    start_prereview,
    start_special_procedure,
    submit_draft,
    withdraw,
)
from .catalogue import create_bundle, create_item, implementation_code, parse_content, publish_item_version
from .counter import intake_at_counter, scan_original, walk_in_applicant
from .evaluation import evaluate, follow_up_rectification, reply_rectification
from .library import check_material, store_material
from .proactive import PROACTIVE_OUTCOMES, conclude_decided_case, open_decided_case
from .states import APPLICANT_ACTIONS, DELIVERY_METHODS, SPECIAL_PROCEDURES, STEP_NAMES, TRANSITIONS

__all__ = [
    "APPLICANT_ACTIONS", "DELIVERY_METHODS", "PROACTIVE_OUTCOMES", "SPECIAL_PROCEDURES", "STEP_NAMES", "TRANSITIONS", "accept", "apply",
    "apply_bundle", "check_material", "close", "conclude_decided_case", "create_bundle", "create_item", "deliver", "end_special_procedure",
    "evaluate", "follow_up_rectification", "implementation_code", "intake_at_counter", "issue_result", "not_accept", "open_decided_case", "parse_content",
    "provide_supplement", "publish_item_version", "reply_rectification", "request_supplement", "review",
    "scan_original", "start_prereview", "start_special_procedure", "store_material", "submit_draft", "walk_in_applicant",
    "withdraw",
]
