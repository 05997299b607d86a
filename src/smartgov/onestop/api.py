from ninja import Router

router = Router(tags=["一网通办 onestop"])
