from ninja import Router

router = Router(tags=["智能粮库 grain"])
